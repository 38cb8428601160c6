-- The benchmark's baseline: the two marts (credit_report_monthly, fct_rollout_coverage) from the
-- raw tables in one hand-written DuckDB script: no framework, no tests, no checks, the same rules
-- (DOMAIN.md) as the dbt models, with the shortcuts a one-off script can take: delinquency only for
-- the account-months that are reported, no intermediate table that is not needed twice.
-- Reads raw.<file> (as the loader or bench/baseline/load.sql writes them); writes baseline.*.
create schema if not exists baseline;

create or replace temp table months as
select distinct _batch_month as report_month, last_day(_batch_month) as month_end
from raw.account_snapshots;

create or replace temp table accounts as
select
    account_id, customer_id, product, opened_at, closed_at,
    cast(timezone('Asia/Shanghai', opened_at) as date) as opened_on,
    cast(date_trunc('month', timezone('Asia/Shanghai', opened_at)) as date) as opened_month,
    cast(timezone('Asia/Shanghai', closed_at) as date) as closed_on,
    cast(date_trunc('month', timezone('Asia/Shanghai', closed_at)) as date) as closed_month
from raw.accounts
qualify row_number() over (
    partition by account_id order by updated_at desc, _batch_month desc, _source_row desc) = 1;

create or replace temp table consents as
with authorizations as (
    select agreement_id, customer_id, product as signed_for, signed_at
    from raw.agreements
    where document_code = 'CREDIT_REPORTING_AUTH' and signed_at is not null
    qualify row_number() over (partition by agreement_id order by _batch_month desc, _source_row desc) = 1
)
select
    customer_id, products.product, agreement_id as consent_agreement_id, signed_at as consent_signed_at,
    cast(date_trunc('month', timezone('Asia/Shanghai', signed_at)) as date) as consent_month
from authorizations
inner join (values ('HUABEI'), ('JIEBEI')) as products (product)
    on authorizations.signed_for in (products.product, 'ALL')
qualify row_number() over (partition by customer_id, products.product order by signed_at, agreement_id) = 1;

-- one row per account and month: each batch sends its own month once
create or replace temp view snapshots as
select account_id, snapshot_month, credit_limit, outstanding_balance
from raw.account_snapshots;

-- every active account-month (R2, P1), its month-end snapshot, and its consent if it is reportable
create or replace temp table account_months as
select
    accounts.account_id, accounts.customer_id, accounts.product, accounts.opened_on, accounts.opened_month,
    months.report_month, months.month_end,
    coalesce(accounts.closed_month = months.report_month, false) as is_closing_month,
    snapshots.credit_limit, snapshots.outstanding_balance as balance,
    consents.consent_agreement_id, consents.consent_signed_at, consents.consent_month
from accounts
inner join months
    on accounts.opened_month <= months.report_month
    and (accounts.closed_month is null or accounts.closed_month >= months.report_month)
left join snapshots
    on snapshots.account_id = accounts.account_id and snapshots.snapshot_month = months.report_month
left join consents
    on consents.customer_id = accounts.customer_id and consents.product = accounts.product
    and consents.consent_month <= months.report_month;

-- R8, P4: FIFO coverage of bills by cumulative payments; P11: a 0.00 bill is covered as issued and
-- not counted among the bills with an amount (charged_seq)
create or replace temp table repayments as
select
    account_id, paid_at, repayment_id, amount,
    cast(timezone('Asia/Shanghai', paid_at) as date) as paid_on,
    cast(date_trunc('month', timezone('Asia/Shanghai', paid_at)) as date) as paid_month
from raw.repayments
qualify row_number() over (partition by repayment_id order by _batch_month desc, _source_row desc) = 1;

create or replace temp table bills as
with consented as (  -- only their bills are ever reported
    select account_id from accounts semi join consents using (customer_id, product)
),
deduplicated as (
    select bill_id, account_id, statement_date, due_date, cast(date_trunc('month', due_date) as date) as due_month,
        amount_due
    from raw.bills
    qualify row_number() over (partition by bill_id order by _batch_month desc, _source_row desc) = 1
),
numbered as (
    select *,
        row_number() over by_due as bill_seq,
        count(*) filter (where amount_due > 0) over by_due as charged_seq,
        sum(amount_due) over by_due as cumulative_due
    from deduplicated
    semi join consented using (account_id)
    window by_due as (partition by account_id order by due_date, bill_id rows unbounded preceding)
),
payments as (
    select account_id, paid_on,
        sum(amount) over (partition by account_id order by paid_at, repayment_id rows unbounded preceding)
            as cumulative_paid
    from repayments
    semi join consented using (account_id)
)
select numbered.*,
    case when numbered.amount_due = 0 or numbered.cumulative_due <= 0 then numbered.statement_date
        else payments.paid_on end as covered_on
