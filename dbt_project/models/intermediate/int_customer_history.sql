-- SCD2 of customers: each version is valid from its updated_at until the next one's, so cohort
-- attributes (score band, province) can be taken as of any month end (P2). No personal data (R15).
with versions as (
    select
        customer_id,
        birth_date,
        gender,
        province_code,
        registered_on,
        sesame_score,
        updated_at
    from {{ ref('stg_landing__customer_versions') }}
    -- two versions at the same instant: the later batch, then the later line wins
    {{ latest_per_key('customer_id, updated_at') }}
)

select
    customer_id,
    birth_date,
    gender,
    province_code,
    registered_on,
    sesame_score,
    updated_at as valid_from,
    lead(updated_at) over (partition by customer_id order by updated_at) as valid_to,
    lead(updated_at) over (partition by customer_id order by updated_at) is null as is_current
from versions
