{{ config(alias='compliance_bills') }}
-- Compliance: the reported accounts' bills in FIFO order, with when payments covered each (R8, P4).
select bill_id, account_id, due_date, due_month, amount_due, cumulative_due, covered_on
from {{ ref('int_bill_coverage') }}
