-- R16, R17: per product and wave, how invited customers answered: consent within 30 and 90
-- days of the first invitation and ever, opting out by closing, median days to consent, and the
-- average score at the first invitation (the quality-first order shows here). No personal data.
with rollout as (
    select * from {{ ref('int_customer_product_rollout') }}
),

history as (
    select customer_id, sesame_score, valid_from from {{ ref('int_customer_history') }}
),

with_score as (
    {{ asof_left_join('rollout', 'history', ['customer_id'], 'first_invited_at', '>=', 'valid_from',
        ['history.sesame_score as score_at_invite']) }}
),

answered as (
    select
        *,
        case
            when consent_signed_at >= first_invited_at then {{ dbt.datediff('first_invited_on', 'consented_on', 'day') }}
        end as days_to_consent
    from with_score
)

select
    product,
    wave_label,
    cast(min(first_wave) as integer) as wave_number,
    min(first_invited_on) as first_invited_on,
    cast(count(first_invited_at) as bigint) as invited_customers,
    cast(count(*) filter (where days_to_consent <= 30) as bigint) as consented_within_30d,
    cast(count(*) filter (where days_to_consent <= 90) as bigint) as consented_within_90d,
    cast(count(consent_signed_at) as bigint) as consented_ever,
    cast(count(opted_out_at) as bigint) as opted_out_by_closing,
    cast(median(days_to_consent) as double) as median_days_to_consent,
    cast(avg(score_at_invite) as double) as avg_score_at_invite
from answered
group by product, wave_label
