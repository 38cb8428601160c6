"""Reads one landing file into a temp table stage_<table> (every value as received) and its rows
whose values have their types into typed_<table>: batch-level checks (encoding, header, parse, row
count) reject the batch; values of the wrong type are row-level failures."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from ingestion.contract import DUCKDB_TYPES, FILES_BY_NAME, LandingFile
from ingestion.errors import BatchRejected
from ingestion.manifest import FileEntry, Manifest

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


@dataclass
class StagedFile:
    """A file read into stage_<table>, with its row-level failures so far."""

    spec: LandingFile
    file_name: str
    rows_received: int = 0
    checks_evaluated: int = 0
    checks_failed: int = 0
    row_reasons: dict[int, list[str]] = field(default_factory=dict)  # _source_row -> reasons

    @property
    def stage(self) -> str:
        return f"stage_{self.spec.name}"

    @property
    def held_rows(self) -> str:
        """SQL list of the rows held back so far (rows count from 1, so "0" for none: NOT IN (NULL) is never true)."""
        return ", ".join(str(r) for r in self.row_reasons) or "0"

    @property
    def typed(self) -> str:
        """The temp table of the rows whose values have their types, cast once, with `_source_row`."""
        return f"typed_{self.spec.name}"

    @property
    def kept_rows(self) -> str:
        """SQL select of the typed rows not held back so far."""
        return f"select * from {self.typed} where _source_row not in ({self.held_rows})"

    def fail_rows(self, rows: list[int], reason: str) -> None:
        self.checks_failed += 1
        for row in rows:
            self.row_reasons.setdefault(row, []).append(reason)


def sql_string(value: str | Path) -> str:
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


def stage_file(con: duckdb.DuckDBPyConnection, entry: FileEntry, manifest: Manifest, tmp: Path) -> StagedFile:
    """Read one file into stage_<table>; BatchRejected when it cannot be read as the contract says."""
    spec = FILES_BY_NAME[entry.table]
    month, name = manifest.batch_month, entry.path.name
    staged = StagedFile(spec, name)
    if manifest.file_format == "csv":
        header = _read_header(entry.path, manifest.encoding, month)
        staged.checks_evaluated += 1
        _check_columns(header, spec, month, name)
        path = entry.path if manifest.encoding == "utf-8" else _to_utf8(entry.path, manifest.encoding, tmp, month)
        columns = "{" + ", ".join(f"{sql_string(c)}: 'VARCHAR'" for c in header) + "}"
        source = (
            f"read_csv({sql_string(path)}, header=true, auto_detect=false, delim=',', quote='\"',"
            f" escape='\"', strict_mode=true, null_padding=false, columns={columns})"
        )
    else:
        source = f"read_parquet({sql_string(entry.path)})"
    try:
        con.execute(f"create or replace temp table {staged.stage} as select * from {source}")
        if manifest.file_format == "parquet":
            found = [r[0] for r in con.execute(f"describe {staged.stage}").fetchall()]
            staged.checks_evaluated += 1
            _check_columns(found, spec, month, name)
        received = con.execute(f"select count(*) from {staged.stage}").fetchone()[0]
    except duckdb.Error as exc:
        message = str(exc).strip().splitlines()[0]
        raise BatchRejected(month, f"unparseable: {message}", name) from None
    staged.rows_received = received
    staged.checks_evaluated += 1
    if received != entry.rows:
        raise BatchRejected(month, f"{received} data rows, the manifest says {entry.rows}", name)
    check_types(con, staged)
    con.execute(
        f"create or replace temp table {staged.typed} as select rowid + 1 as _source_row, {typed_select(spec)}"
        f" from {staged.stage} where rowid + 1 not in ({staged.held_rows})"
    )
    return staged


def value_ok(con: duckdb.DuckDBPyConnection, stage: str, column: str, ctype: str) -> str:
    """SQL true when the staged value has its contract type (NULL is a type-correct value)."""
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
        f"({col} is null or (regexp_full_match({col}, {sql_string(TEXT_FORMATS[ctype])})"
        f" and try_cast({typed} as {DUCKDB_TYPES[ctype]}) is not null))"
    )


def check_types(con: duckdb.DuckDBPyConnection, staged: StagedFile) -> None:
    """Row-level: every value of a typed column must read as its contract type."""
    for c in staged.spec.columns:
        if c.type == "string":
            continue
        staged.checks_evaluated += 1
        ok = value_ok(con, staged.stage, c.name, c.type)
        bad = con.execute(f"select rowid + 1 from {staged.stage} where not {ok} order by rowid").fetchall()
        if bad:  # the value itself stays visible in the quarantined row, kept as received
            staged.fail_rows([r[0] for r in bad], f"{c.name} is not {TYPE_HINTS[c.type]}")


def typed_select(spec: LandingFile) -> str:
    """The staged columns cast to their contract types (only for rows that passed check_types)."""
    exprs = []
    for c in spec.columns:
        col = f'"{c.name}"'
        source = f"{col} || '-01'" if c.type == "month" else col
        exprs.append(f"cast({source} as {DUCKDB_TYPES[c.type]}) as {col}")
    return ", ".join(exprs)
