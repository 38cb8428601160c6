-- The rollout as it stood at the end of each of the last seven reporting months (the as-of months),
-- per customer and product: the cohort then, the wave then, whether invited and consented by then,
-- and the accounts and balances of that month. rollout_forecast projects from one as-of month's rows
-- only, so a forecast never reads its own future; the later months' rows are what happened, for the
-- backtest. Every column is a fact of its month: consent, invitation and opt-out dates after the
-- month's end are not seen, so a monthly run keeps the as-of months before its window as built and
-- drops the ones that left the last seven. No personal data (R15).
{%- set as_of_months = 7 %}
{{ monthly_incremental('as_of_month') }}
{{ config(post_hook="{{ keep_last_as_of_months(" ~ as_of_months ~ ") }}") }}
with as_of as (
    select report_month as as_of_month, month_end
    from {{ ref('int_reporting_months') }}
    where {{ in_rebuild_window('report_month') }}
    qualify row_number() over (order by report_month desc) <= {{ as_of_months }}
),

cohorts as (
    select
        cohort_months.customer_id,
        cohort_months.product,
        as_of.as_of_month,
        as_of.month_end,
        cohort_months.score_band,
        cohort_months.province_code,
        cohort_months.limit_band
    from {{ ref('int_cohort_months') }} as cohort_months
    inner join as_of on cohort_months.report_month = as_of.as_of_month
    where {{ in_rebuild_window('cohort_months.report_month') }}
),

scores as (  -- the score valid at the month's end, as the cohort's score band (P2): the invitation order
    select customer_id, sesame_score, {{ local_timestamp('valid_from') }} as valid_from_local
    from {{ ref('int_customer_history') }}
),

cohorts_at_cutoff as (
    select *, cast(month_end + interval 1 day as timestamp) as cutoff_local from cohorts
),

with_score as (
    {{ asof_left_join('cohorts_at_cutoff', 'scores', ['customer_id'], 'cutoff_local', '>', 'valid_from_local',
        ['scores.sesame_score']) }}
),

reported as (
    select report_month, account_id from {{ ref('credit_report_monthly') }}
    where {{ in_rebuild_window('report_month') }}
),

accounts as (  -- active: open at some point in the month; open: still open at its end
    select
        months.customer_id,
        months.product,
        months.report_month as as_of_month,
        count(*) as active_accounts,
        count(reported.account_id) as reported_accounts,
        sum(coalesce(months.balance, 0)) as total_balance,
        sum(case when reported.account_id is not null then coalesce(months.balance, 0) else 0 end) as reported_balance,
        count(*) filter (where not months.is_closing_month) as open_accounts,
        count(reported.account_id) filter (where not months.is_closing_month) as reported_open_accounts,
        coalesce(sum(coalesce(months.balance, 0)) filter (where not months.is_closing_month), 0) as open_balance,
        coalesce(sum(coalesce(months.balance, 0)) filter (
            where not months.is_closing_month and reported.account_id is not null), 0) as reported_open_balance
    from {{ ref('int_account_months') }} as months
    inner join as_of on months.report_month = as_of.as_of_month
    left join reported using (report_month, account_id)
    where {{ in_rebuild_window('months.report_month') }}
    group by all
),

rollout as (
    select * from {{ ref('int_customer_product_rollout') }}
)

select
    with_score.as_of_month,
    with_score.customer_id,
    with_score.product,
    with_score.sesame_score,
    with_score.score_band,
    with_score.province_code,
    with_score.limit_band,
    case  -- R16 as known at the month's end
        when rollout.consented_on <= with_score.month_end
            and (rollout.first_invited_at is null or rollout.consent_signed_at < rollout.first_invited_at)
            then 'pre-rollout'
        when rollout.first_invited_on <= with_score.month_end then 'wave ' || rollout.first_wave
        else 'not invited'
    end as wave_label,
    case when rollout.first_invited_on <= with_score.month_end
        then cast(date_trunc('month', rollout.first_invited_on) as date) end as invited_month,
    case when rollout.consented_on <= with_score.month_end
        then cast(date_trunc('month', rollout.consented_on) as date) end as consented_month,
    coalesce(rollout.opted_out_on <= with_score.month_end, false) as opted_out,
    coalesce(accounts.active_accounts, 0) as active_accounts,
    coalesce(accounts.reported_accounts, 0) as reported_accounts,
    cast(coalesce(accounts.total_balance, 0) as decimal(18, 2)) as total_balance,
    cast(coalesce(accounts.reported_balance, 0) as decimal(18, 2)) as reported_balance,
    coalesce(accounts.open_accounts, 0) as open_accounts,
    coalesce(accounts.reported_open_accounts, 0) as reported_open_accounts,
    cast(coalesce(accounts.open_balance, 0) as decimal(18, 2)) as open_balance,
    cast(coalesce(accounts.reported_open_balance, 0) as decimal(18, 2)) as reported_open_balance
from with_score
inner join rollout using (customer_id, product)
left join accounts using (customer_id, product, as_of_month)
