{{ config(alias='compliance_authorizations') }}
-- Compliance: every reporting authorization signed (R3, R6), the valid one or not.
select agreement_id, customer_id, product as signed_for, signed_at, signed_month
from {{ ref('stg_landing__agreements') }}
where document_code = 'CREDIT_REPORTING_AUTH'
  and signed_at is not null
