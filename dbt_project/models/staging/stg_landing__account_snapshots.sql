-- Month-end limit and balance per account and month (R13). One row per account and month by
-- construction, so no deduplication here (a window over every snapshot ever sent, in each reader):
-- the gate holds snapshot_month = batch month and one row per account, and a resent batch
-- replaces its month in raw. The uniqueness test below checks it.
select
    account_id,
    snapshot_month,
    credit_limit,
    outstanding_balance,
    _batch_month
from {{ source('raw', 'account_snapshots') }}
