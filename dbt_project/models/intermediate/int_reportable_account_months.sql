{{ monthly_incremental() }}
-- R3: an account-month is reportable when its customer's consent for the product (or ALL) was
-- signed in or before the month. R19: the reporting-occasion code, 32 > 10 > 31 > 30 (P7, P8).
select
    months.*,
    consent.consent_agreement_id,
    consent.consent_signed_at,
    consent.consent_month,
    case
        when months.is_closing_month then '32'
        when months.report_month = months.opened_month then '10'
        when months.report_month = consent.consent_month then '31'
        else '30'
    end as report_reason_code
from {{ ref('int_account_months') }} as months
inner join {{ ref('int_consent_windows') }} as consent
    on months.customer_id = consent.customer_id
    and months.product = consent.product
    and consent.consent_month <= months.report_month
where {{ in_rebuild_window('months.report_month') }}
