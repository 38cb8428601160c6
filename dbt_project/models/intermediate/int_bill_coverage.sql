{{ monthly_incremental(none, pre_hook="{{ delete_bills_to_recompute() }}") }}
-- R8, P4: repayments go to an account's bills oldest first (due date, then bill id). Bill i is
-- covered once the account's cumulative payments reach the total due of bills 1..i, so
-- prepayments and overpayments carry forward. Set-based: running sums and an ASOF join (engines/dispatched.sql).
-- P11: a bill of 0.00 asks for nothing: covered as it is issued, and not counted among the bills
-- with an amount (charged_seq), so it is never a past-due period nor paid late.
-- Only for the accounts whose customer consented for the product: the only ones reported (R3).
-- A monthly run keeps the bills settled before the window (the pre-hook deletes the others) and
-- covers the rest from each account's last kept bill on: they follow it in the due order, and
-- their covering payments come no earlier than the one that covered it.
with consented_accounts as (
    {{ consented_accounts() }}
),

last_kept as (  -- per account, the last bill kept, as the place to go on from (none in a full build)
{%- if rebuilding_window() %}
    select
        account_id,
        max(bill_seq) as bill_seq,
        max(charged_seq) as charged_seq,
        max(cumulative_due) as cumulative_due,
        arg_max(due_date, bill_seq) as due_date,
        arg_max(bill_id, bill_seq) as bill_id,
        -- the day of the payment that covered it; nothing owed up to it: any payment may come first
        arg_max(case when cumulative_due > 0 then covered_on end, bill_seq) as paid_from
    from {{ this }}
    group by account_id
{%- else %}
    select
        cast(null as {{ dbt.type_string() }}) as account_id,
        cast(null as bigint) as bill_seq,
        cast(null as bigint) as charged_seq,
        cast(null as decimal(18, 2)) as cumulative_due,
        cast(null as date) as due_date,
        cast(null as {{ dbt.type_string() }}) as bill_id,
        cast(null as date) as paid_from
    where false
{%- endif %}
),

bills as (
    select
        bills.bill_id,
        bills.account_id,
        bills.statement_date,
        bills.due_date,
        bills.due_month,
        bills.amount_due,
        coalesce(last_kept.bill_seq, 0) + row_number() over by_due as bill_seq,
        coalesce(last_kept.charged_seq, 0) + count(*) filter (where bills.amount_due > 0) over by_due as charged_seq,
        coalesce(last_kept.cumulative_due, 0) + sum(bills.amount_due) over by_due as cumulative_due
    from {{ ref('stg_landing__bills') }} as bills
    left join last_kept using (account_id)
    where bills.account_id in (select account_id from consented_accounts)
        and (
            last_kept.account_id is null
            or bills.due_date > last_kept.due_date
            or (bills.due_date = last_kept.due_date and bills.bill_id > last_kept.bill_id)
        )
    window by_due as (partition by bills.account_id order by bills.due_date, bills.bill_id rows unbounded preceding)
),

repayments as (
    select repayments.*, coalesce(last_kept.paid_from, date '0001-01-01') as paid_from
    from {{ ref('stg_landing__repayments') }} as repayments
    left join last_kept using (account_id)
    where repayments.account_id in (select account_id from consented_accounts)
),

paid_in_total as (
    select
        account_id,
        sum(amount) as total_paid,
        coalesce(sum(amount) filter (where paid_on < paid_from), 0) as paid_before
    from repayments
    group by account_id
),

payments as (  -- the payments that may cover a bill recomputed here, with the account's running total
    select
        repayments.account_id,
        repayments.paid_on,
        paid_in_total.paid_before + sum(repayments.amount) over (
            partition by repayments.account_id order by repayments.paid_at, repayments.repayment_id
            rows unbounded preceding
        ) as cumulative_paid
    from repayments
    inner join paid_in_total using (account_id)
    where repayments.paid_on >= repayments.paid_from
),

-- the first payment that brings the running total up to the bill's cumulative due
covering_payment as (
    {{ asof_left_join('bills', 'payments', ['account_id'], 'cumulative_due', '<=', 'cumulative_paid',
        ['payments.paid_on as covering_paid_on']) }}
)

select
    covering_payment.bill_id,
    covering_payment.account_id,
    covering_payment.statement_date,
    covering_payment.due_date,
    covering_payment.due_month,
    covering_payment.amount_due,
    covering_payment.bill_seq,
    covering_payment.charged_seq,
    covering_payment.cumulative_due,
    -- nothing owed by this bill (P11) or up to it: covered as it is issued
    case
        when covering_payment.amount_due = 0 or covering_payment.cumulative_due <= 0 then covering_payment.statement_date
        else covering_payment.covering_paid_on
    end as covered_on,
    -- what FIFO has allocated to this bill out of everything paid so far
    cast(least(
        covering_payment.amount_due,
        greatest(
            coalesce(paid_in_total.total_paid, 0) - (covering_payment.cumulative_due - covering_payment.amount_due), 0
        )
    ) as decimal(18, 2)) as allocated_amount
from covering_payment
left join paid_in_total using (account_id)
