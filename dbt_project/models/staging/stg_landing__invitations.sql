-- Rollout invitations; a later batch's row for the same id is a correction and wins.
select
    invitation_id,
    customer_id,
    product,
    wave,
    invited_at,
    {{ local_date('invited_at') }} as invited_on,
    {{ local_month('invited_at') }} as invited_month,
    channel,
    _batch_month
from {{ source('raw', 'invitations') }}
{{ latest_per_key('invitation_id') }}
