{{ monthly_incremental() }}
-- The reporting mart without personal data, for the dashboard and analysts (R15): records and
-- amounts per month, product, reporting-occasion code, month status and five-level class.
select
    report_month,
    product,
    report_reason_code,
    month_status,
    five_level_class,
    cast(count(*) as bigint) as records,
    cast(count(distinct customer_id) as bigint) as customers,
    cast(sum(balance) as decimal(18, 2)) as balance,
    cast(sum(overdue_amount) as decimal(18, 2)) as overdue_amount
from {{ ref('credit_report_monthly') }}
where {{ in_rebuild_window('report_month') }}
group by all
