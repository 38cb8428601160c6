"""Which reporting months a batch changes, queued for the incremental dbt build.

The monthly models' months depend on a batch through its events (bills from their due month,
repayments, consents, invitations, month-end snapshots, customer versions from the month they
take effect) and through accounts opening and closing. A month changes when such a fact in it
changes, and so does every later month (delinquency carries forward; the history string looks
back 24 months; a cohort takes the customer version valid at month end). So a batch changes the
months from the earliest month its facts speak about: its events, and the earlier versions of
any event it corrects; the opening and closing of accounts it brings new; the old and new
opening or closing of accounts it re-versions where they moved. The load queues that month, for
the rows it replaces and the rows it brings, in its own transaction; the dbt build rebuilds from
the earliest queued month and clears the queue only once it passed, so a run killed between the
two loses nothing.

Identity is not a monthly fact: the mart refreshes it in every kept month (P2). Neither is the
wave (a customer's lifetime attribute): the coverage cube joins it and rebuilds whole each time.
"""

from __future__ import annotations

from datetime import date, datetime

import duckdb

from ingestion.months import BUSINESS_TIMEZONE

QUEUE = "audit.months_to_rebuild"
QUEUE_DDL = f"""
create table if not exists {QUEUE} (
    batch_month date not null,
    rebuild_from date not null,
    queued_at timestamptz not null
)
"""


def _local_month(column: str) -> str:  # R1: an instant's month is its local month
    return f"date_trunc('month', timezone('{BUSINESS_TIMEZONE}', {column}))::date"


# Every version of each event this batch carries (a correction moves an event: its old month counts).
_EVENTS = {
    "agreements": ("agreement_id", _local_month("signed_at")),
    "bills": ("bill_id", "date_trunc('month', due_date)::date"),  # due_date >= statement_date (gate)
    "repayments": ("repayment_id", _local_month("paid_at")),
    "account_snapshots": ("account_id, snapshot_month", "snapshot_month"),
    "invitations": ("invitation_id", _local_month("invited_at")),
    "customers": ("customer_id, updated_at", _local_month("updated_at")),
}
_EVENT_MONTHS = [
    f"select min({month}) as month from raw.{table} "
    f"where ({key}) in (select {key} from raw.{table} where _batch_month = $batch)"
    for table, (key, month) in _EVENTS.items()
]
_ACCOUNT_MONTHS = f"""
select min(least(
    case when is_new or opening_moved then first_opened end,
    case when is_new or closing_moved then first_closed end
)) as month
from (
    select
        bool_and(_batch_month = $batch) as is_new,
        count(distinct opened_at) > 1 as opening_moved,
        count(distinct coalesce(cast(closed_at as varchar), 'open')) > 1 as closing_moved,
        min({_local_month("opened_at")}) as first_opened,
        min({_local_month("closed_at")}) as first_closed
    from raw.accounts
    where account_id in (select account_id from raw.accounts where _batch_month = $batch)
    group by account_id
)
"""
EARLIEST_MONTH_SQL = "select min(month) from (" + " union all ".join([*_EVENT_MONTHS, _ACCOUNT_MONTHS]) + ")"


def earliest_month_touched(con: duckdb.DuckDBPyConnection, batch_month: str) -> date | None:
    """The earliest month any row of this batch (as loaded now) speaks about; None before a load."""
    return con.execute(EARLIEST_MONTH_SQL, {"batch": date.fromisoformat(batch_month + "-01")}).fetchone()[0]


def queue_rebuild(con: duckdb.DuckDBPyConnection, batch_month: str, touched: list[date | None], at: datetime) -> None:
    """Queue the rebuild of every month from the earliest touched (never later than the batch's)."""
    first = min([date.fromisoformat(batch_month + "-01"), *(t for t in touched if t is not None)])
    con.execute(f"insert into {QUEUE} values (?::date, ?, ?)", [batch_month + "-01", first, at])


def pending_rebuild_from(con: duckdb.DuckDBPyConnection) -> tuple[date | None, datetime | None]:
    """The earliest month waiting to be rebuilt and the latest queue time (None, None when idle)."""
    con.execute(QUEUE_DDL)
    return con.execute(f"select min(rebuild_from), max(queued_at) from {QUEUE}").fetchone()


def clear_rebuilt(con: duckdb.DuckDBPyConnection, queued_up_to: datetime) -> None:
    """Drop what a successful build covered; batches queued while it ran stay queued."""
    con.execute(f"delete from {QUEUE} where queued_at <= ?", [queued_up_to])
