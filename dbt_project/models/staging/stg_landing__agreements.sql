-- Signed agreements; a later batch's row for the same id is a correction and wins.
select
    agreement_id,
    customer_id,
    product,
    document_code,
    document_version,
    signed_at,
    {{ local_date('signed_at') }} as signed_on,
    {{ local_month('signed_at') }} as signed_month,
    channel,
    _batch_month
from {{ source('raw', 'agreements') }}
{{ latest_per_key('agreement_id') }}
