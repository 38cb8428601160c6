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
