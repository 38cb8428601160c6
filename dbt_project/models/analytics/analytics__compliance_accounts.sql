{{ config(alias='compliance_accounts') }}
-- Compliance: each account's customer key, product, opening and closing (latest version, P2).
select account_id, customer_id, product, opened_at, opened_on, opened_month, closed_on, closed_month
from {{ ref('stg_landing__accounts') }}
