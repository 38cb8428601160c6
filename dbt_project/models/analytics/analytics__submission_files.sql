{{ config(alias='submission_files') }}
-- The analytics surface (R15): the files written for the bureau (210 and corrections), with the
-- records of a 210 per reporting occasion (R19). A view: the publication after a submission run shows the ledger as it is then.
with per_code as (
    select
        file_name,
        count(*) filter (where rpt_date_code = '10') as records_10_opened,
        count(*) filter (where rpt_date_code = '31') as records_31_first_report,
        count(*) filter (where rpt_date_code = '30') as records_30_monthly,
        count(*) filter (where rpt_date_code = '32') as records_32_closed
    from {{ source('audit', 'bureau_records') }}
    group by file_name
)
select
    files.submission_month,
    files.file_name,
    files.record_type,
    files.serial,
    files.written_order,
    files.generated_at,
    files.report_months,
    files.records,
    coalesce(per_code.records_10_opened, 0) as records_10_opened,
    coalesce(per_code.records_31_first_report, 0) as records_31_first_report,
    coalesce(per_code.records_30_monthly, 0) as records_30_monthly,
    coalesce(per_code.records_32_closed, 0) as records_32_closed,
    files.sha256
from {{ source('audit', 'bureau_files') }} as files
left join per_code using (file_name)
