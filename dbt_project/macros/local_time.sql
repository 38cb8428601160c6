{# R1: business time is China Standard Time; an event's month is the month of its local time. #}
{% macro local_timestamp(column) -%}
    timezone('Asia/Shanghai', {{ column }})
{%- endmacro %}

{% macro local_date(column) -%}
    cast(timezone('Asia/Shanghai', {{ column }}) as date)
{%- endmacro %}

{% macro local_month(column) -%}
    cast(date_trunc('month', timezone('Asia/Shanghai', {{ column }})) as date)
{%- endmacro %}
