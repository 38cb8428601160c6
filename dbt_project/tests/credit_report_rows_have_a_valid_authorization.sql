-- R3, R6: no record without consent. Recomputed from the agreements themselves, not from the
-- consent model: the named agreement is this customer's CREDIT_REPORTING_AUTH for the product or
-- ALL, signed in or before the month, and no earlier valid one exists.
with agreements as (
    select * from {{ ref('stg_landing__agreements') }}
    where document_code = 'CREDIT_REPORTING_AUTH'
)

select report.report_month, report.account_id, report.consent_agreement_id
from {{ ref('credit_report_monthly') }} as report
left join agreements as named
    on named.agreement_id = report.consent_agreement_id
    and named.customer_id = report.customer_id
    and named.product in (report.product, 'ALL')
    and named.signed_month <= report.report_month
where named.agreement_id is null
   or exists (
       select 1 from agreements as earlier
       where earlier.customer_id = report.customer_id
         and earlier.product in (report.product, 'ALL')
         and (earlier.signed_at, earlier.agreement_id) < (named.signed_at, named.agreement_id)
   )
