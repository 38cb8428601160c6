-- R3, completeness: every account-month that may be reported is in the mart. Recomputed from
-- staging and the loaded months: an open account (opened in or before the month, not closed
-- before it) whose customer signed a CREDIT_REPORTING_AUTH for the product or ALL by the month.
with months as (
    select distinct batch_month as report_month
    from {{ source('audit', 'load_batches') }}
    where status in ('LOADED', 'LOADED_WITH_QUARANTINE')
),

expected as (
    select distinct months.report_month, accounts.account_id
    from {{ ref('stg_landing__accounts') }} as accounts
    inner join months
        on accounts.opened_month <= months.report_month
        and coalesce(accounts.closed_month, months.report_month) >= months.report_month
    inner join {{ ref('stg_landing__agreements') }} as agreements
        on agreements.customer_id = accounts.customer_id
        and agreements.document_code = 'CREDIT_REPORTING_AUTH'
        and agreements.product in (accounts.product, 'ALL')
        and agreements.signed_month <= months.report_month
)

select expected.report_month, expected.account_id
from expected
left join {{ ref('credit_report_monthly') }} as report using (report_month, account_id)
where report.account_id is null
