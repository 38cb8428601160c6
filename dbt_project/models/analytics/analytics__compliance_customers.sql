{{ config(alias='compliance_customers') }}
-- Compliance (compliance/explain.py): the customer keys known, and nothing else about them (R15).
select customer_id
from {{ ref('stg_landing__customers') }}
