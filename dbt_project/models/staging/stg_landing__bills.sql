{{ latest_versions_kept('bills', 'bill_id') }}
-- Monthly statements; a later batch's row for the same id is a correction and wins.
select
    bill_id,
    account_id,
    bill_month,
    statement_date,
    due_date,
    cast(date_trunc('month', due_date) as date) as due_month,
    amount_due,
    _batch_month
from {{ source('raw', 'bills') }}
{{ versions_to_rank('bill_id') }}
{{ latest_per_key('bill_id') }}
