-- R9, R13: what is overdue is part of what is owed: the month-end balance covers the overdue amount.
select report_month, account_id, balance, overdue_amount
from {{ ref('credit_report_monthly') }}
where balance < overdue_amount
