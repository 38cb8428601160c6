-- R8, P4: repayments go to an account's bills oldest first (due date, then bill id). Bill i is
-- covered once the account's cumulative payments reach the total due of bills 1..i, so
-- prepayments and overpayments carry forward. Set-based: running sums and an ASOF join.
-- Only for the accounts whose customer consented for the product: the only ones reported (R3).
with consented_accounts as (
    select accounts.account_id
    from {{ ref('stg_landing__accounts') }} as accounts
    semi join {{ ref('int_consent_windows') }} as consent using (customer_id, product)
),

bills as (
    select
        bill_id,
        account_id,
        statement_date,
        due_date,
        due_month,
        amount_due,
        row_number() over by_due as bill_seq,
        sum(amount_due) over by_due as cumulative_due
    from {{ ref('stg_landing__bills') }}
    semi join consented_accounts using (account_id)
    window by_due as (partition by account_id order by due_date, bill_id rows unbounded preceding)
),

repayments as (
    select * from {{ ref('stg_landing__repayments') }}
    semi join consented_accounts using (account_id)
),

payments as (
    select
        account_id,
        paid_on,
        sum(amount) over (
            partition by account_id order by paid_at, repayment_id rows unbounded preceding
        ) as cumulative_paid
    from repayments
),

paid_in_total as (
    select account_id, sum(amount) as total_paid
    from repayments
    group by account_id
),

-- the first payment that brings the running total up to the bill's cumulative due
covering_payment as (
    select
        bills.*,
        payments.paid_on as covering_paid_on
    from bills
    asof left join payments
        on bills.account_id = payments.account_id
        and bills.cumulative_due <= payments.cumulative_paid
)

select
    covering_payment.bill_id,
    covering_payment.account_id,
    covering_payment.statement_date,
    covering_payment.due_date,
    covering_payment.due_month,
    covering_payment.amount_due,
    covering_payment.bill_seq,
    covering_payment.cumulative_due,
    -- nothing owed up to this bill: covered as it is issued
    case
        when covering_payment.cumulative_due <= 0 then covering_payment.statement_date
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
