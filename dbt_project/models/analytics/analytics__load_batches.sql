{{ config(alias='load_batches') }}
-- The analytics surface (R15): load attempts, for the data-quality page and analysts. Columns
-- listed: a new audit column reaches analysts only once someone has checked what it holds.
select
    batch_month,
    file_name,
    loaded_at,
    status,
    rows_received,
    rows_loaded,
    rows_quarantined,
    reason,
    checks_evaluated,
    checks_failed,
    manifest_produced_at
from {{ source('audit', 'load_batches') }}
