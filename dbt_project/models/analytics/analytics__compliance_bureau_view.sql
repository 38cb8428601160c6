{{ config(alias='compliance_bureau_view') }}
-- Compliance: what the bureau holds per account and month, and the line that set it.
select account_id, report_month, rpt_date_code, file_name, line
from {{ source('audit', 'bureau_view') }}
