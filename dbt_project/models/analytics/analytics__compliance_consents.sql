{{ config(alias='compliance_consents') }}
-- Compliance: the authorization that opens reporting per customer and product (R3, R6, P7).
select customer_id, product, consent_agreement_id, consent_signed_at, consent_month
from {{ ref('int_consent_windows') }}
