-- R4: every JIEBEI loan contract includes the authorization. An account without one signed by
-- its opening is a data-quality failure, surfaced here by name; it is reported only from the
-- month an authorization exists (P7), never silently dropped.
select
    accounts.account_id,
    accounts.customer_id,
    accounts.opened_at,
    consent.consent_agreement_id,
    consent.consent_signed_at
from {{ ref('stg_landing__accounts') }} as accounts
left join {{ ref('int_consent_windows') }} as consent
    on accounts.customer_id = consent.customer_id
    and consent.product = 'JIEBEI'
where accounts.product = 'JIEBEI'
  and (consent.consent_signed_at is null or consent.consent_signed_at > accounts.opened_at)
