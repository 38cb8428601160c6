"""Loads one landing batch into raw.<file>: verified, typed, all seven files in one transaction.

A batch is the unit of trust and of atomicity. It is verified as a whole (manifest, sha256,
encoding, header, row counts, value types) before anything is written; then every raw table
drops the rows of that batch month and takes the new ones, and the audit rows are written, in
one transaction. Loading a batch again therefore leaves the warehouse as if loaded once, and a
resent batch replaces the old one whole. Every attempt, rejected ones included, is audited.
"""

from __future__ import annotations

import csv
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from ingestion.contract import DUCKDB_TYPES, LANDING_FILES, LandingFile
from ingestion.errors import BatchNotReady, BatchRejected
from ingestion.manifest import FileEntry, Manifest, read_manifest

LOAD_COLUMNS = {
    "_batch_month": "DATE NOT NULL",
    "_source_file": "VARCHAR NOT NULL",
    "_source_row": "BIGINT NOT NULL",  # 1-based position of the data row in its file
    "_loaded_at": "TIMESTAMPTZ NOT NULL",
}

# What a value of each contract type looks like as text (contracts/landing.md, "Files").
TEXT_FORMATS = {
    "timestamp": r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?([+-]\d{2}:\d{2}|Z)",
    "date": r"\d{4}-\d{2}-\d{2}",
    "month": r"\d{4}-(0[1-9]|1[0-2])",
    "decimal": r"-?\d{1,16}(\.\d{1,2})?",
    "integer": r"-?\d{1,9}",
}
TYPE_HINTS = {
    "timestamp": "an ISO 8601 timestamp with offset",
    "date": "a date YYYY-MM-DD",
    "month": "a month YYYY-MM",
    "decimal": "an amount in yuan with up to 2 decimals",
    "integer": "an integer",
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
class FileCheck:
    """What staging one file found: rows received and checks run."""

    spec: LandingFile
    file_name: str
    rows_received: int | None = None
    checks_evaluated: int = 0
    checks_failed: int = 0


@dataclass(frozen=True)
class BatchLoad:
    batch_month: str
    produced_at: str
    files: list[FileCheck]

    @property
    def rows_loaded(self) -> int:
        return sum(f.rows_received or 0 for f in self.files)


def ensure_warehouse_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Schemas of contracts/marts.md and the raw tables of the landing contract."""
    for schema in ("raw", "quarantine", "audit"):
        con.execute(f"create schema if not exists {schema}")
    for spec in LANDING_FILES:
        cols = [f'"{c.name}" {DUCKDB_TYPES[c.type]}' for c in spec.columns]
        cols += [f"{name} {ddl}" for name, ddl in LOAD_COLUMNS.items()]
        con.execute(f"create table if not exists raw.{spec.name} ({', '.join(cols)})")
    con.execute(AUDIT_DDL)


def _sql_string(value: str | Path) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _read_header(path: Path, encoding: str, month: str) -> list[str]:
    try:
        with open(path, encoding="utf-8-sig" if encoding == "utf-8" else encoding, newline="") as fh:
            header = next(csv.reader(fh), None)
    except UnicodeDecodeError as exc:
        raise BatchRejected(month, f"not valid {encoding} ({exc.reason} at byte {exc.start})", path.name) from None
    except csv.Error as exc:
        raise BatchRejected(month, f"unreadable header line ({exc})", path.name) from None
    if not header:
        raise BatchRejected(month, "empty file: no header line", path.name)
    return header


def _check_columns(found: list[str], spec: LandingFile, month: str, file_name: str) -> None:
    expected = spec.column_names
    missing = [c for c in expected if c not in found]
    unexpected = [c for c in found if c not in expected]
    duplicated = sorted({c for c in found if found.count(c) > 1})
    if missing or unexpected or duplicated:
        parts = [
            f"missing columns {missing}" if missing else "",
            f"unexpected columns {unexpected}" if unexpected else "",
            f"duplicated columns {duplicated}" if duplicated else "",
        ]
        raise BatchRejected(month, "; ".join(p for p in parts if p), file_name)


def _to_utf8(path: Path, encoding: str, tmp: Path, month: str) -> Path:
    """DuckDB reads UTF-8 only (its encodings extension would download): transcode GB18030."""
    target = tmp / path.name
    try:
        with open(path, encoding=encoding, newline="") as src, open(target, "w", encoding="utf-8", newline="") as dst:
            while chunk := src.read(1 << 20):
                dst.write(chunk)
    except UnicodeDecodeError as exc:
        raise BatchRejected(month, f"not valid {encoding} ({exc.reason})", path.name) from None
    return target


def _stage(con: duckdb.DuckDBPyConnection, entry: FileEntry, manifest: Manifest, tmp: Path) -> FileCheck:
    """Read one file into temp table stage_<name> and verify header, row count and value types."""
    spec = next(s for s in LANDING_FILES if s.name == entry.table)
    month, name = manifest.batch_month, entry.path.name
    check = FileCheck(spec, name)
    stage = f"stage_{spec.name}"
    if manifest.file_format == "csv":
        header = _read_header(entry.path, manifest.encoding, month)
        check.checks_evaluated += 1
        _check_columns(header, spec, month, name)
        path = entry.path if manifest.encoding == "utf-8" else _to_utf8(entry.path, manifest.encoding, tmp, month)
        columns = "{" + ", ".join(f"{_sql_string(c)}: 'VARCHAR'" for c in header) + "}"
        source = (
            f"read_csv({_sql_string(path)}, header=true, auto_detect=false, delim=',', quote='\"',"
            f" escape='\"', strict_mode=true, null_padding=false, columns={columns})"
        )
    else:
        source = f"read_parquet({_sql_string(entry.path)})"
    try:
        con.execute(f"create or replace temp table {stage} as select * from {source}")
        if manifest.file_format == "parquet":
            found = [r[0] for r in con.execute(f"describe {stage}").fetchall()]
            check.checks_evaluated += 1
            _check_columns(found, spec, month, name)
        received = con.execute(f"select count(*) from {stage}").fetchone()[0]
    except duckdb.Error as exc:
        message = str(exc).strip().splitlines()[0]
        raise BatchRejected(month, f"unparseable: {message}", name) from None
    check.rows_received = received
    check.checks_evaluated += 1
    if received != entry.rows:
        raise BatchRejected(month, f"{received} data rows, the manifest says {entry.rows}", name)
    _check_types(con, stage, spec, check, month)
    return check


def _value_ok(con: duckdb.DuckDBPyConnection, stage: str, column: str, ctype: str) -> str:
    source_type = con.execute(
        "select data_type from duckdb_columns() where table_name = ? and column_name = ?", [stage, column]
    ).fetchone()[0]
    col = f'"{column}"'
    if source_type != "VARCHAR":
        if ctype == "timestamp" and source_type != "TIMESTAMP WITH TIME ZONE":
            return "false"  # a timestamp without an offset is bad input
        return f"({col} is null or try_cast({col} as {DUCKDB_TYPES[ctype]}) is not null)"
    if ctype == "string":
        return "true"
    typed = f"{col} || '-01'" if ctype == "month" else col
    return (
        f"({col} is null or (regexp_full_match({col}, {_sql_string(TEXT_FORMATS[ctype])})"
        f" and try_cast({typed} as {DUCKDB_TYPES[ctype]}) is not null))"
    )


def _check_types(con: duckdb.DuckDBPyConnection, stage: str, spec: LandingFile, check: FileCheck, month: str) -> None:
    checks = {c.name: _value_ok(con, stage, c.name, c.type) for c in spec.columns if c.type != "string"}
    check.checks_evaluated += len(checks)
    if not checks:
        return
    counts = con.execute(
        "select " + ", ".join(f"count(*) filter (where not {ok})" for ok in checks.values()) + f" from {stage}"
    ).fetchone()
    bad = {name: n for name, n in zip(checks, counts, strict=True) if n}
    check.checks_failed += len(bad)
    if bad:
        column = next(iter(bad))
        row, value = con.execute(
            f'select rowid + 1, "{column}"::varchar from {stage} where not {checks[column]} order by rowid limit 1'
        ).fetchone()
        ctype = next(c.type for c in spec.columns if c.name == column)
        raise BatchRejected(
            month,
            f"{sum(bad.values())} values of the wrong type in {sorted(bad)}; first: row {row}, "
            f"{column} = {value!r} is not {TYPE_HINTS[ctype]}",
            check.file_name,
        )


def _typed(con: duckdb.DuckDBPyConnection, stage: str, spec: LandingFile) -> str:
    exprs = []
    for c in spec.columns:
        col = f'"{c.name}"'
        source = f"{col} || '-01'" if c.type == "month" else col
        exprs.append(f"cast({source} as {DUCKDB_TYPES[c.type]}) as {col}")
    return ", ".join(exprs)


def insert_file(
    con: duckdb.DuckDBPyConnection, spec: LandingFile, month: str, file_name: str, loaded_at: datetime
) -> None:
    """Replace one raw table's rows of this batch month with the staged file (inside the batch transaction)."""
    stage = f"stage_{spec.name}"
    cols = ", ".join(f'"{n}"' for n in spec.column_names + list(LOAD_COLUMNS))
    con.execute(f"delete from raw.{spec.name} where _batch_month = ?::date", [month + "-01"])
    con.execute(
        f"insert into raw.{spec.name} ({cols}) select {_typed(con, stage, spec)},"
        f" ?::date, ?, rowid + 1, ? from {stage} order by rowid",
        [month + "-01", file_name, loaded_at],
    )


def _audit(con, month: str, loaded_at: datetime, rows: list[tuple]) -> None:
    con.executemany(
        "insert into audit.load_batches values (?::date, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?)",
        [(month + "-01", *r[:1], loaded_at, *r[1:]) for r in rows],
    )


def _record_rejection(
    con, month: str, reason: str, checks: dict[str, FileCheck], file_name: str | None, produced_at: str | None
) -> None:
    """Audit a rejected attempt: one row per file, the failing one carrying the reason."""
    loaded_at = datetime.now(UTC)
    rows = []
    for spec in LANDING_FILES:
        check = checks.get(spec.name)
        name = check.file_name if check else spec.file_name()
        why = reason if name == file_name or file_name is None else f"batch rejected: {file_name}: {reason}"
        rows.append(
            (
                name,
                "REJECTED",
                check.rows_received if check else None,
                0,
                why,
                check.checks_evaluated if check else 0,
                (check.checks_failed or int(name == file_name)) if check else int(name == file_name),
                produced_at,
            )
        )
    con.execute("begin transaction")
    _audit(con, month, loaded_at, rows)
    con.execute("commit")


def load_batch(con: duckdb.DuckDBPyConnection, batch_dir: Path) -> BatchLoad:
    """Verify and load one batch folder; raises BatchNotReady / BatchRejected (audited) on bad input."""
    ensure_warehouse_schema(con)
    month = batch_dir.name
    checks: dict[str, FileCheck] = {}
    manifest = None
    try:
        manifest = read_manifest(batch_dir)
        with tempfile.TemporaryDirectory(prefix=f"crw-{month}-") as tmp:
            for entry in manifest.files.values():
                checks[entry.table] = _stage(con, entry, manifest, Path(tmp))
    except BatchNotReady as exc:
        if batch_dir.is_dir():
            _record_rejection(con, month, f"not ready: {exc}", checks, None, None)
        raise
    except BatchRejected as exc:
        _record_rejection(con, month, exc.reason, checks, exc.file_name, manifest.produced_at if manifest else None)
        raise

    loaded_at = datetime.now(UTC)
    con.execute("begin transaction")
    try:
        for check in checks.values():
            insert_file(con, check.spec, month, check.file_name, loaded_at)
        _audit(
            con,
            month,
            loaded_at,
            [
                (
                    c.file_name,
                    "LOADED",
                    c.rows_received,
                    c.rows_received,
                    None,
                    c.checks_evaluated,
                    c.checks_failed,
                    manifest.produced_at,
                )
                for c in checks.values()
            ],
        )
        con.execute("commit")
    except BaseException as exc:
        con.execute("rollback")
        _record_rejection(con, month, f"load failed, rolled back: {exc}", checks, None, manifest.produced_at)
        raise
    finally:
        for spec in LANDING_FILES:
            con.execute(f"drop table if exists stage_{spec.name}")
    return BatchLoad(month, manifest.produced_at, list(checks.values()))
