"""Loads one landing batch into raw.<file> through the data-quality gate, in one transaction.

A batch is the unit of trust and of atomicity:
1. batch-level checks (manifest, sha256, encoding, header, parse, row counts) reject it whole;
2. row-level checks (value types, the GX suites, orphans across files) send failing rows to
   quarantine.<file> with their reasons; more than a set share of bad rows rejects the batch;
3. in one transaction every raw and quarantine table drops the rows of that batch month and takes
   the new ones, and the audit rows are written. Loading a batch again leaves the warehouse as if
   loaded once, a resent batch replaces the old one whole, and for every file
   rows received = rows loaded + rows quarantined. Every attempt, rejected ones too, is audited.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from data_quality.gate import CheckOutcome, validate
from foundation.errors import BatchNotReady, BatchRejected
from foundation.landing import DUCKDB_TYPES, LANDING_FILES, LandingFile
from foundation.months import first_day
from ingestion import cross_file, rebuild
from ingestion.file_reader import StagedFile, stage_file
from ingestion.load_report import write_report
from ingestion.manifest import read_manifest

MAX_BAD_SHARE_ENV = "CRW_MAX_BAD_ROW_SHARE"
DEFAULT_MAX_BAD_SHARE = 0.05

LOAD_COLUMNS = {
    "_batch_month": "DATE NOT NULL",
    "_source_file": "VARCHAR NOT NULL",
    "_source_row": "BIGINT NOT NULL",  # 1-based position of the data row in its file
    "_loaded_at": "TIMESTAMPTZ NOT NULL",
}
QUARANTINE_COLUMNS = {
    "_source_row": "BIGINT NOT NULL",
    "batch_month": "DATE NOT NULL",
    "quarantined_at": "TIMESTAMPTZ NOT NULL",
    "reason": "VARCHAR NOT NULL",
}

AUDIT_DDL = """
create table if not exists audit.load_batches (
    batch_month date not null,
    file_name varchar not null,
    loaded_at timestamptz not null,
    status varchar not null,
    rows_received bigint,
    rows_loaded bigint not null,
    rows_quarantined bigint not null,
    reason varchar,
    checks_evaluated integer not null,
    checks_failed integer not null,
    manifest_produced_at varchar
)
"""


@dataclass
class FileLoad:
    """One file's outcome: counts, checks, GX outcomes, the rows held back."""

    staged: StagedFile
    outcomes: list[CheckOutcome] = field(default_factory=list)

    @property
    def file_name(self) -> str:
        return self.staged.file_name

    @property
    def rows_received(self) -> int:
        return self.staged.rows_received

    @property
    def rows_quarantined(self) -> int:
        return len(self.staged.row_reasons)

    @property
    def rows_loaded(self) -> int:
        return self.rows_received - self.rows_quarantined

    @property
    def status(self) -> str:
        return "LOADED_WITH_QUARANTINE" if self.rows_quarantined else "LOADED"

    def reason_summary(self) -> str | None:
        counts: dict[str, int] = {}
        for reasons in self.staged.row_reasons.values():
            for reason in reasons:
                counts[reason] = counts.get(reason, 0) + 1
        return "; ".join(f"{reason}: {n}" for reason, n in sorted(counts.items())) or None


@dataclass(frozen=True)
class BatchLoad:
    """One load attempt of a batch month: loaded (with its quarantine) or rejected, and why."""

    batch_month: str
    attempted_at: datetime
    status: str  # LOADED, LOADED_WITH_QUARANTINE or REJECTED
    produced_at: str | None
    files: dict[str, FileLoad]
    flags: list[cross_file.Flag]
    reason: str | None = None  # why it was rejected
    report: Path | None = None  # its validation report, once written


def max_bad_share() -> float:
    return float(os.environ.get(MAX_BAD_SHARE_ENV, DEFAULT_MAX_BAD_SHARE))


