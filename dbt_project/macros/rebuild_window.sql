{#
  Incremental monthly models rebuild the reporting months from a window start on (the loader
  queues the earliest month a batch touches; ingestion/rebuild.py decides the window): the
  environment variable CRW_REBUILD_FROM_MONTH, which the monthly job sets (a changed --vars would
  make dbt parse the whole project again; an environment variable read only here does not). Unset,
  every month is rebuilt: a plain `dbt build` is a full build; a first build is always full.
#}
{% macro rebuild_from_month() -%}
    date '{{ env_var("CRW_REBUILD_FROM_MONTH", "0001-01-01") }}'
{%- endmacro %}

{# Unit tests render models without a relation behind `this`: they test the full build. #}
{% macro rebuilding_window() -%}
    {{ return(this is not none and is_incremental()) }}
{%- endmacro %}

{#- A model whose months before the window stay as built: `pre_hook` takes them back for the run
    (by default the window's months are deleted), `month_column` (or none) names the column the
    monthly run's tests check the window on. Where an engine cannot keep months in place, a table
    rebuilt whole (engines/dispatched.sql). -#}
{% macro monthly_incremental(month_column='report_month', pre_hook=none, post_hook=none) -%}
    {%- set meta = {'window_column': month_column} if month_column else {} -%}
    {%- if keeps_months_in_place() -%}
    {{ config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook=pre_hook if pre_hook is not none else "{{ delete_rebuilt_months('" ~ month_column ~ "') }}",
        post_hook=post_hook or [],
        meta=meta,
    ) }}
    {%- else -%}
    {{ config(materialized='table', meta=meta) }}
    {%- endif -%}
{%- endmacro %}

{# Months before the window stay as built; the pre-hook deletes the window's months. A changed
   model fails (on_schema_change) and needs --full-refresh rather than mixing shapes. #}
{% macro delete_rebuilt_months(month_column) -%}
    {%- if rebuilding_window() -%}
        delete from {{ this }} where {{ month_column }} >= {{ rebuild_from_month() }}
    {%- endif -%}
{%- endmacro %}

{# The months this run computes: the window in an incremental run, all of them otherwise. #}
{% macro in_rebuild_window(month_column, months_before=0) -%}
    {%- if rebuilding_window() -%}
        {{ month_column }} >= {{ rebuild_from_month() }} - interval {{ months_before }} month
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{# P2: identity comes from the latest customer version in every month, so the rows kept from
   before the window take a correction too (a customer's identity is not a monthly fact). #}
{% macro refresh_identity_before_window() -%}
    {%- if rebuilding_window() -%}
        update {{ this }} as report
        set id_number = customers.id_number, full_name = customers.full_name
        from {{ ref('stg_landing__customers') }} as customers
        where report.customer_id = customers.customer_id
          and report.report_month < {{ rebuild_from_month() }}
          and (report.id_number is distinct from customers.id_number
               or report.full_name is distinct from customers.full_name)
    {%- endif -%}
{%- endmacro %}

{# In a monthly run, the tests of a relation whose meta names a `window_column` (the monthly models,
   raw's event tables, the snapshots) check the rows in the window only: the kept months passed when
   they were built, and every key these tests check includes that column. For raw and the
   snapshots the column is `_batch_month`: the window starts no later than any queued batch's month
   (ingestion/rebuild.py), so every row the run loaded is checked. Overrides dbt's macro that applies
   a test's `where` config, which still applies. #}
{% macro default__get_where_subquery(relation) -%}
    {%- set conditions = [config.get('where')] if config.get('where') else [] -%}
    {%- set column = window_column(relation) -%}
    {%- if column -%}
        {%- do conditions.append(column ~ ' >= ' ~ rebuild_from_month()) -%}
    {%- endif -%}
    {%- if conditions -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ conditions | join(' and ') ~ ') dbt_subquery') -%}
    {%- endif -%}
    {%- do return(relation) -%}
{%- endmacro %}

{% macro window_column(relation) -%}
    {%- set nodes = graph.get('nodes', {}).values() | selectattr('resource_type', 'equalto', 'model') | list -%}
    {%- for node in nodes + (graph.get('sources', {}).values() | list) -%}
        {%- set name = node.identifier if node.resource_type == 'source' else node.alias -%}
        {%- if name | lower == (relation.identifier or '') | lower
              and node.schema | lower == (relation.schema or '') | lower -%}
            {%- do return(node.config.meta.get('window_column')) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- do return(none) -%}
{%- endmacro %}

{# A bill settled before the window: due and FIFO-covered before it. No batch of the window can
   change it: the bills before it are due before the window too, and so are the payments that
   covered it (ingestion/rebuild.py starts the window at the earliest month a batch changes), and
   amounts are not negative (gate), so later bills sort after it and later payments only add. A
   bill never covered is not settled (coalesce). #}
{% macro settled_before_window() -%}
    coalesce(due_date < {{ rebuild_from_month() }} and covered_on < {{ rebuild_from_month() }}, false)
{%- endmacro %}

{# A table of the last `count` reporting months (as_of_month): a monthly run drops the months that
   have left them, as a full build would not have them. #}
{% macro keep_last_as_of_months(count) -%}
    {%- if rebuilding_window() -%}
        delete from {{ this }} where as_of_month not in (
            select report_month from {{ ref('int_reporting_months') }} order by report_month desc limit {{ count }}
        )
    {%- endif -%}
{%- endmacro %}
