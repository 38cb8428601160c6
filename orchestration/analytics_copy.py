"""Publish the analytics schema as a read-only DuckDB file for the dashboard and ad-hoc SQL.

DuckDB allows one writer process or many reader processes per file, never both: the dashboard
therefore never opens the warehouse. After a run's checks pass, every relation of the warehouse's
`analytics` schema (the R15-safe surface) is copied into a new file, which is closed (checkpointed)
and swapped in by an atomic rename. A reader connecting afterwards sees the new copy; one mid-query
finishes on the old file, which the rename leaves intact for it.
"""

from __future__ import annotations

import os
import shutil
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from foundation.published_copy import PUBLICATION_TABLE, SCHEMA
from ingestion.file_reader import sql_string
from orchestration import settings
from orchestration.warehouse_file import connect_warehouse


@dataclass(frozen=True)
class Publication:
    path: Path
    published_at: datetime
    data_as_of: str | None  # latest reporting month, YYYY-MM
    table_rows: dict[str, int]


# The analytics relations over the load audit and the quarantine: published after a run that
# failed too, so that the Data quality page shows why (the others keep the last passing build's).
LOAD_AUDIT_RELATIONS = ("load_batches", "quarantine_summary")
# The analytics relations over the ledger (audit.bureau_*, submission_holds, submitted_months):
# all a submission run or a feedback file changes.
LEDGER_RELATIONS = (
    "compliance_bureau_view",
    "compliance_holds",
    "compliance_ledger_lines",
    "submission_files",
    "submission_holds",
    "submission_months",
    "submission_refusals",
)


def publish_analytics(
    warehouse: Path,
    target: Path,
    run_id: str,
    only: tuple[str, ...] = (),
    failure: str | None = None,
    reports: Path | None = None,
) -> Publication:
    """Copy the warehouse's analytics relations into `target`, replacing it atomically; with `only`,
    the current copy (if any) with just those relations copied again (the others have not changed).
    `reports`: where the gate's validation reports are, when not beside `warehouse`.

    `failure` says the run failed, and why: the copy keeps the publication row of the last passing
    build (none: no build yet) and records the failure, which every page then shows."""
    target.parent.mkdir(parents=True, exist_ok=True)
    # DuckDB names a file's catalog after its stem: neither may be called like the schema inside.
    building = target.with_name(f"{target.stem}-building-{os.getpid()}{target.suffix}")
    _remove_with_wal(building)
    published_at = datetime.now(UTC)
    previous = _publication_row(target) if only and target.is_file() else None
    if previous is not None:
        shutil.copyfile(target, building)  # checkpointed when published: the file is the whole copy
    con = duckdb.connect(str(building))
    try:
        con.execute(f"attach {sql_string(warehouse)} as warehouse (read_only)")
        names = [
            row[0]
            for row in con.execute(
                "select table_name from information_schema.tables"
                " where table_catalog = 'warehouse' and table_schema = ? order by table_name",
                [SCHEMA],
            ).fetchall()
            if not only or row[0] in only
        ]
        con.execute(f"create schema if not exists {SCHEMA}")
        rows = {}
        for name in names:
            con.execute(f"create or replace table {SCHEMA}.{name} as select * from warehouse.{SCHEMA}.{name}")
            rows[name] = con.execute(f"select count(*) from {SCHEMA}.{name}").fetchone()[0]
        _copy_descriptions(con, names)
        con.execute("detach warehouse")
        con.execute(f"drop table if exists {SCHEMA}.{PUBLICATION_TABLE}")
        if failure is not None:  # the marts are the last passing build's: its row stays, the failure added
            build = previous or {"published_at": None, "run_id": None, "data_as_of": None}
            row = {**build, "last_failure": failure, "last_failure_at": published_at}
        elif previous and previous["published_at"] is None:  # no build yet: a refresh does not make one
            row = previous
        else:
            as_of = con.execute(f"select strftime(max(month), '%Y-%m') from {SCHEMA}.rollout_coverage").fetchone()[0]
            row = {"published_at": published_at, "run_id": run_id, "data_as_of": as_of}
            kept = previous if only and previous else {}  # a refresh of the ledger keeps a failure's record
            row |= {"last_failure": kept.get("last_failure"), "last_failure_at": kept.get("last_failure_at")}
        con.execute(
            f"create table {SCHEMA}.{PUBLICATION_TABLE} as select ?::timestamptz as published_at, ? as run_id,"
            " ? as data_as_of, ? as validation_reports_dir, ? as last_failure, ?::timestamptz as last_failure_at",
            [
                row["published_at"],
                row["run_id"],
                row["data_as_of"],
                str(reports or settings.validation_reports_dir(warehouse)),
                row["last_failure"],
                row["last_failure_at"],
            ],
        )
        con.execute(f"comment on table {SCHEMA}.{PUBLICATION_TABLE} is 'One row: which publication this copy is.'")
        for column, description in PUBLICATION_COLUMNS.items():
            con.execute(f"comment on column {SCHEMA}.{PUBLICATION_TABLE}.{column} is {sql_string(description)}")
        con.execute("checkpoint")
    except BaseException:
        con.close()
        _remove_with_wal(building)
        raise
    con.close()
    # A stale write-ahead log beside the target would be replayed onto the new file.
    Path(f"{target}.wal").unlink(missing_ok=True)
    os.replace(building, target)
    return Publication(target, published_at, row["data_as_of"], rows)


