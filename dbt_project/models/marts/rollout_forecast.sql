-- R16-R18 looking ahead: per as-of month, product and cohort, the next 12 months' reported accounts,
-- balances and coverage at the observed pace, with a low/high band, and what happened where the
-- months are known (the backtest). The method, step by step (docs/rollout-forecast.md):
--   1. The book is frozen at the as-of month: each customer stays in the cohort and wave they had
--      then, accounts open at its end stay open with their balance, consented customers stay reported.
--   2. Pace: customers first invited per month over the months since the third most recent wave.
--      The next waves invite that many a month from the not-yet-invited base (open, not consented),
--      best score first.
--   3. Conversion: per month since invitation, the share of the still-unconsented who consent, pooled
--      over the three most recent waves seen that long (none after the oldest wave's age). Invited
--      customers continue on it from their age; future waves start on it in their month.
--   4. Opt-outs (R17): future waves lose the recent mature waves' opt-out share of their accounts the
--      month after the invitation.
--   5. Band: the slowest and the fastest wave at each month since invitation and the lowest and
--      highest monthly pace; active accounts are the central ones.
-- Every input is one as-of month's rows of int_rollout_forecast_state: nothing later is read. No
-- personal data (R15).
{%- set horizon = 12 %}
{%- set recent_waves = 3 %}
{%- set mature_months = 2 %}  {#- R17's 60 days have passed for every customer of the wave #}
{%- set variants = {'': 'per_month', '_low': 'per_month_low', '_high': 'per_month_high'} %}
{%- set dimensions = ['score_band', 'province_code', 'limit_band', 'wave_label'] %}

with state as (
    select * from {{ ref('int_rollout_forecast_state') }}
),

invited as (  -- wave customers (R16), their months from invitation to consent as known then
    select
        as_of_month,
        product,
        wave_label,
        invited_month,
        {{ month_diff('invited_month', 'consented_month') }} as months_to_consent,
        opted_out
    from state
    where wave_label like 'wave %'
),

waves as (
    select
        as_of_month,
        product,
        wave_label,
        min(invited_month) as wave_month,
        count(*) as invited,
        count(*) filter (where opted_out) as opted_out,
        row_number() over (partition by as_of_month, product order by min(invited_month) desc, wave_label desc) as recency
    from invited
    group by as_of_month, product, wave_label
),

months_since as (
    select t from {{ integers(1200, 't') }} as numbers
),

consents_per_month as (
    select as_of_month, product, wave_label, months_to_consent as t, count(*) as consented
    from invited
    where months_to_consent is not null
    group by all
),

wave_steps as (  -- per wave and month t since its invitation (as far as seen): consents in t, unconsented before it
    select
        waves.as_of_month,
        waves.product,
        waves.wave_label,
        waves.wave_month,
        months_since.t,
        coalesce(consents_per_month.consented, 0) as consented,
        waves.invited - coalesce(sum(consents_per_month.consented) over (
            partition by waves.as_of_month, waves.product, waves.wave_label order by months_since.t
            rows between unbounded preceding and 1 preceding), 0) as unconsented_before
    from waves
    inner join months_since on months_since.t <= {{ month_diff('waves.wave_month', 'waves.as_of_month') }}
    left join consents_per_month
        on consents_per_month.as_of_month = waves.as_of_month
        and consents_per_month.product = waves.product
        and consents_per_month.wave_label = waves.wave_label
        and consents_per_month.t = months_since.t
),

hazards as (  -- per month since invitation: the pooled, slowest and fastest share of the unconsented who consent
    select
        as_of_month,
        product,
        t,
        coalesce(sum(consented) / nullif(sum(unconsented_before), 0), 0) as hazard,
        coalesce(min(consented / nullif(unconsented_before, 0)), 0) as hazard_low,
        coalesce(max(consented / nullif(unconsented_before, 0)), 0) as hazard_high
    from (
        select *, row_number() over (partition by as_of_month, product, t order by wave_month desc, wave_label desc) as recency
        from wave_steps
    )
    where recency <= {{ recent_waves }}
    group by all
),

survival as (  -- S(t): the share of a wave still unconsented at the end of month t since invitation
    select
        as_of_month,
        product,
        t,
        {{ window_product('1 - hazard', 'steps') }} as surviving,
        {{ window_product('1 - hazard_low', 'steps') }} as surviving_low,
        {{ window_product('1 - hazard_high', 'steps') }} as surviving_high
    from hazards
    window steps as (partition by as_of_month, product order by t)
),

curve as (  -- S(t) for every t the projection asks, flat after the oldest wave's age
    select
        extent.as_of_month,
        extent.product,
        months_since.t,
        survival.surviving,
        survival.surviving_low,
        survival.surviving_high
    from (select as_of_month, product, max(t) as last_t from survival group by all) as extent
    inner join months_since on months_since.t <= extent.last_t + {{ horizon }}
    inner join survival
        on survival.as_of_month = extent.as_of_month
        and survival.product = extent.product
        and survival.t = least(months_since.t, extent.last_t)
),

opt_out_rates as (  -- the recent mature waves' share opting out by closing
    select as_of_month, product, sum(opted_out) / sum(invited) as opt_out_rate
    from (
        select *, row_number() over (partition by as_of_month, product order by wave_month desc, wave_label desc) as maturity_rank
        from waves
        where {{ month_diff('wave_month', 'as_of_month') }} >= {{ mature_months }}
    )
    where maturity_rank <= {{ recent_waves }}
    group by all
),

pace_months as (  -- every month since the third most recent wave, with its first invitations
    select
        recent.as_of_month,
        recent.product,
        {{ each_month('recent.since', 'recent.as_of_month') }} as invited_month
    from (
        select as_of_month, product, min(wave_month) as since
        from waves
        where recency <= {{ recent_waves }}
        group by all
    ) as recent
),

pace as (
    select
        pace_months.as_of_month,
        pace_months.product,
        avg(coalesce(invitations.invited, 0)) as per_month,
        min(coalesce(invitations.invited, 0)) as per_month_low,
        max(coalesce(invitations.invited, 0)) as per_month_high,
        (select count(*) from waves where waves.as_of_month = pace_months.as_of_month
            and waves.product = pace_months.product) as waves_seen
    from pace_months
    left join (
        select as_of_month, product, invited_month, count(*) as invited from invited group by all
    ) as invitations using (as_of_month, product, invited_month)
    group by all
),

queue as (  -- the not-yet-invited base in invitation order
    select
        as_of_month,
        customer_id,
        product,
        row_number() over (
            partition by as_of_month, product order by sesame_score desc nulls last, customer_id
        ) as place
    from state
    where invited_month is null and consented_month is null and open_accounts > 0
),

segments as (  -- customers who move alike, summed: a cohort, a stage, and the month they are (to be) invited
    select
        state.as_of_month,
        state.product,
        state.score_band,
        state.province_code,
        state.limit_band,
        state.wave_label,
        case
            when state.consented_month is not null then 'consented'
            when state.invited_month is not null then 'invited'
            else 'waiting'
        end as stage,
        {{ month_diff('state.invited_month', 'state.as_of_month') }} as age,
        {%- for suffix, rate in variants.items() %}
        case when ceil(queue.place / pace.{{ rate }}) <= {{ horizon }}
            then cast(ceil(queue.place / pace.{{ rate }}) as integer) end as invited_in{{ suffix }},
        {%- endfor %}
        sum(state.active_accounts) as active_accounts,
        sum(state.reported_accounts) as reported_accounts,
        sum(state.total_balance) as total_balance,
        sum(state.reported_balance) as reported_balance,
        sum(state.open_accounts) as open_accounts,
        sum(state.reported_open_accounts) as reported_open_accounts,
        sum(state.open_balance) as open_balance,
        sum(state.reported_open_balance) as reported_open_balance
    from state
    left join queue using (as_of_month, customer_id, product)
    left join pace using (as_of_month, product)
    group by all
),

horizons as (
    select months_ahead from {{ integers(horizon + 1, 'months_ahead') }} as numbers
),

-- Shares as decimals: the sums below are then exact, so the same state gives the same bits whatever
-- order DuckDB's threads add in (a monthly run and a full build compare equal row for row). Each
-- segment's balance is rounded to the cent before the sum, written out because the engines' own
-- types differ there (DuckDB's case takes its first branch's scale, Spark's the widest).
projected as (  -- per segment and month ahead: the chance a still-unconsented account is reported by then
    select
        segments.*,
        horizons.months_ahead,
        {%- for suffix in variants %}
        cast(case
            when segments.stage = 'invited' then
                case when now{{ suffix }}.surviving{{ suffix }} > 0
                    then 1 - later{{ suffix }}.surviving{{ suffix }} / now{{ suffix }}.surviving{{ suffix }} else 0 end
            when segments.invited_in{{ suffix }} <= horizons.months_ahead then 1 - fresh{{ suffix }}.surviving{{ suffix }}
            else 0
        end as decimal(18, 12)) as reported_share{{ suffix }},
        {%- endfor %}
        cast(case when segments.invited_in < horizons.months_ahead
            then coalesce(opt_out_rates.opt_out_rate, 0) else 0 end as decimal(18, 12)) as opt_out_share
    from segments
    cross join horizons
    left join opt_out_rates using (as_of_month, product)
    {%- for suffix in variants %}
    left join curve as now{{ suffix }}
        on now{{ suffix }}.as_of_month = segments.as_of_month and now{{ suffix }}.product = segments.product
        and now{{ suffix }}.t = segments.age
    left join curve as later{{ suffix }}
        on later{{ suffix }}.as_of_month = segments.as_of_month and later{{ suffix }}.product = segments.product
        and later{{ suffix }}.t = segments.age + horizons.months_ahead
    left join curve as fresh{{ suffix }}
        on fresh{{ suffix }}.as_of_month = segments.as_of_month and fresh{{ suffix }}.product = segments.product
        and fresh{{ suffix }}.t = horizons.months_ahead - segments.invited_in{{ suffix }}
    {%- endfor %}
),

cohort_projection as (
    select
        as_of_month,
        product,
        months_ahead,
        {{- cohort_dimension_columns(dimensions) }}
        {%- for suffix in variants %}
        sum(case when months_ahead = 0 then reported_accounts else reported_open_accounts
            + coalesce(reported_share{{ suffix }}, 0) * (open_accounts - reported_open_accounts) end)
            as projected_reported_accounts{{ suffix }},
        sum(cast(case when months_ahead = 0 then reported_balance else reported_open_balance
            + coalesce(reported_share{{ suffix }}, 0) * (open_balance - reported_open_balance) end as decimal(38, 2)))
            as projected_reported_balance{{ suffix }},
        {%- endfor %}
        sum(case when months_ahead = 0 then active_accounts else open_accounts * (1 - opt_out_share) end)
            as projected_active_accounts,
        sum(cast(case when months_ahead = 0 then total_balance else open_balance * (1 - opt_out_share) end
            as decimal(38, 2))) as projected_total_balance
    from projected
    group by {{ cohort_grouping_sets('as_of_month, product, months_ahead', dimensions) }}
),

happened as (  -- the same customers, in the cohorts frozen at the as-of month, in each later known month
    select
        as_of_month,
        product,
        months_ahead,
        {{- cohort_dimension_columns(dimensions) }}
        sum(active_accounts) as actual_active_accounts,
        sum(reported_accounts) as actual_reported_accounts,
        sum(total_balance) as actual_total_balance,
        sum(reported_balance) as actual_reported_balance
    from (
        select
            frozen.as_of_month,
            frozen.product,
            {%- for d in dimensions %}
            frozen.{{ d }},
            {%- endfor %}
            {{ month_diff('frozen.as_of_month', 'later.as_of_month') }} as months_ahead,
            later.active_accounts,
            later.reported_accounts,
            later.total_balance,
            later.reported_balance
        from state as frozen
        inner join state as later
            on later.customer_id = frozen.customer_id
            and later.product = frozen.product
            and later.as_of_month >= frozen.as_of_month
    )
    group by {{ cohort_grouping_sets('as_of_month, product, months_ahead', dimensions) }}
),

coverage as (
    select
        cohort_projection.*,
        {%- for suffix in variants %}
        cast(projected_reported_accounts{{ suffix }} as double) / nullif(cast(projected_active_accounts as double), 0)
            as account_coverage{{ suffix }},
        cast(projected_reported_balance{{ suffix }} as double) / nullif(cast(projected_total_balance as double), 0)
            as balance_coverage{{ suffix }},
        {%- endfor %}
        happened.actual_active_accounts,
        happened.actual_reported_accounts,
        happened.actual_reported_accounts / nullif(happened.actual_active_accounts, 0) as actual_account_coverage,
        cast(happened.actual_reported_balance as double) / nullif(cast(happened.actual_total_balance as double), 0)
            as actual_balance_coverage
    from cohort_projection
    left join happened using (as_of_month, product, months_ahead, cohort_dimension, cohort_value)
)

select
    coverage.as_of_month,
    coverage.product,
    coverage.cohort_dimension,
    coverage.cohort_value,
    cast({{ dbt.dateadd('month', 'coverage.months_ahead', 'coverage.as_of_month') }} as date) as month,
    cast(coverage.months_ahead as integer) as months_ahead,
    cast(coverage.projected_active_accounts as double) as projected_active_accounts,
    {%- for suffix in variants %}
    cast(coverage.projected_reported_accounts{{ suffix }} as double) as projected_reported_accounts{{ suffix }},
    {%- endfor %}
    cast(coverage.projected_total_balance as decimal(18, 2)) as projected_total_balance,
    {%- for suffix in variants %}
    cast(coverage.projected_reported_balance{{ suffix }} as decimal(18, 2)) as projected_reported_balance{{ suffix }},
    {%- endfor %}
    {%- for suffix in variants %}
    cast(coverage.account_coverage{{ suffix }} as double) as account_coverage{{ suffix }},
    {%- endfor %}
    {%- for suffix in variants %}
    cast(coverage.balance_coverage{{ suffix }} as double) as balance_coverage{{ suffix }},
    {%- endfor %}
    {%- for suffix, name in {'': '', '_high': '_early', '_low': '_late'}.items() %}
    cast(min(case when coverage.account_coverage{{ suffix }} >= 0.9
        then {{ dbt.dateadd('month', 'coverage.months_ahead', 'coverage.as_of_month') }} end) over cohort as date) as reaches_90pct_month{{ name }},
    {%- endfor %}
    cast(pace.per_month as double) as invitations_per_month,
    cast(coalesce(pace.waves_seen, 0) as integer) as waves_seen,
    cast(coverage.actual_active_accounts as bigint) as actual_active_accounts,
    cast(coverage.actual_reported_accounts as bigint) as actual_reported_accounts,
    cast(coverage.actual_account_coverage as double) as actual_account_coverage,
    cast(coverage.actual_balance_coverage as double) as actual_balance_coverage,
    cast(abs(coverage.account_coverage - coverage.actual_account_coverage) * 100 as double) as coverage_error_points,
    coverage.actual_account_coverage between coverage.account_coverage_low and coverage.account_coverage_high as within_band
from coverage
left join pace using (as_of_month, product)
window cohort as (partition by coverage.as_of_month, coverage.product, coverage.cohort_dimension, coverage.cohort_value)
