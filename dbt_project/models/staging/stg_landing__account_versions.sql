-- Every version of every account (CDC), typed, with local opening and closing dates (R1).
select
    account_id,
    customer_id,
    product,
    opened_at,
    {{ local_date('opened_at') }} as opened_on,
    {{ local_month('opened_at') }} as opened_month,
    closed_at,
    {{ local_date('closed_at') }} as closed_on,
    {{ local_month('closed_at') }} as closed_month,
    loan_amount,
    term_months,
    updated_at,
    _batch_month,
    _source_row
from {{ source('raw', 'accounts') }}
