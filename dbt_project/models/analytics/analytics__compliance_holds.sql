{{ config(alias='compliance_holds') }}
-- Compliance: the records the checks before sending hold back, with rule and detail (the details
-- name codes and amounts of the record, never its identity: bureau/records.py).
select account_id, report_month, rule, detail
from {{ source('audit', 'submission_holds') }}