from numbered
asof left join payments
    on numbered.account_id = payments.account_id and numbered.cumulative_due <= payments.cumulative_paid;

-- R9, R10, R12, R13, P3, P6: month-end delinquency and status, for the reportable months only
create or replace temp table reportable as
with spine as (
    select * from account_months where consent_month is not null
),
paid_by_month as (
    select account_id, paid_month, sum(amount) as amount_paid from repayments semi join spine using (account_id)
    group by all
),
paid_running as (
    select *, sum(amount_paid) over (partition by account_id order by paid_month rows unbounded preceding)
        as paid_to_date
    from paid_by_month
),
due_prefix as (
    select account_id, due_date, max(charged_seq) as bills_due, max(cumulative_due) as total_due
    from bills group by all
),
covered_prefix as (
    select account_id, cumulative_due, max(charged_seq) as bills_covered from bills group by all
),
due_in_month as (
    select account_id, due_month, sum(amount_due) as amount_due,
        bool_or(covered_on > due_date and covered_on <= last_day(due_month)) as paid_late_within_month
    from bills group by all
),
positions as (
    select spine.*,
        coalesce(paid_running.paid_to_date, 0) as paid_to_date,
        coalesce(due_prefix.bills_due, 0) as bills_due,
        coalesce(due_prefix.total_due, 0) as total_due
    from spine
    asof left join paid_running
        on spine.account_id = paid_running.account_id and spine.report_month >= paid_running.paid_month
    asof left join due_prefix
        on spine.account_id = due_prefix.account_id and spine.month_end > due_prefix.due_date
),
covered as (
    select positions.*, coalesce(covered_prefix.bills_covered, 0) as bills_covered
    from positions
    asof left join covered_prefix
        on positions.account_id = covered_prefix.account_id and positions.paid_to_date >= covered_prefix.cumulative_due
),
measured as (
    select
        covered.*,
        greatest(bills_due - bills_covered, 0) as overdue_periods,
        cast(greatest(total_due - paid_to_date, 0) as decimal(18, 2)) as overdue_amount,
        cast(case when bills_due > bills_covered then covered.month_end - oldest_unpaid.due_date else 0 end
            as integer) as days_past_due,
        cast(coalesce(due_in_month.amount_due, 0) as decimal(18, 2)) as amount_due,
        cast(coalesce(paid_by_month.amount_paid, 0) as decimal(18, 2)) as amount_paid,
        coalesce(due_in_month.paid_late_within_month, false) as paid_late_within_month
    from covered
    left join bills as oldest_unpaid
        on covered.account_id = oldest_unpaid.account_id and oldest_unpaid.charged_seq = covered.bills_covered + 1
        and oldest_unpaid.amount_due > 0
    left join due_in_month
        on covered.account_id = due_in_month.account_id and covered.report_month = due_in_month.due_month
    left join paid_by_month
        on covered.account_id = paid_by_month.account_id and covered.report_month = paid_by_month.paid_month
)
select
    *,
    case
        when is_closing_month then 'C'
        when overdue_periods > 0 then
            case
                when days_past_due <= 30 then '1' when days_past_due <= 60 then '2'
                when days_past_due <= 90 then '3' when days_past_due <= 120 then '4'
                when days_past_due <= 150 then '5' when days_past_due <= 180 then '6' else '7'
            end
        when paid_late_within_month then 'M'
        when amount_due = 0 and amount_paid = 0 and coalesce(balance, 0) = 0 then '*'
        else 'N'
    end as month_status,
    case
        when days_past_due = 0 then 'NORMAL' when days_past_due <= 90 then 'SPECIAL_MENTION'
        when days_past_due <= 270 then 'SUBSTANDARD' when days_past_due <= 360 then 'DOUBTFUL' else 'LOSS'
    end as five_level_class,
    case when is_closing_month then 'CLOSED' when overdue_periods > 0 then 'OVERDUE' else 'NORMAL' end
        as account_status,
    case
        when is_closing_month then '32' when report_month = opened_month then '10'
        when report_month = consent_month then '31' else '30'
    end as report_reason_code
