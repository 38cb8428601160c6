-- R18: every cohort band with its order and bounds, generated from the one definition in
-- macros/cohort_bands.sql, so charts sort bands by value, not alphabetically.
{%- set rows = [] %}
{%- for dimension, bands in cohort_band_table().items() %}
    {%- for label, lower, upper in bands %}
        {%- do rows.append("('" ~ dimension ~ "', '" ~ label ~ "', " ~ loop.index ~ ", " ~ lower ~ ", " ~ upper ~ ")") %}
    {%- endfor %}
{%- endfor %}
select
    cast(dimension as {{ dbt.type_string() }}) as dimension,
    cast(band as {{ dbt.type_string() }}) as band,
    cast(sort_order as integer) as sort_order,
    cast(lower_bound as bigint) as lower_bound,
    cast(upper_bound as bigint) as upper_bound
from (values {{ rows | join(', ') }}) as bands (dimension, band, sort_order, lower_bound, upper_bound)
