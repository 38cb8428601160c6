{#
  R18: the cohort bands, defined once. Each band is (label, lower bound inclusive, upper bound
  exclusive); the band macros and dim_cohort_bands are generated from this table.
#}
{% macro cohort_band_table() %}
    {{ return({
        'score_band': [
            ('350-549', 350, 550), ('550-599', 550, 600), ('600-649', 600, 650),
            ('650-699', 650, 700), ('700-950', 700, 951)],
        'age_band': [
            ('<25', 0, 25), ('25-34', 25, 35), ('35-44', 35, 45), ('45-54', 45, 55), ('55+', 55, 1000)],
        'limit_band': [
            ('<1000', 0, 1000), ('1000-4999', 1000, 5000), ('5000-9999', 5000, 10000),
            ('10000-19999', 10000, 20000), ('20000+', 20000, 1000000000000)],
    }) }}
{% endmacro %}

{% macro band(dimension, value_sql) -%}
    case
    {%- for label, lower, upper in cohort_band_table()[dimension] %}
        when {{ value_sql }} >= {{ lower }} and {{ value_sql }} < {{ upper }} then '{{ label }}'
    {%- endfor %}
        else 'unknown'
    end
{%- endmacro %}

{% macro age_at(birth_date, on_date) -%}
    (year({{ on_date }}) - year({{ birth_date }})
        - case when month({{ on_date }}) * 100 + day({{ on_date }}) < month({{ birth_date }}) * 100 + day({{ birth_date }})
            then 1 else 0 end)
{%- endmacro %}
