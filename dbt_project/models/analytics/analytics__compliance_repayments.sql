{{ config(alias='compliance_repayments') }}
-- Compliance: the reported accounts' repayments, by local day (P3): what FIFO had by a cut-off.
select account_id, paid_on, amount
from {{ ref('stg_landing__repayments') }}
where account_id in (select account_id from {{ ref('int_bill_coverage') }})
