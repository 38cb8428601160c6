-- One row per customer: the latest version (P2: corrections apply retroactively).
select
    customer_id,
    id_number,
    full_name,
    phone,
    birth_date,
    gender,
    province_code,
    registered_at,
    registered_on,
    sesame_score,
    updated_at
from {{ ref('stg_landing__customer_versions') }}
{{ latest_per_key('customer_id', 'updated_at desc') }}
