"""What is in the warehouse: batches loaded, rows per layer's tables (read by `status` and after `run`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

LAYERS = ("raw", "staging", "intermediate", "marts")


@dataclass(frozen=True)
class WarehouseStatus:
    path: Path
    batches: list[tuple[str, str, int]]  # (month, status of its latest attempt, rows loaded)
    rows_by_layer: dict[str, dict[str, int]]  # layer -> table -> rows
    views_by_layer: dict[str, int]  # layer -> views, not counted: each count would run its query


def read_status(path: Path) -> WarehouseStatus:
    con = duckdb.connect(str(path), read_only=True)
    try:
        has_audit = con.execute(
            "select count(*) from duckdb_tables() where schema_name = 'audit' and table_name = 'load_batches'"
        ).fetchone()[0]
        batches = []
        if has_audit:
            batches = con.execute(
                """
                with latest as (
                    select batch_month, status, rows_loaded,
                           max(loaded_at) over (partition by batch_month) as last_attempt, loaded_at
                    from audit.load_batches
                )
                select strftime(batch_month, '%Y-%m'),
                       case when bool_or(status = 'REJECTED') then 'REJECTED'
                            when bool_or(status = 'LOADED_WITH_QUARANTINE') then 'LOADED_WITH_QUARANTINE'
                            else 'LOADED' end,
                       sum(rows_loaded)::bigint
                from latest where loaded_at = last_attempt
                group by batch_month order by batch_month
                """
            ).fetchall()
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
    con = duckdb.connect(str(path), read_only=True)
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
    loaded = [b for b in status.batches if b[1] != "REJECTED"]
    lines = [f"warehouse: {status.path}"]
    if status.batches:
        lines.append(
            f"batches loaded: {len(loaded)} of {len(status.batches)} attempted"
            + (f" ({loaded[0][0]} .. {loaded[-1][0]})" if loaded else "")
        )
        for month, state, _ in status.batches:
            if state != "LOADED":  # rejected, or loaded with rows held in quarantine
                lines.append(f"  {month}: {state} (see audit.load_batches)")
    else:
        lines.append("batches loaded: none yet")
    for layer, tables in status.rows_by_layer.items():
        if tables:
            lines.append(f"{layer}: {sum(tables.values()):,} rows in {len(tables)} tables")
            lines += [f"  {layer}.{name}: {n:,}" for name, n in tables.items()]
        if status.views_by_layer.get(layer):
            lines.append(f"{layer}: {status.views_by_layer[layer]} views (rows not counted: a view runs its query)")
    return "\n".join(lines)
