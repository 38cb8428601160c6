{{ config(alias='compliance_quarantined') }}
-- Compliance: the rows the landing gate held back, by customer key or account id, with their
-- batch, row and reason (reasons never quote values: R15); the rows themselves stay in quarantine.
{%- set files = [
    ('customers', 'customer_id', 'null'),
    ('accounts', 'customer_id', 'account_id'),
    ('agreements', 'customer_id', 'null'),
    ('invitations', 'customer_id', 'null'),
    ('bills', 'null', 'account_id'),
    ('repayments', 'null', 'account_id'),
    ('account_snapshots', 'null', 'account_id'),
] %}
{% for file, customer, account in files %}
select
    '{{ file }}' as file,
    cast({{ customer }} as {{ dbt.type_string() }}) as customer_id,
    cast({{ account }} as {{ dbt.type_string() }}) as account_id,
    batch_month,
    _source_row as source_row,
    reason
from {{ source('quarantine', file) }}
{% if not loop.last %}union all{% endif %}
{% endfor %}
