{{ config(alias='submission_months') }}
-- The analytics surface (R15): per reporting month built, whether its submission ran, and its
-- records as the mart has them: held by the bureau (sent, less what corrections deleted), not
-- sent yet, and of those the ones held back by the checks.
with sent as (
    select account_id, report_month
    from {{ source('audit', 'bureau_view') }}
),
built as (
    select
        mart.report_month,
        count(*) as records_in_mart,
        count(*) filter (where sent.account_id is null) as records_not_sent
    from {{ ref('credit_report_monthly') }} as mart
    left join sent using (account_id, report_month)
    group by mart.report_month
),
files as (
    select report_month, count(distinct file_name) as files
    from {{ source('audit', 'bureau_records') }}
    where record_type = '210'
    group by report_month
),
held as (
    select report_month, count(*) as records_held
    from {{ source('audit', 'submission_holds') }}
    group by report_month
)
select
    built.report_month,
    submitted.month is not null as submitted,
    submitted.submitted_at,
    built.records_in_mart,
    built.records_in_mart - built.records_not_sent as records_sent,
    built.records_not_sent,
    coalesce(held.records_held, 0) as records_held,
    coalesce(files.files, 0) as files
from built
left join {{ source('audit', 'submitted_months') }} as submitted on submitted.month = built.report_month
left join files using (report_month)
left join held using (report_month)
