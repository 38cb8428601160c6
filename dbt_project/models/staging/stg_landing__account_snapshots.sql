-- Month-end limit and balance per account and month (R13); a resent month wins.
select
    account_id,
    snapshot_month,
    credit_limit,
    outstanding_balance,
    _batch_month
from {{ source('raw', 'account_snapshots') }}
{{ latest_per_key('account_id, snapshot_month') }}
