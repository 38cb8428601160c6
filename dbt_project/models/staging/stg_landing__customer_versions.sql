-- Every version of every customer (CDC), typed; history for int_customer_history.
select
    customer_id,
    id_number,
    full_name,
    phone,
    birth_date,
    gender,
    province_code,
    registered_at,
    {{ local_date('registered_at') }} as registered_on,
    sesame_score,
    updated_at,
    _batch_month,
    _source_row
from {{ source('raw', 'customers') }}
