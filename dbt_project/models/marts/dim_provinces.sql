-- Province names for the dashboard and analysts (GB/T 2260 codes, seed `provinces`).
select
    cast(province_code as varchar) as province_code,
    cast(province_name as varchar) as province_name,
    cast(province_name_en as varchar) as province_name_en
from {{ ref('provinces') }}
