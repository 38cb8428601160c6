{{ monthly_incremental() }}
{{ config(post_hook="{{ refresh_identity_before_window() }}") }}
-- The consent-filtered reporting mart (contracts/marts.md): one row per reportable account and
-- month (R3) and no other, with identity from the latest customer version (P2, R15 allows it here).
with reportable as (
    select * from {{ ref('int_account_month_status') }}
    where {{ in_rebuild_window('report_month') }}
),

history as (
    select * from {{ ref('int_repayment_history') }}
    where {{ in_rebuild_window('report_month') }}
),

customers as (
    select customer_id, id_number, full_name from {{ ref('stg_landing__customers') }}
)

select
    reportable.report_month,
    reportable.account_id,
    reportable.customer_id,
    reportable.product,
    case reportable.product when 'HUABEI' then 'R1' when 'JIEBEI' then 'D1' end as account_type,
    customers.id_number,
    customers.full_name,
    reportable.opened_on,
    cast(reportable.credit_limit as decimal(18, 2)) as credit_limit,
    cast(reportable.balance as decimal(18, 2)) as balance,
    reportable.amount_due,
    reportable.amount_paid,
    reportable.days_past_due,
    reportable.overdue_periods,
    reportable.overdue_amount,
    reportable.month_status,
    history.repayment_history_24m,
    reportable.five_level_class,
    reportable.account_status,
    reportable.is_closing_month as is_final_report,
    reportable.report_reason_code,
    reportable.consent_agreement_id,
    reportable.consent_signed_at
from reportable
inner join history using (account_id, report_month)
left join customers using (customer_id)
