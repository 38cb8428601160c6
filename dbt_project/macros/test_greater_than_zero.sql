{# Generic test: every value of the column is above zero (NULLs are not_null's to catch). #}
{% test greater_than_zero(model, column_name) %}
select * from {{ model }} where {{ column_name }} <= 0
{% endtest %}
