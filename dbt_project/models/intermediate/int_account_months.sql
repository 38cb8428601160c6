{{ monthly_incremental() }}
-- R2, R3, P1: every account in every reporting month it is open at some point in (opened in or
-- before the month, not closed before it), with opening and closing from the latest version, and
-- the month-end snapshot's limit and balance. A row holds only what is true of its month (the
-- closing as a flag), so kept months stay right.
select
    accounts.account_id,
    accounts.customer_id,
    accounts.product,
    accounts.opened_on,
    accounts.opened_month,
    months.report_month,
    months.month_end,
    coalesce(accounts.closed_month = months.report_month, false) as is_closing_month,
    snapshots.credit_limit,
    snapshots.outstanding_balance as balance
from {{ ref('stg_landing__accounts') }} as accounts
inner join {{ ref('int_reporting_months') }} as months
    on accounts.opened_month <= months.report_month
    and (accounts.closed_month is null or accounts.closed_month >= months.report_month)
left join {{ ref('stg_landing__account_snapshots') }} as snapshots
    on accounts.account_id = snapshots.account_id
    and months.report_month = snapshots.snapshot_month
where {{ in_rebuild_window('months.report_month') }}
