{#
  The constructs DuckDB and Spark write differently (docs/spark.md), one macro each: `default__`
  is DuckDB, `spark__` Spark. Everything else in the models is written once in SQL both engines
  read the same way (e.g. exists instead of DuckDB's semi join, year/month arithmetic instead of
  date_diff, listed columns instead of `union all by name` and `* exclude`).
#}

{#- R1: an instant as business local time (a timestamp without zone). Spark's session zone is UTC
    (profiles.yml), so from_utc_timestamp shifts an instant to the zone's wall clock. -#}
{% macro local_timestamp(column) -%}
    {{ return(adapter.dispatch('local_timestamp')(column)) }}
{%- endmacro %}

{% macro default__local_timestamp(column) -%}
    timezone('{{ var("business_timezone") }}', {{ column }})
{%- endmacro %}

{% macro spark__local_timestamp(column) -%}
    from_utc_timestamp({{ column }}, '{{ var("business_timezone") }}')
{%- endmacro %}

{#- A window's values concatenated in the window's order, as one string. -#}
{% macro window_string_agg(value, window) -%}
    {{ return(adapter.dispatch('window_string_agg')(value, window)) }}
{%- endmacro %}

{% macro default__window_string_agg(value, window) -%}
    array_to_string(list({{ value }}) over ({{ window }}), '')
{%- endmacro %}

{% macro spark__window_string_agg(value, window) -%}
    concat_ws('', collect_list({{ value }}) over ({{ window }}))
{%- endmacro %}

{#- One row per first-of-month date from `first` to `last` (dates), as a select-list expression. -#}
{% macro each_month(first, last) -%}
    {{ return(adapter.dispatch('each_month')(first, last)) }}
{%- endmacro %}

{% macro default__each_month(first, last) -%}
    cast(unnest(generate_series({{ first }}, {{ last }}, interval 1 month)) as date)
{%- endmacro %}

{% macro spark__each_month(first, last) -%}
    explode(sequence({{ first }}, {{ last }}, interval 1 month))
{%- endmacro %}

{#- The integers 0 .. count - 1 as a relation with one column. -#}
{% macro integers(count, column) -%}
    {{ return(adapter.dispatch('integers')(count, column)) }}
{%- endmacro %}

{% macro default__integers(count, column) -%}
    (select range as {{ column }} from range(0, {{ count }}))
{%- endmacro %}

{% macro spark__integers(count, column) -%}
    (select id as {{ column }} from range(0, {{ count }}))
{%- endmacro %}

{#- The whole string matches the regular expression. -#}
{% macro fully_matches(value, pattern) -%}
    {{ return(adapter.dispatch('fully_matches')(value, pattern)) }}
{%- endmacro %}

{% macro default__fully_matches(value, pattern) -%}
    regexp_full_match({{ value }}, '{{ pattern }}')
{%- endmacro %}

{% macro spark__fully_matches(value, pattern) -%}
    ({{ value }} rlike '^(?:{{ pattern }})$')
{%- endmacro %}

{#-
  `left` with, for each row, the columns of the one `right` row with the same `keys` whose
  `right_value` is nearest to its `left_value` on the side `op` allows (left op right: >= and >
  look back, <= and < look ahead), or nulls. Both sides are CTE names; `right` must have one row per
  keys and value; `right_columns` are select expressions over `right`. DuckDB has the ASOF join;
  Spark (none; it reads `asof` as an alias) finds each left value's match by a running max (or
  min) over both sides' values in one window, then joins the matched row back.
-#}
{% macro asof_left_join(left, right, keys, left_value, op, right_value, right_columns) -%}
    {{ return(adapter.dispatch('asof_left_join')(left, right, keys, left_value, op, right_value, right_columns)) }}
{%- endmacro %}

{% macro default__asof_left_join(left, right, keys, left_value, op, right_value, right_columns) -%}
    select {{ left }}.*{% for column in right_columns %}, {{ column }}{% endfor %}
    from {{ left }}
    asof left join {{ right }}
        on {% for key in keys %}{{ left }}.{{ key }} = {{ right }}.{{ key }} and {% endfor -%}
        {{ left }}.{{ left_value }} {{ op }} {{ right }}.{{ right_value }}
{%- endmacro %}

{% macro spark__asof_left_join(left, right, keys, left_value, op, right_value, right_columns) -%}
    {%- set looks_back = op in ('>=', '>') -%}
    {#- at equal values, the side sorted first is seen by the other: the right side when inclusive -#}
    {%- set right_first = op in ('>=', '<=') -%}
    select {{ left }}.*{% for column in right_columns %}, {{ column }}{% endfor %}
    from {{ left }}
    left join (
        select {{ keys | join(', ') }}, asof_at, asof_match
        from (
            select
                {{ keys | join(', ') }},
                asof_at,
                asof_is_left,
                {{ 'max' if looks_back else 'min' }}(asof_value) over (
                    partition by {{ keys | join(', ') }}
                    order by asof_at {{ '' if looks_back else 'desc' }},
                        asof_is_left {{ '' if right_first else 'desc' }}
                    rows between unbounded preceding and current row
                ) as asof_match
            from (
                select {{ keys | join(', ') }}, {{ right_value }} as asof_at, 0 as asof_is_left, {{ right_value }} as asof_value
                from {{ right }}
                union all
                select distinct {{ keys | join(', ') }}, {{ left_value }}, 1, null
                from {{ left }}
            ) as both_sides
        ) as running
        where asof_is_left = 1
    ) as asof_matched
        on {% for key in keys %}{{ left }}.{{ key }} = asof_matched.{{ key }} and {% endfor -%}
        {{ left }}.{{ left_value }} = asof_matched.asof_at
    left join {{ right }}
        on {% for key in keys %}{{ right }}.{{ key }} = asof_matched.{{ key }} and {% endfor -%}
        {{ right }}.{{ right_value }} = asof_matched.asof_match
{%- endmacro %}

{#- Whether a monthly run can keep the months before its window in place. On Spark's Parquet
    tables (no delete, no update) every run rebuilds whole (docs/spark.md). -#}
{% macro keeps_months_in_place() -%}
    {{ return(adapter.dispatch('keeps_months_in_place')()) }}
{%- endmacro %}

{% macro default__keeps_months_in_place() -%}
    {{ return(true) }}
{%- endmacro %}

{% macro spark__keeps_months_in_place() -%}
    {{ return(false) }}
{%- endmacro %}

{#- The product of `value` over the named window (as a double; Spark has no product aggregate in
    SQL, so its list is multiplied in the window's order). -#}
{% macro window_product(value, window) -%}
    {{ return(adapter.dispatch('window_product')(value, window)) }}
{%- endmacro %}

{% macro default__window_product(value, window) -%}
    product({{ value }}) over {{ window }}
{%- endmacro %}

{% macro spark__window_product(value, window) -%}
    aggregate(collect_list(cast({{ value }} as double)) over {{ window }}, cast(1 as double), (done, next) -> done * next)
{%- endmacro %}
