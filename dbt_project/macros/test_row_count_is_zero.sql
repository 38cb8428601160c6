{# Generic test: the model lists problems; every row it holds is a failure, shown by name. #}
{% test row_count_is_zero(model) %}
select * from {{ model }}
{% endtest %}
