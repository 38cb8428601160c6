-- R7: the closing month is an account's last record; nothing is reported after it, and nothing
-- before the account opened.
select report.report_month, report.account_id, accounts.opened_month, accounts.closed_month
from {{ ref('credit_report_monthly') }} as report
inner join {{ ref('stg_landing__accounts') }} as accounts using (account_id)
where report.report_month > accounts.closed_month
   or report.report_month < accounts.opened_month
