{#
  Contract (landing.md): a CDC row's latest version wins by updated_at, on a tie the later
  batch, then the later line; an event id seen again in a later batch is a correction.
#}
{% macro latest_per_key(key, version_order) -%}
    qualify row_number() over (
        partition by {{ key }}
        order by {{ version_order ~ ', ' if version_order else '' }}_batch_month desc, _source_row desc
    ) = 1
{%- endmacro %}

{#
  The deduplicated state of an event table kept as batches load (stg_landing__bills, __repayments):
  a full build ranks every raw row once; a monthly run ranks again only the keys a batch of its
  window can have changed, those with a raw row in a batch from the window's start (every queued
  batch is, ingestion/rebuild.py) and those whose kept version came from one (a resent batch may
  have dropped it). Their kept rows go first; the model inserts their latest version, if any.
#}
{% macro latest_versions_kept(table, key) -%}
    {{ monthly_incremental('_batch_month', pre_hook="{{ take_back_versions_to_rerank('" ~ table ~ "', '" ~ key ~ "') }}") }}
{%- endmacro %}

{% macro keys_to_rerank() -%}
    {{ this.identifier }}__keys_to_rerank
{%- endmacro %}

{% macro take_back_versions_to_rerank(table, key) -%}
    {%- if rebuilding_window() -%}
    create or replace temporary table {{ keys_to_rerank() }} as
    select {{ key }} from {{ source('raw', table) }} where _batch_month >= {{ rebuild_from_month() }}
    union
    select {{ key }} from {{ this }} where _batch_month >= {{ rebuild_from_month() }};

    delete from {{ this }} where {{ key }} in (select {{ key }} from {{ keys_to_rerank() }})
    {%- endif -%}
{%- endmacro %}

{# The raw rows a run ranks: every one in a full build, the keys to rerank's in a monthly run. #}
{% macro versions_to_rank(key) -%}
    {%- if rebuilding_window() -%}
        where {{ key }} in (select {{ key }} from {{ keys_to_rerank() }})
    {%- endif -%}
{%- endmacro %}
