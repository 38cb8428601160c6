"""The Parquet lake Spark builds from (docs/spark.md): where the engines meet.

The landing gate and the loads stay on one machine per batch and write DuckDB's `raw`; each loaded
batch is also written here as one Parquet partition per raw table,
`<lake>/raw/<table>/_batch_month=YYYY-MM-01/part.parquet`, which replaces the month's partition
whole (a resent batch, like the load itself). The load bookkeeping and the bureau ledger
(`audit`) and the quarantine are small and written whole, `<lake>/<schema>/<table>/part.parquet`.
Each file is written beside its place and renamed into it, so a reader never sees half of one.
dbt on Spark reads these folders as its sources (dbt_project/macros/engines/lake.sql).
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from foundation.landing import LANDING_FILES
from foundation.months import first_day

WHOLE_SCHEMAS = ("audit", "quarantine")
PART = "part.parquet"


def write_batch(con: duckdb.DuckDBPyConnection, lake: Path, month: str) -> None:
    """Write batch `month`'s raw rows (every landing file) as the month's partitions."""
    for spec in LANDING_FILES:
        folder = lake / "raw" / spec.name / f"_batch_month={first_day(month)}"
        rows = f"select * exclude (_batch_month) from raw.{spec.name} where _batch_month = date '{first_day(month)}'"
        _write(con, f"({rows})", folder)


def write_bookkeeping(con: duckdb.DuckDBPyConnection, lake: Path) -> None:
    """Write every audit and quarantine table whole."""
    tables = con.execute(
        "select schema_name, table_name from duckdb_tables() where database_name = current_database() "
        f"and schema_name in {WHOLE_SCHEMAS} order by all"
    ).fetchall()
    for schema, table in tables:
        _write(con, f"{schema}.{table}", lake / schema / table)


def write_all(con: duckdb.DuckDBPyConnection, lake: Path) -> list[str]:
    """Every loaded batch and the bookkeeping: a lake from a warehouse (the first time, or again)."""
    batches = " union ".join(f"select _batch_month from raw.{spec.name}" for spec in LANDING_FILES)
    loaded = con.execute(f"{batches} order by 1").fetchall()
    months = [str(month)[:7] for (month,) in loaded]
    for month in months:
        write_batch(con, lake, month)
    write_bookkeeping(con, lake)
    return months


def _write(con: duckdb.DuckDBPyConnection, relation: str, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f".{PART}.partial"
    con.execute(f"copy {relation} to '{partial}' (format parquet)")
    os.replace(partial, folder / PART)
