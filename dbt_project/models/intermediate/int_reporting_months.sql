-- P1: the reporting months are the months of the batches loaded; a month without one has no
-- records. R2: each month's cut-off is the end of its last local day.
select distinct
    batch_month as report_month,
    last_day(batch_month) as month_end
from {{ source('audit', 'load_batches') }}
where status in ('LOADED', 'LOADED_WITH_QUARANTINE')
