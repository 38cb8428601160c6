{{ config(severity='warn') }}
-- R9, R13: what is overdue is part of what is owed: the month-end balance covers the overdue amount.
-- A record-level rule: a warning here, and the submission holds the record (S5, bureau/records.py)
-- with its account's later ones instead of blocking the whole month (a repayment held in
-- quarantine, say, leaves one account's delinquency too high until the source resends it).
select report_month, account_id, balance, overdue_amount
from {{ ref('credit_report_monthly') }}
where balance < overdue_amount
