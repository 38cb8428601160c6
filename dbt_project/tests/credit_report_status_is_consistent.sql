-- R10: the status code and the amounts agree. `*` has nothing due, no past-due bill and no
-- overdue amount; N and M have no past-due bill; 1..7 have past-due bills and amounts; C is the
-- final report. A row here would send the bureau a self-contradicting record.
select report_month, account_id, month_status, amount_due, overdue_periods, overdue_amount, is_final_report
from {{ ref('credit_report_monthly') }}
where (month_status = '*' and (amount_due <> 0 or overdue_periods <> 0 or overdue_amount <> 0))
   or (month_status in ('N', 'M') and (overdue_periods <> 0 or overdue_amount <> 0))
   or (month_status in ('1', '2', '3', '4', '5', '6', '7') and (overdue_periods <= 0 or overdue_amount <= 0))
   or ((month_status = 'C') <> is_final_report)
