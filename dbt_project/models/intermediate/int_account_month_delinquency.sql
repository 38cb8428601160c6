{{ monthly_incremental() }}
-- R9, R13, P3, P10: month-end delinquency and amounts per reportable account-month (only what is
-- reported needs them; coverage reads balances from int_account_months).
-- At month end, bills due before the last day (P3) are due; the FIFO-covered ones are a prefix of
-- them (P4), so: overdue_periods = bills due - bills covered, counting only bills with an amount
-- (charged_seq; P11: a 0.00 bill is never past due), overdue_amount = total due - paid,
-- days_past_due from the oldest uncovered bill's due date to the last day. ASOF joins (engines/) find the
-- prefixes without expanding bills x months.
with spine as (
    select * from {{ ref('int_reportable_account_months') }}
    where {{ in_rebuild_window('report_month') }}
),

spine_bills as (  -- the spine's accounts only: the prefixes below run over all of their history
    select * from {{ ref('int_bill_coverage') }}
    where account_id in (select account_id from spine)
),

{% if rebuilding_window() -%}
{#- Of the bills settled before the window, the window's months need only each account's last: it
    has the largest bill_seq, charged_seq and cumulative_due of them, every prefix below reaches it, and the
    oldest unpaid bill comes after. -#}
last_settled as (
    select account_id, max(bill_seq) as bill_seq
    from spine_bills
    where {{ settled_before_window() }}
    group by account_id
),

bills as (
    select * from spine_bills
    where not {{ settled_before_window() }}
    union all
    select spine_bills.* from spine_bills
    where exists (
        select 1 from last_settled
        where last_settled.account_id = spine_bills.account_id and last_settled.bill_seq = spine_bills.bill_seq
    )
),
{%- else -%}
bills as (
    select * from spine_bills
),
{%- endif %}

repayments as (
    select * from {{ ref('stg_landing__repayments') }}
    where account_id in (select account_id from spine)
),

paid_by_month as (
    select account_id, paid_month, sum(amount) as amount_paid
    from repayments
    where {{ in_rebuild_window('paid_month') }}
    group by account_id, paid_month
),

paid_before_window as (  -- a monthly run's running totals start from here (empty in a full build)
    select account_id, sum(amount) as amount_paid
    from repayments
    where not {{ in_rebuild_window('paid_month') }}
    group by account_id
),

paid_running as (
    select
        account_id,
        paid_month,
        amount_paid,
        sum(amount_paid) over (partition by account_id order by paid_month rows unbounded preceding) as paid_to_date
    from paid_by_month
),

due_prefix as (  -- per due date: how many bills, and how much, are due up to it
    select account_id, due_date, max(charged_seq) as bills_due, max(cumulative_due) as total_due
    from bills
    group by account_id, due_date
),

covered_prefix as (  -- per cumulative total: how many bills with an amount it covers
    select account_id, cumulative_due, max(charged_seq) as bills_covered
    from bills
    group by account_id, cumulative_due
),

due_in_month as (
    select
        account_id,
        due_month,
        sum(amount_due) as amount_due,
        -- M: a bill due this month covered after its due date, yet by the month's end
        bool_or(covered_on > due_date and covered_on <= last_day(due_month)) as any_paid_late_within_month
    from bills
    group by account_id, due_month
),

spine_months as (  -- the prefixes below need only these; the spine's other columns join back at the end
    select account_id, report_month, month_end from spine
),

paid_in_window as (
    {{ asof_left_join('spine_months', 'paid_running', ['account_id'], 'report_month', '>=', 'paid_month',
        ['paid_running.paid_to_date as paid_in_window']) }}
),

with_paid as (
    select
        paid_in_window.*,
        coalesce(paid_before_window.amount_paid, 0) + coalesce(paid_in_window.paid_in_window, 0) as paid_to_date
    from paid_in_window
    left join paid_before_window on paid_in_window.account_id = paid_before_window.account_id
),

with_due as (
    {{ asof_left_join('with_paid', 'due_prefix', ['account_id'], 'month_end', '>', 'due_date', [
        'coalesce(due_prefix.bills_due, 0) as bills_due',
        'coalesce(due_prefix.total_due, 0) as total_due',
    ]) }}
),

with_covered as (
    {{ asof_left_join('with_due', 'covered_prefix', ['account_id'], 'paid_to_date', '>=', 'cumulative_due',
        ['coalesce(covered_prefix.bills_covered, 0) as bills_covered']) }}
),

delinquency as (
    select
        *,
        greatest(bills_due - bills_covered, 0) as overdue_periods,
        greatest(total_due - paid_to_date, 0) as overdue_amount
    from with_covered
)

select
    spine.*,
    cast(coalesce(due_in_month.amount_due, 0) as decimal(18, 2)) as amount_due,
    cast(coalesce(paid_by_month.amount_paid, 0) as decimal(18, 2)) as amount_paid,
    cast(
        case when delinquency.overdue_periods > 0 then {{ dbt.datediff('oldest_unpaid.due_date', 'delinquency.month_end', 'day') }} else 0 end
        as integer
    ) as days_past_due,
    cast(delinquency.overdue_periods as integer) as overdue_periods,
    cast(delinquency.overdue_amount as decimal(18, 2)) as overdue_amount,
    coalesce(due_in_month.any_paid_late_within_month, false) as paid_late_within_month
from spine
inner join delinquency
    on spine.account_id = delinquency.account_id
    and spine.report_month = delinquency.report_month
left join bills as oldest_unpaid
    on delinquency.account_id = oldest_unpaid.account_id
    and oldest_unpaid.charged_seq = delinquency.bills_covered + 1
    and oldest_unpaid.amount_due > 0
left join due_in_month
    on delinquency.account_id = due_in_month.account_id
    and delinquency.report_month = due_in_month.due_month
left join paid_by_month
    on delinquency.account_id = paid_by_month.account_id
    and delinquency.report_month = paid_by_month.paid_month
