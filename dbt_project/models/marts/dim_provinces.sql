-- Province names for the dashboard and analysts (GB/T 2260 codes, seed `provinces`).
select
    cast(province_code as {{ dbt.type_string() }}) as province_code,
    cast(province_name as {{ dbt.type_string() }}) as province_name,
    cast(province_name_en as {{ dbt.type_string() }}) as province_name_en
from {{ ref('provinces') }}
