{# R1: business time is China Standard Time; an event's month is the month of its local time. The
   zone is the var business_timezone (dbt_project.yml), the same as foundation/months.py's. #}
{% macro local_timestamp(column) -%}
    timezone('{{ var("business_timezone") }}', {{ column }})
{%- endmacro %}

{% macro local_date(column) -%}
    cast({{ local_timestamp(column) }} as date)
{%- endmacro %}

{% macro local_month(column) -%}
    cast(date_trunc('month', {{ local_timestamp(column) }}) as date)
{%- endmacro %}
