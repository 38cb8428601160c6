"""Which sending of each batch month is in raw, and whether a later one was refused: the one reading
of the load audit, for the `status` command (audit.load_batches in the warehouse) and the dashboard
(analytics.load_batches in the published copy, the same columns)."""

from __future__ import annotations

_BATCH_STATES = """
with attempts as (  -- one row per load attempt of a month: its files' rows summed
    select batch_month, loaded_at,
           case when bool_or(status = 'REJECTED') then 'REJECTED'
                when bool_or(status = 'LOADED_WITH_QUARANTINE') then 'LOADED_WITH_QUARANTINE'
                else 'LOADED' end as status,
           sum(rows_loaded)::bigint as rows_loaded,
           sum(rows_quarantined)::bigint as rows_quarantined,
           max(manifest_produced_at) as produced_at,
           -- the failing file's reason (the others say "batch rejected: <file>: ..."), or the batch's
           case when count(distinct reason) = 1 then min(reason)
                else arg_min(file_name || ': ' || reason, reason like 'batch rejected: %') end as reason
    from {table}
    group by batch_month, loaded_at
),
loaded as (  -- a rejected attempt changes nothing: the latest other one is the version in raw
    select batch_month, arg_max(attempts, loaded_at) as version
    from attempts where status <> 'REJECTED' group by batch_month
),
refused as (
    select batch_month, arg_max(attempts, loaded_at) as attempt
    from attempts where status = 'REJECTED' group by batch_month
)
select strftime(batch_month, '%Y-%m') as month,
       loaded.version.status as status,
       coalesce(loaded.version.rows_loaded, 0) as rows_loaded,
       coalesce(loaded.version.rows_quarantined, 0) as rows_quarantined,
       loaded.version.produced_at as produced_at,
       loaded.version.loaded_at as loaded_at,
       later.attempt.loaded_at as refused_at,
       later.attempt.reason as refused_reason
from loaded
full join refused using (batch_month)
left join refused as later  -- only a refusal after the loaded sending is news
    on later.batch_month = refused.batch_month
   and (loaded.version is null or later.attempt.loaded_at > loaded.version.loaded_at)
order by 1
"""


def batch_states_sql(load_audit: str) -> str:
    """Per batch month: status, rows_loaded and rows_quarantined of the sending in raw (NULL status
    when none loaded), its produced_at and loaded_at, and refused_at / refused_reason of the latest
    sending refused after it."""
    return _BATCH_STATES.format(table=load_audit)