def _publication_row(target: Path) -> dict | None:
    """The current copy's publication row (None for a copy without one)."""
    with duckdb.connect(str(target), read_only=True) as con:
        try:
            cursor = con.execute(f"select * from {SCHEMA}.{PUBLICATION_TABLE}")
        except duckdb.CatalogException:
            return None
        names = [d[0] for d in cursor.description]
        return dict(zip(names, cursor.fetchone(), strict=True))


PUBLICATION_COLUMNS = {
    "published_at": "When the build in this copy was published (UTC instant); NULL when no build has passed yet.",
    "run_id": "The run that published it (a Dagster run id, or the command's).",
    "data_as_of": "The latest reporting month in the copy, YYYY-MM.",
    "validation_reports_dir": "Where the landing gate's validation reports are (index.html lists every attempt).",
    "last_failure": "Why the latest run failed, when it did: the load audit is then newer than the rest.",
    "last_failure_at": "When that run's load audit was published (UTC instant).",
}


def _copy_descriptions(con: duckdb.DuckDBPyConnection, names: list[str]) -> None:
    """The dbt descriptions of the copied relations and their columns (comments in the warehouse,
    persist_docs) onto the copy's tables: analysts read them where they query."""
    wanted = set(names)
    for name, comment in con.execute(
        "select view_name, comment from duckdb_views() where database_name = 'warehouse' and schema_name = ?"
        " and comment is not null",
        [SCHEMA],
    ).fetchall():
        if name in wanted:
            con.execute(f"comment on table {SCHEMA}.{name} is {sql_string(comment)}")
    for name, column, comment in con.execute(
        "select table_name, column_name, comment from duckdb_columns() where database_name = 'warehouse'"
        " and schema_name = ? and comment is not null",
        [SCHEMA],
    ).fetchall():
        if name in wanted:
            con.execute(f'comment on column {SCHEMA}.{name}."{column}" is {sql_string(comment)}')


def _remove_with_wal(path: Path) -> None:
    path.unlink(missing_ok=True)
    Path(f"{path}.wal").unlink(missing_ok=True)


def publish_after_failure(warehouse: Path, target: Path, run_id: str, failure: str) -> Publication | None:
    """After a run that failed (a batch rejected, a blocking test failed): the load audit and the
    quarantine published anyway, marked with the failure, so the Data quality page shows why; the
    rest of the copy stays the last passing build's. Nothing when the warehouse has no audit views
    (no build has ever created them)."""
    with closing(connect_warehouse(warehouse, read_only=True)) as con:
        present = {
            name
            for (name,) in con.execute(
                "select table_name from information_schema.tables where table_schema = ?", [SCHEMA]
            ).fetchall()
        }
    if not set(LOAD_AUDIT_RELATIONS) <= present:
        return None
    return publish_analytics(warehouse, target, run_id, only=LOAD_AUDIT_RELATIONS, failure=failure)


def refresh_after_submission(warehouse: Path, target: Path, run_id: str) -> Publication | None:
    """Publish the ledger's relations again after a submission run or a feedback file, so the
    Submissions and Compliance pages show the ledger as it now is; the rest of the copy is kept (at
    1M the ledger's relations are ~7 s of the copy's ~42). Only a passing build publishes first:
    without a copy, nothing is published."""
    if not target.is_file():
        return None
    return publish_analytics(warehouse, target, run_id, only=LEDGER_RELATIONS)
