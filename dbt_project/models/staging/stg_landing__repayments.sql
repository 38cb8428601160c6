{{ latest_versions_kept('repayments', 'repayment_id') }}
-- Repayments with their local payment date (R1, P3); later batches correct earlier ones.
select
    repayment_id,
    account_id,
    paid_at,
    {{ local_date('paid_at') }} as paid_on,
    {{ local_month('paid_at') }} as paid_month,
    amount,
    _batch_month
from {{ source('raw', 'repayments') }}
{{ versions_to_rank('repayment_id') }}
{{ latest_per_key('repayment_id') }}