def ensure_warehouse_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Schemas of contracts/marts.md, the raw and quarantine tables of every landing file, the load
    audit and the rebuild queue (the bureau's ledger is its own: bureau/ledger.py)."""
    for schema in ("raw", "quarantine", "audit"):
        con.execute(f"create schema if not exists {schema}")
    for spec in LANDING_FILES:
        raw = [f'"{c.name}" {DUCKDB_TYPES[c.type]}' for c in spec.columns]
        raw += [f"{name} {ddl}" for name, ddl in LOAD_COLUMNS.items()]
        con.execute(f"create table if not exists raw.{spec.name} ({', '.join(raw)})")
        held = [f'"{c.name}" VARCHAR' for c in spec.columns]  # as received: every column as text
        held += [f"{name} {ddl}" for name, ddl in QUARANTINE_COLUMNS.items()]
        con.execute(f"create table if not exists quarantine.{spec.name} ({', '.join(held)})")
    con.execute(AUDIT_DDL)
    con.execute(rebuild.QUEUE_DDL)


def _run_gate(con: duckdb.DuckDBPyConnection, staged: StagedFile, month: str) -> list[CheckOutcome]:
    """The GX suite on the rows whose values have their types."""
    result = validate(con, staged.spec.name, staged.typed_table, month)
    staged.checks_evaluated += len(result.outcomes)
    staged.checks_failed += result.checks_failed
    for row, reasons in result.row_reasons.items():
        staged.row_reasons.setdefault(row, []).extend(reasons)
    return result.outcomes


def _check_share(staged: StagedFile, month: str) -> None:
    if staged.rows_received and len(staged.row_reasons) / staged.rows_received > max_bad_share():
        row = min(staged.row_reasons)
        raise BatchRejected(
            month,
            f"{len(staged.row_reasons)} of {staged.rows_received} rows failed checks, more than "
            f"{max_bad_share():.0%}; first: row {row}: {'; '.join(staged.row_reasons[row])}",
            staged.file_name,
        )


def insert_file(con: duckdb.DuckDBPyConnection, spec: LandingFile, month: str, load: FileLoad, at: datetime) -> None:
    """Replace this batch month's rows of one file in raw and quarantine (inside the batch transaction)."""
    staged = load.staged
    con.execute(f"delete from raw.{spec.name} where _batch_month = ?::date", [first_day(month)])
    con.execute(f"delete from quarantine.{spec.name} where batch_month = ?::date", [first_day(month)])
    cols = spec.quoted_columns
    con.execute(
        f"insert into raw.{spec.name} ({cols}, {', '.join(LOAD_COLUMNS)})"
        f" select {cols}, ?::date, ?, _source_row, ? from ({staged.kept_rows_sql}) order by _source_row",
        [first_day(month), load.file_name, at],
    )
    if staged.row_reasons:
        con.execute("create or replace temp table held_reasons (_source_row bigint, reason varchar)")
        con.executemany(
            "insert into held_reasons values (?, ?)",
            [(row, "; ".join(reasons)) for row, reasons in sorted(staged.row_reasons.items())],
        )
        as_text = ", ".join(f'"{n}"::varchar' for n in spec.column_names)
        con.execute(
            f"insert into quarantine.{spec.name} select {as_text}, h._source_row, ?::date, ?, h.reason"
            f" from {staged.stage_table} s join held_reasons h on s.rowid + 1 = h._source_row order by h._source_row",
            [first_day(month), at],
        )


def _audit(con, month: str, loaded_at: datetime, rows: list[tuple]) -> None:
    con.executemany(
        "insert into audit.load_batches values (?::date, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(first_day(month), r[0], loaded_at, *r[1:]) for r in rows],
    )


def _record_rejection(
    con,
    month: str,
    reason: str,
    staged: dict[str, StagedFile],
    file_name: str | None,
    produced_at: str | None,
    reports: Path | None,
    outcomes: dict[str, list[CheckOutcome]] | None = None,
) -> None:
    """Audit a rejected attempt, one row per file, the failing one carrying the reason; and write its
    validation report (what was read and checked before the rejection)."""
    rows = []
    for spec in LANDING_FILES:
        s = staged.get(spec.name)
        name = s.file_name if s else spec.file_name()
        why = reason if file_name in (None, name) else f"batch rejected: {file_name}: {reason}"
        failed = (s.checks_failed if s else 0) or int(name == file_name)
        rows.append(
            (
                name,
                "REJECTED",
                s.rows_received if s else None,
                0,
                0,
                why,
                s.checks_evaluated if s else 0,
                failed,
                produced_at,
            )
        )
    attempted_at = datetime.now(UTC)
    con.execute("begin transaction")
    _audit(con, month, attempted_at, rows)
    con.execute("commit")
    if reports is not None:
        files = {t: FileLoad(s, (outcomes or {}).get(t, [])) for t, s in staged.items()}
        write_report(reports, BatchLoad(month, attempted_at, "REJECTED", produced_at, files, [], reason))


def _kind(exc: BaseException) -> str:
    """An error's class, not its message: DuckDB's messages quote the values they failed on (R15)."""
    return f"{exc.__class__.__name__}; the run's log has the details"


def refuse_batch(con: duckdb.DuckDBPyConnection, month: str, reason: str, reports: Path | None = None) -> None:
    """Audit a batch refused before the loader read it (a month outside the partitions, say)."""
    ensure_warehouse_schema(con)
    _record_rejection(con, month, reason, {}, None, None, reports)


def _stage_and_check(
    con, batch_dir: Path, month: str, staged: dict[str, StagedFile], outcomes: dict[str, list[CheckOutcome]]
):
    """Everything before the write: read the manifest, stage each file (its unreadable rows held),
    run the gate, hold orphans, reject a file with too many bad rows, compute the cross-file flags.
    `staged` and `outcomes` fill as it goes: a rejection's report shows what was found before it."""
    manifest = read_manifest(batch_dir)
    with tempfile.TemporaryDirectory(prefix=f"crw-{month}-") as tmp:
        for entry in manifest.files.values():
            staged[entry.table] = stage_file(con, entry, manifest, Path(tmp))
    for table, s in staged.items():
        outcomes[table] = _run_gate(con, s, month)
    if not cross_file.earlier_batches_missing(con, batch_dir):
        cross_file.quarantine_orphans(con, staged, month)
    for s in staged.values():
        _check_share(s, month)
    typed = {table: f"select {s.spec.quoted_columns} from ({s.kept_rows_sql})" for table, s in staged.items()}
    return manifest, cross_file.flags(con, typed, month)


def load_batch(con: duckdb.DuckDBPyConnection, batch_dir: Path, reports: Path | None = None) -> BatchLoad:
    """Verify, gate and load one batch folder; BatchNotReady / BatchRejected (audited) on bad input.
    Any other error is a bug: it is audited as a rejection too, then raised with its traceback. Every
    attempt, rejected or not, writes its validation report into `reports` (when given)."""
    ensure_warehouse_schema(con)
    month = batch_dir.name
    staged: dict[str, StagedFile] = {}
    outcomes: dict[str, list[CheckOutcome]] = {}
    try:
        try:
            manifest, flags = _stage_and_check(con, batch_dir, month, staged, outcomes)
        except BatchNotReady as exc:
            if batch_dir.is_dir():
                _record_rejection(con, month, f"not ready: {exc}", staged, None, None, reports, outcomes)
            raise
        except BatchRejected as exc:
            _record_rejection(con, month, exc.reason, staged, exc.file_name, None, reports, outcomes)
            raise
        except Exception as exc:
            _record_rejection(con, month, f"the gate failed ({_kind(exc)})", staged, None, None, reports, outcomes)
            raise
        loads = {table: FileLoad(s, outcomes[table]) for table, s in staged.items()}
        loaded_at = datetime.now(UTC)
        con.execute("begin transaction")
        try:
            replaced = rebuild.earliest_month_touched(con, month)  # the rows a resent batch takes back
            for spec in LANDING_FILES:
                insert_file(con, spec, month, loads[spec.name], loaded_at)
            rebuild.queue_rebuild(con, month, [replaced, rebuild.earliest_month_touched(con, month)], loaded_at)
            _audit(
                con,
                month,
                loaded_at,
                [
                    (
                        f.file_name,
                        f.status,
                        f.rows_received,
                        f.rows_loaded,
                        f.rows_quarantined,
                        f.reason_summary(),
                        f.staged.checks_evaluated,
                        f.staged.checks_failed,
                        manifest.produced_at,
                    )
                    for f in loads.values()
                ],
            )
            con.execute("commit")
        except BaseException as exc:
            con.execute("rollback")
            reason = f"load failed and was rolled back ({_kind(exc)})"
            _record_rejection(con, month, reason, staged, None, manifest.produced_at, reports, outcomes)
            raise
        status = "LOADED_WITH_QUARANTINE" if any(f.rows_quarantined for f in loads.values()) else "LOADED"
        load = BatchLoad(month, loaded_at, status, manifest.produced_at, loads, flags)
        return load if reports is None else replace(load, report=write_report(reports, load))
    finally:
        for spec in LANDING_FILES:
            con.execute(f"drop table if exists stage_{spec.name}")
            con.execute(f"drop table if exists typed_{spec.name}")
