{{ monthly_incremental() }}
-- R18, P2: the cohort of every (customer, product) in every reporting month since they entered
-- the product (first account, invitation or consent), as of the month's end: score band from the
-- score history, age at month end, registration year, province, limit band of the product's
-- latest month-end limit (kept too: the next month starts from it). All of it is a fact of the
-- month, so kept months stay right; the wave, a customer's lifetime attribute, is joined by
-- fct_rollout_coverage. No personal data (R15).
with rollout as (
    select * from {{ ref('int_customer_product_rollout') }}
),

accounts as (
    select * from {{ ref('stg_landing__accounts') }}
),

entry as (
    select
        rollout.customer_id,
        rollout.product,
        least(
            min(accounts.opened_month),
            min(cast(date_trunc('month', rollout.first_invited_on) as date)),
            min(cast(date_trunc('month', rollout.consented_on) as date))
        ) as entry_month
    from rollout
    left join accounts using (customer_id, product)
    group by rollout.customer_id, rollout.product
),

spine as (
    select
        entry.customer_id,
        entry.product,
        months.report_month,
        months.month_end,
        cast(months.month_end + interval 1 day as timestamp) as cutoff_local
    from entry
    inner join {{ ref('int_reporting_months') }} as months
        on months.report_month >= entry.entry_month
    where {{ in_rebuild_window('months.report_month') }}
),

history as (
    select
        customer_id,
        birth_date,
        province_code,
        registered_on,
        sesame_score,
        {{ local_timestamp('valid_from') }} as valid_from_local
    from {{ ref('int_customer_history') }}
),

product_limits as (  -- the customer's month-end limit for the product, per snapshot month
    select accounts.customer_id, accounts.product, snapshots.snapshot_month, max(snapshots.credit_limit) as credit_limit
    from {{ ref('stg_landing__account_snapshots') }} as snapshots
    inner join accounts using (account_id)
    where {{ in_rebuild_window('snapshots.snapshot_month') }}
    group by accounts.customer_id, accounts.product, snapshots.snapshot_month
),

-- A monthly run starts from the limits of the last kept month: snapshots come only with batches,
-- whose months all have kept rows, so there is no later one before the window (none in a full build).
kept_limits as (
{%- if rebuilding_window() %}
    select customer_id, product, credit_limit
    from {{ this }}
    where report_month = (select max(report_month) from {{ this }} where report_month < {{ rebuild_from_month() }})
{%- else %}
    select
        cast(null as {{ dbt.type_string() }}) as customer_id,
        cast(null as {{ dbt.type_string() }}) as product,
        cast(null as decimal(18, 2)) as credit_limit
    where false
{%- endif %}
),

with_customer as (
    {{ asof_left_join('spine', 'history', ['customer_id'], 'cutoff_local', '>', 'valid_from_local', [
        'history.birth_date', 'history.province_code', 'history.registered_on', 'history.sesame_score',
    ]) }}
),

with_product_limit as (
    {{ asof_left_join('with_customer', 'product_limits', ['customer_id', 'product'], 'report_month', '>=',
        'snapshot_month', ['product_limits.credit_limit as product_limit']) }}
),

with_limit as (
    select
        with_product_limit.*,
        coalesce(with_product_limit.product_limit, kept_limits.credit_limit) as credit_limit
    from with_product_limit
    left join kept_limits
        on with_product_limit.customer_id = kept_limits.customer_id
        and with_product_limit.product = kept_limits.product
)

select
    customer_id,
    product,
    report_month,
    month_end,
    {{ band('score_band', 'sesame_score') }} as score_band,
    {{ band('age_band', age_at('birth_date', 'month_end')) }} as age_band,
    cast(year(registered_on) as integer) as registration_year,
    coalesce(province_code, 'unknown') as province_code,
    credit_limit,
    {{ band('limit_band', 'credit_limit') }} as limit_band
from with_limit
