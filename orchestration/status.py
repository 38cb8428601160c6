"""What is in the warehouse: batches loaded, rows per layer's tables (read by `status` and after `run`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from foundation.batch_states import batch_states_sql
from foundation.months import BUSINESS_TIMEZONE
from orchestration.warehouse_file import connect_warehouse

LAYERS = ("raw", "staging", "intermediate", "marts")


BATCHES = batch_states_sql("audit.load_batches")


@dataclass(frozen=True)
class BatchState:
    """A month's batch: the sending loaded in raw (if any) and the latest sending refused (if any)."""

    month: str
    status: str | None  # LOADED / LOADED_WITH_QUARANTINE of the loaded sending; None when none loaded
    rows_loaded: int
    rows_quarantined: int
    produced_at: str | None  # the loaded sending's manifest time
    loaded_at: datetime | None
    refused_at: datetime | None  # the latest refused sending, when it came after the loaded one
    refused_reason: str | None


@dataclass(frozen=True)
class WarehouseStatus:
    path: Path
    batches: list[BatchState]
    rows_by_layer: dict[str, dict[str, int]]  # layer -> table -> rows
    views_by_layer: dict[str, int]  # layer -> views, not counted: each count would run its query


def read_status(path: Path) -> WarehouseStatus:
    con = connect_warehouse(path, read_only=True)
    try:
        has_audit = con.execute(
            "select count(*) from duckdb_tables() where schema_name = 'audit' and table_name = 'load_batches'"
        ).fetchone()[0]
        batches = [BatchState(*row) for row in con.execute(BATCHES).fetchall()] if has_audit else []
        tables = con.execute(
            "select schema_name, table_name from duckdb_tables() where schema_name in (?, ?, ?, ?) order by 1, 2",
            LAYERS,
        ).fetchall()
        rows: dict[str, dict[str, int]] = {layer: {} for layer in LAYERS}
        for schema, name in tables:
            rows[schema][name] = con.execute(f'select count(*) from "{schema}"."{name}"').fetchone()[0]
        views = con.execute(
            "select schema_name, count(*) from duckdb_views() where schema_name in (?, ?, ?, ?) group by 1", LAYERS
        ).fetchall()
        return WarehouseStatus(path, batches, rows, dict(views))
    finally:
        con.close()


@dataclass(frozen=True)
class RunSummary:
    """What a run leaves behind, for the run's metadata: rows per layer, the latest month's reporting."""

    rows_per_layer: dict[str, int]
    latest_month: str | None
    records_reported: int  # records in the latest month's reporting mart
    account_coverage: float | None  # reported accounts / active accounts in that month (R18)
    balance_coverage: float | None  # reported balance / total balance


def run_summary(path: Path) -> RunSummary:
    status = read_status(path)
    con = connect_warehouse(path, read_only=True)
    try:
        month, records, accounts, balance = con.execute(
            """
            with latest as (select max(month) as month from marts.fct_rollout_coverage)
            select
                strftime(latest.month, '%Y-%m'),
                (select count(*) from marts.credit_report_monthly where report_month = latest.month),
                sum(reported_accounts) / nullif(sum(active_accounts), 0),
                sum(reported_balance) / nullif(sum(total_balance), 0)
            from latest
            left join marts.fct_rollout_coverage as coverage on coverage.month = latest.month
            group by latest.month
            """
        ).fetchone()
    finally:
        con.close()
    return RunSummary(
        {layer: sum(tables.values()) for layer, tables in status.rows_by_layer.items() if tables},
        month,
        records or 0,
        None if accounts is None else float(accounts),
        None if balance is None else float(balance),
    )


def format_status(status: WarehouseStatus) -> str:
    loaded = [b for b in status.batches if b.status]
    lines = [f"warehouse: {status.path}"]
    if status.batches:
        lines.append(
            f"batches loaded: {len(loaded)} of {len(status.batches)} attempted"
            + (f" ({loaded[0].month} .. {loaded[-1].month})" if loaded else "")
        )
        lines += [line for batch in status.batches if (line := _batch_line(batch))]
    else:
        lines.append("batches loaded: none yet")
    for layer, tables in status.rows_by_layer.items():
        if tables:
            lines.append(f"{layer}: {sum(tables.values()):,} rows in {len(tables)} tables")
            lines += [f"  {layer}.{name}: {n:,}" for name, n in tables.items()]
        if status.views_by_layer.get(layer):
            lines.append(f"{layer}: {status.views_by_layer[layer]} views (rows not counted: a view runs its query)")
    return "\n".join(lines)


def _batch_line(batch: BatchState) -> str | None:
    """A month worth a line: not loaded, loaded with quarantine, or a later sending refused."""
    refused = f"refused {_local(batch.refused_at)}: {batch.refused_reason}" if batch.refused_at else ""
    if batch.status is None:
        return f"  {batch.month}: REJECTED, nothing loaded; {refused} (see audit.load_batches)"
    if batch.status == "LOADED" and not refused:
        return None
    version = f"the sending produced {batch.produced_at}, loaded {_local(batch.loaded_at)}"
    later = f"; a later sending was {refused}, the loaded one stays" if refused else ""
    return f"  {batch.month}: {batch.status} ({version}){later} (see audit.load_batches)"


def _local(moment: datetime | None) -> str:
    return f"{moment.astimezone(ZoneInfo(BUSINESS_TIMEZONE)):%Y-%m-%d %H:%M:%S} China time" if moment else "never"