from measured;

-- R5, R11: the 24-month history string, '/' for every month without a record
create or replace table baseline.credit_report_monthly as
with calendar as (
    select account_id,
        cast(unnest(generate_series(min(report_month), max(report_month), interval 1 month)) as date) as report_month
    from reportable group by account_id
),
histories as (
    select calendar.account_id, calendar.report_month, reportable.month_status is not null as has_record,
        lpad(array_to_string(list(coalesce(reportable.month_status, '/')) over (
            partition by calendar.account_id order by calendar.report_month
            rows between 23 preceding and current row), ''), 24, '/') as repayment_history_24m
    from calendar
    left join reportable using (account_id, report_month)
),
customers as (
    select customer_id, id_number, full_name
    from raw.customers
    qualify row_number() over (
        partition by customer_id order by updated_at desc, _batch_month desc, _source_row desc) = 1
)
select
    reportable.report_month, reportable.account_id, reportable.customer_id, reportable.product,
    case reportable.product when 'HUABEI' then 'R1' when 'JIEBEI' then 'D1' end as account_type,
    customers.id_number, customers.full_name, reportable.opened_on,
    cast(reportable.credit_limit as decimal(18, 2)) as credit_limit,
    cast(reportable.balance as decimal(18, 2)) as balance,
    reportable.amount_due, reportable.amount_paid, reportable.days_past_due,
    cast(reportable.overdue_periods as integer) as overdue_periods, reportable.overdue_amount,
    reportable.month_status, histories.repayment_history_24m, reportable.five_level_class,
    reportable.account_status, reportable.is_closing_month as is_final_report, reportable.report_reason_code,
    reportable.consent_agreement_id, reportable.consent_signed_at
from reportable
inner join histories using (account_id, report_month)
left join customers using (customer_id);

-- R16, R17, P9: the rollout per customer and product
create or replace temp table rollout as
with first_invitation as (
    select customer_id, product, wave as first_wave, invited_at as first_invited_at,
        cast(timezone('Asia/Shanghai', invited_at) as date) as first_invited_on
    from (
        select * from raw.invitations
        qualify row_number() over (partition by invitation_id order by _batch_month desc, _source_row desc) = 1
    )
    qualify row_number() over (partition by customer_id, product order by invited_at, invitation_id) = 1
),
customer_products as (
    select customer_id, product from accounts
    union select customer_id, product from first_invitation
    union select customer_id, product from consents
),
opt_outs as (
    select accounts.customer_id, accounts.product, min(accounts.closed_at) as opted_out_at
    from accounts
    inner join first_invitation using (customer_id, product)
    left join consents using (customer_id, product)
    where accounts.closed_at >= first_invitation.first_invited_at
      and accounts.closed_on - first_invitation.first_invited_on <= 60
      and (consents.consent_signed_at is null or consents.consent_signed_at > accounts.closed_at)
    group by all
)
select
    customer_products.customer_id, customer_products.product, first_invitation.first_invited_on,
    cast(timezone('Asia/Shanghai', consents.consent_signed_at) as date) as consented_on,
    case
        when consents.consent_signed_at is not null
            and (first_invitation.first_invited_at is null or consents.consent_signed_at < first_invitation.first_invited_at)
            then 'pre-rollout'
        when first_invitation.first_invited_at is not null then 'wave ' || first_invitation.first_wave
        else 'not invited'
    end as wave_label,
    cast(timezone('Asia/Shanghai', opt_outs.opted_out_at) as date) as opted_out_on,
    least(
        (select min(opened_month) from accounts as a
         where a.customer_id = customer_products.customer_id and a.product = customer_products.product),
        cast(date_trunc('month', first_invitation.first_invited_on) as date),
        cast(date_trunc('month', timezone('Asia/Shanghai', consents.consent_signed_at)) as date)
    ) as entry_month
from customer_products
left join first_invitation using (customer_id, product)
left join consents using (customer_id, product)
left join opt_outs using (customer_id, product);

