{#
  One query, every cohort dimension: group by grouping sets of the keys alone ('all') and the keys
  with each dimension, then name the dimension and its value in two columns.
#}
{% macro cohort_grouping_sets(keys, dimensions) -%}
    grouping sets (({{ keys }}){% for d in dimensions %}, ({{ keys }}, {{ d }}){% endfor %})
{%- endmacro %}

{% macro cohort_dimension_columns(dimensions) %}
        case {% for d in dimensions %}when grouping({{ d }}) = 0 then '{{ d }}' {% endfor %}else 'all' end as cohort_dimension,
        case {% for d in dimensions %}when grouping({{ d }}) = 0 then {{ d }} {% endfor %}else 'all' end as cohort_value,
{%- endmacro %}
