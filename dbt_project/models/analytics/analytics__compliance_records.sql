{{ config(alias='compliance_records') }}
-- Compliance: the reporting mart's records without the identity sent with them (R15).
select
    report_month, account_id, customer_id, product, account_type, opened_on, credit_limit, balance,
    amount_due, amount_paid, days_past_due, overdue_periods, overdue_amount, month_status,
    repayment_history_24m, five_level_class, account_status, is_final_report, report_reason_code,
    consent_agreement_id, consent_signed_at
from {{ ref('credit_report_monthly') }}
