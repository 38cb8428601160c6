-- R16, R17, P9: per customer and product, the rollout as it happened to them: the first
-- invitation (its wave labels the customer), the consent, and opting out by closing: closing the
-- product's account within 60 days after the first invitation, not consented at that moment.
with invitations as (
    select * from {{ ref('stg_landing__invitations') }}
),

consents as (
    select * from {{ ref('int_consent_windows') }}
),

accounts as (
    select * from {{ ref('stg_landing__accounts') }}
),

first_invitation as (
    select
        customer_id,
        product,
        wave as first_wave,
        invited_at as first_invited_at,
        invited_on as first_invited_on
    from invitations
    qualify row_number() over (partition by customer_id, product order by invited_at, invitation_id) = 1
),

customer_products as (
    select customer_id, product from accounts
    union
    select customer_id, product from first_invitation
    union
    select customer_id, product from consents
),

opt_outs as (
    select
        accounts.customer_id,
        accounts.product,
        min(accounts.closed_at) as opted_out_at
    from accounts
    inner join first_invitation using (customer_id, product)
    left join consents using (customer_id, product)
    where accounts.closed_at >= first_invitation.first_invited_at
      and {{ dbt.datediff('first_invitation.first_invited_on', 'accounts.closed_on', 'day') }} <= 60
      and (consents.consent_signed_at is null or consents.consent_signed_at > accounts.closed_at)
    group by accounts.customer_id, accounts.product
)

select
    customer_products.customer_id,
    customer_products.product,
    first_invitation.first_wave,
    first_invitation.first_invited_at,
    first_invitation.first_invited_on,
    consents.consent_signed_at,
    {{ local_date('consents.consent_signed_at') }} as consented_on,
    case
        when consents.consent_signed_at is not null
            and (first_invitation.first_invited_at is null
                 or consents.consent_signed_at < first_invitation.first_invited_at)
            then 'pre-rollout'
        when first_invitation.first_invited_at is not null then 'wave ' || first_invitation.first_wave
        else 'not invited'
    end as wave_label,
    opt_outs.opted_out_at,
    {{ local_date('opt_outs.opted_out_at') }} as opted_out_on
from customer_products
left join first_invitation using (customer_id, product)
left join consents using (customer_id, product)
left join opt_outs using (customer_id, product)
