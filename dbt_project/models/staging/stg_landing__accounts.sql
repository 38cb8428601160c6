-- One row per account: the latest version (P2: opening and closing from the latest known).
select
    account_id,
    customer_id,
    product,
    opened_at,
    opened_on,
    opened_month,
    closed_at,
    closed_on,
    closed_month,
    loan_amount,
    term_months,
    updated_at
from {{ ref('stg_landing__account_versions') }}
{{ latest_per_key('account_id', 'updated_at desc') }}
