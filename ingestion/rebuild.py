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
wave (a customer's lifetime attribute): the coverage cube moves the kept months of the customers
whose wave changed (dbt_project/macros/coverage_cells.sql).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import duckdb

from foundation.months import BUSINESS_TIMEZONE, first_day

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
    return con.execute(EARLIEST_MONTH_SQL, {"batch": first_day(batch_month)}).fetchone()[0]


# How dbt learns the window: an environment variable read only in macros/rebuild_window.sql. A changed
# --vars would make dbt parse the whole project again (5-9 s a run); an unset variable is a full build.
WINDOW_ENV = "CRW_REBUILD_FROM_MONTH"
AFTER_EVERY_MONTH = date(9999, 12, 1)  # an incremental window that rebuilds no month


@dataclass(frozen=True)
class RebuildWindow:
    """What one dbt build rebuilds: every table from scratch (`start` None), or the reporting months
    from `start` on, the months before it kept as they were built."""

    start: date | None

    @property
    def full(self) -> bool:
        return self.start is None

    def dbt_args(self) -> list[str]:
        return ["build", "--full-refresh"] if self.full else ["build"]  # --full-refresh takes in changed columns

    def dbt_env(self) -> dict[str, str]:
        return {} if self.full else {WINDOW_ENV: self.start.isoformat()}

    def describe(self) -> str:
        if self.full:
            return "full build: every table rebuilt"
        if self.start == AFTER_EVERY_MONTH:
            return "incremental build: no month queued, every month kept"
        return f"incremental build: reporting months from {self.start:%Y-%m} on"


def rebuild_window(queued_from: date | None, runs_batches: bool) -> RebuildWindow:
    """The one decision: a run of the monthly job (its batch months, one or a backfilled range)
    rebuilds from the earliest month queued, and with none queued keeps every month; any other run
    (a full build, a new model) rebuilds everything."""
    if not runs_batches:
        return RebuildWindow(None)
    return RebuildWindow(queued_from or AFTER_EVERY_MONTH)


def queue_rebuild(con: duckdb.DuckDBPyConnection, batch_month: str, touched: list[date | None], at: datetime) -> None:
    """Queue the rebuild of every month from the earliest touched (never later than the batch's)."""
    first = min([first_day(batch_month), *(t for t in touched if t is not None)])
    con.execute(f"insert into {QUEUE} values (?::date, ?, ?)", [first_day(batch_month), first, at])


def pending_rebuild_from(con: duckdb.DuckDBPyConnection) -> tuple[date | None, datetime | None]:
    """The earliest month waiting to be rebuilt and the latest queue time (None, None when idle)."""
    con.execute(QUEUE_DDL)
    return con.execute(f"select min(rebuild_from), max(queued_at) from {QUEUE}").fetchone()


def clear_rebuilt(con: duckdb.DuckDBPyConnection, queued_up_to: datetime) -> None:
    """Drop what a successful build covered; batches queued while it ran stay queued."""
    con.execute(f"delete from {QUEUE} where queued_at <= ?", [queued_up_to])