-- R18, P2: the cohort of every customer-product-month as of the month end, and the coverage cube
create or replace table baseline.fct_rollout_coverage as
with history as (
    select customer_id, birth_date, province_code, cast(timezone('Asia/Shanghai', registered_at) as date) as registered_on,
        sesame_score, timezone('Asia/Shanghai', updated_at) as valid_from_local
    from raw.customers
    qualify row_number() over (
        partition by customer_id, updated_at order by _batch_month desc, _source_row desc) = 1
),
product_limits as (
    select accounts.customer_id, accounts.product, snapshots.snapshot_month, max(snapshots.credit_limit) as credit_limit
    from snapshots
    inner join accounts using (account_id)
    group by all
),
spine as (
    select rollout.customer_id, rollout.product, rollout.wave_label, rollout.first_invited_on, rollout.consented_on,
        rollout.opted_out_on, months.report_month, months.month_end,
        cast(months.month_end + interval 1 day as timestamp) as cutoff_local
    from rollout
    inner join months on months.report_month >= rollout.entry_month
),
cohorts as (
    select spine.*, history.birth_date, history.province_code, history.registered_on, history.sesame_score,
        product_limits.credit_limit
    from spine
    asof left join history
        on spine.customer_id = history.customer_id and spine.cutoff_local > history.valid_from_local
    asof left join product_limits
        on spine.customer_id = product_limits.customer_id and spine.product = product_limits.product
        and spine.report_month >= product_limits.snapshot_month
),
banded as (
    select
        customer_id, product, report_month, month_end, first_invited_on, consented_on, opted_out_on,
        case when sesame_score >= 350 and sesame_score < 550 then '350-549'
             when sesame_score >= 550 and sesame_score < 600 then '550-599'
             when sesame_score >= 600 and sesame_score < 650 then '600-649'
             when sesame_score >= 650 and sesame_score < 700 then '650-699'
             when sesame_score >= 700 and sesame_score < 951 then '700-950' else 'unknown' end as score_band,
        (date_diff('year', birth_date, month_end)
            - case when strftime(month_end, '%m%d') < strftime(birth_date, '%m%d') then 1 else 0 end) as age,
        case when age >= 0 and age < 25 then '<25' when age >= 25 and age < 35 then '25-34'
             when age >= 35 and age < 45 then '35-44' when age >= 45 and age < 55 then '45-54'
             when age >= 55 and age < 1000 then '55+' else 'unknown' end as age_band,
        cast(year(registered_on) as integer) as registration_year,
        coalesce(province_code, 'unknown') as province_code,
        case when credit_limit >= 0 and credit_limit < 1000 then '<1000'
             when credit_limit >= 1000 and credit_limit < 5000 then '1000-4999'
             when credit_limit >= 5000 and credit_limit < 10000 then '5000-9999'
             when credit_limit >= 10000 and credit_limit < 20000 then '10000-19999'
             when credit_limit >= 20000 and credit_limit < 1000000000000 then '20000+' else 'unknown' end as limit_band,
        wave_label
    from cohorts
),
reported as (
    select report_month, account_id from baseline.credit_report_monthly
),
account_measures as (
    select
        banded.report_month, banded.product, banded.score_band, banded.age_band, banded.registration_year,
        banded.province_code, banded.limit_band, banded.wave_label,
        count(*) as active_accounts,
        count(reported.account_id) as reported_accounts,
        sum(coalesce(account_months.balance, 0)) as total_balance,
        sum(case when reported.account_id is not null then coalesce(account_months.balance, 0) else 0 end)
            as reported_balance,
        0 as invited_customers, 0 as consented_customers, 0 as opted_out_by_closing
    from account_months
    inner join banded using (customer_id, product, report_month)
    left join reported using (report_month, account_id)
    group by all
),
customer_measures as (
    select
        report_month, product, score_band, age_band, registration_year, province_code, limit_band, wave_label,
        0 as active_accounts, 0 as reported_accounts, 0 as total_balance, 0 as reported_balance,
        count(*) filter (where first_invited_on <= month_end) as invited_customers,
        count(*) filter (where consented_on <= month_end) as consented_customers,
        count(*) filter (where opted_out_on <= month_end) as opted_out_by_closing
    from banded
    group by all
)
select
    report_month as month, product, score_band, age_band, registration_year, province_code, limit_band, wave_label,
    cast(sum(active_accounts) as bigint) as active_accounts,
    cast(sum(reported_accounts) as bigint) as reported_accounts,
    cast(sum(total_balance) as decimal(18, 2)) as total_balance,
    cast(sum(reported_balance) as decimal(18, 2)) as reported_balance,
    cast(sum(invited_customers) as bigint) as invited_customers,
    cast(sum(consented_customers) as bigint) as consented_customers,
    cast(sum(opted_out_by_closing) as bigint) as opted_out_by_closing
from (select * from account_measures union all select * from customer_measures)
group by all;
