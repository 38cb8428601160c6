{# R1: business time is China Standard Time; an event's month is the month of its local time. The
   zone is the var business_timezone (dbt_project.yml), the same as foundation/months.py's. #}
{% macro local_date(column) -%}
    cast({{ local_timestamp(column) }} as date)
{%- endmacro %}

{% macro local_month(column) -%}
    cast(date_trunc('month', {{ local_timestamp(column) }}) as date)
{%- endmacro %}

{# Months from `first` to `last` counted by calendar month (a month start to the next is 1). #}
{% macro month_diff(first, last) -%}
    ((year({{ last }}) - year({{ first }})) * 12 + month({{ last }}) - month({{ first }}))
{%- endmacro %}
