{{ config(alias='quarantine_summary') }}
-- The analytics surface (R15): quarantined rows counted per batch, file and reason; the rows
-- themselves hold personal data and stay in the quarantine schema.
{% set landing_tables = ['customers', 'accounts', 'agreements', 'invitations', 'bills', 'repayments', 'account_snapshots'] %}
{% for table in landing_tables %}
select
    batch_month,
    '{{ table }}' as landing_table,
    reason,
    count(*) as rows_quarantined,
    max(quarantined_at) as last_quarantined_at
from {{ source('quarantine', table) }}
group by all
{% if not loop.last %}union all{% endif %}
{% endfor %}
