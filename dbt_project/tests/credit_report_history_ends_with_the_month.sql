-- R11: the history has 24 characters, only status codes or '/', and ends with this month's status.
select report_month, account_id, repayment_history_24m, month_status
from {{ ref('credit_report_monthly') }}
where length(repayment_history_24m) <> 24
   or right(repayment_history_24m, 1) <> month_status
   or not {{ fully_matches('repayment_history_24m', '[NM*1-7C/]{24}') }}
