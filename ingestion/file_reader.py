"""Reads one landing file into a temp table stage_<table> (every value as received) and its rows
whose values have their types into typed_<table>: batch-level checks (encoding, header, parse, row
count) reject the batch; values of the wrong type are row-level failures."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from foundation.errors import BatchRejected
from foundation.landing import DUCKDB_TYPES, EARLIEST_DATE, FILES_BY_NAME, MAX_AMOUNT, LandingFile
from foundation.redaction import quote_names
from ingestion.manifest import FileEntry, Manifest

# What a value of each contract type looks like as text (contracts/landing.md, "Files"). Offsets run
# from -12:00 to +14:00; amounts stay below MAX_AMOUNT (the marts sum them in DECIMAL(18,2)).
OFFSET = r"(Z|\+(0\d|1[0-3]):[0-5]\d|\+14:00|-(0\d|1[01]):[0-5]\d|-12:00)"
TEXT_FORMATS = {
    "timestamp": r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?" + OFFSET,
    "date": r"\d{4}-\d{2}-\d{2}",
    "month": r"\d{4}-(0[1-9]|1[0-2])",
    "decimal": rf"-?\d{{1,{len(str(MAX_AMOUNT)) - 1}}}(\.\d{{1,2}})?",
    "integer": r"-?\d{1,9}",
}
TYPE_HINTS = {
    "string": "text without control characters",
    "timestamp": f"an ISO 8601 timestamp with offset, from {EARLIEST_DATE[:4]} on",
    "date": f"a date YYYY-MM-DD from {EARLIEST_DATE[:4]} on",
    "month": f"a month YYYY-MM from {EARLIEST_DATE[:4]} on",
    "decimal": f"an amount in yuan below {MAX_AMOUNT:,} with up to 2 decimals",
    "integer": "an integer",
}
INTEGER_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT")
# A Parquet column's type is part of the contract: these are read exactly (a DOUBLE amount, a
# timestamp for a date or a list for an id would load changed); each value is then checked to
# round-trip into the contract type.
PARQUET_TYPES = {
    "string": ("VARCHAR",),
    "timestamp": ("TIMESTAMP WITH TIME ZONE",),
    "date": ("DATE",),
    "month": ("VARCHAR", "DATE"),
    "decimal": ("DECIMAL", *INTEGER_TYPES),
    "integer": INTEGER_TYPES,
}
BOM = "\ufeff"
CONTROL_CHARACTERS = r"[\x00-\x1f\x7f]"  # a NUL or a line break inside a name breaks the bureau's XML


@dataclass
class StagedFile:
    """A file read into stage_<table>, with its row-level failures so far."""

    spec: LandingFile
    file_name: str
    rows_received: int = 0
    checks_evaluated: int = 0
    checks_failed: int = 0
    row_reasons: dict[int, list[str]] = field(default_factory=dict)  # _source_row -> reasons
    source_types: dict[str, str] = field(default_factory=dict)  # column -> DuckDB type as read

    @property
    def stage_table(self) -> str:
        return f"stage_{self.spec.name}"

    @property
    def held_rows_sql(self) -> str:
        """SQL list of the rows held back so far (rows count from 1, so "0" for none: NOT IN (NULL) is never true)."""
        return ", ".join(str(r) for r in self.row_reasons) or "0"

    @property
    def typed_table(self) -> str:
        """The temp table of the rows whose values have their types, cast once, with `_source_row`."""
        return f"typed_{self.spec.name}"

    @property
    def kept_rows_sql(self) -> str:
        """SQL select of the typed rows not held back so far."""
        return f"select * from {self.typed_table} where _source_row not in ({self.held_rows_sql})"

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
    header[0] = header[0].removeprefix(BOM)  # GB18030 has a byte-order mark too; DuckDB skips UTF-8's
    return header


def _check_columns(found: list[str], spec: LandingFile, month: str, file_name: str) -> None:
    """The header names the contract's columns, each once. Names only are quoted, never values."""
    expected = spec.column_names
    if not set(found) & set(expected):
        raise BatchRejected(
            month, "line 1 names none of the contract's columns: no header line, or not comma-separated", file_name
        )
    missing = [c for c in expected if c not in found]
    unexpected = [c for c in found if c not in expected]
    duplicated = sorted({c for c in found if found.count(c) > 1})
    if missing or unexpected or duplicated:
        parts = [
            f"missing columns {missing}" if missing else "",
            f"unexpected columns {quote_names(unexpected)}" if unexpected else "",
            f"duplicated columns {quote_names(duplicated)}" if duplicated else "",
        ]
        raise BatchRejected(month, "; ".join(p for p in parts if p), file_name)


def _check_parquet_types(source_types: dict[str, str], spec: LandingFile, month: str, file_name: str) -> None:
    for c in spec.columns:
        found = source_types[c.name]
        if found.split("(")[0] not in PARQUET_TYPES[c.type]:
            raise BatchRejected(
                month,
                f"column {c.name} is {found}; the contract's {c.type} reads from {' or '.join(PARQUET_TYPES[c.type])}",
                file_name,
            )


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


def unparseable(error: duckdb.Error) -> str:
    """DuckDB's reason a file cannot be read, without the "Original Line" it quotes (received values)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    line = re.search(r"CSV Error on Line: (\d+)", lines[0]) if lines else None
    if line is None:
        return f"unparseable: {lines[0][:200] if lines else error.__class__.__name__}"
    kind = next((x for x in lines[1:] if not x.startswith(("Original Line", "Possible fixes"))), "")
    return f"unparseable at line {line.group(1)}: {kind[:200]}".rstrip(": ")


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
        con.execute(f"create or replace temp table {staged.stage_table} as select * from {source}")
        staged.source_types = dict(
            con.execute(f"select column_name, column_type from (describe {staged.stage_table})").fetchall()
        )
        if manifest.file_format == "parquet":
            staged.checks_evaluated += 2
            _check_columns(list(staged.source_types), spec, month, name)
            _check_parquet_types(staged.source_types, spec, month, name)
        received = con.execute(f"select count(*) from {staged.stage_table}").fetchone()[0]
    except duckdb.Error as exc:
        raise BatchRejected(month, unparseable(exc), name) from None
    staged.rows_received = received
    staged.checks_evaluated += 1
    if received != entry.rows:
        raise BatchRejected(month, f"{received} data rows, the manifest says {entry.rows}", name)
    check_types(con, staged)
    con.execute(
        f"create or replace temp table {staged.typed_table} as select rowid + 1 as _source_row, {typed_select(staged)}"
        f" from {staged.stage_table} where rowid + 1 not in ({staged.held_rows_sql})"
    )
    return staged


def _as_contract_type(column: str, ctype: str, source_type: str) -> str:
    """SQL casting a staged value to its contract type (NULL where it does not read as one)."""
    col = f'"{column}"'
    text = f"{col} || '-01'" if ctype == "month" and source_type == "VARCHAR" else col
    return f"try_cast({text} as {DUCKDB_TYPES[ctype]})"


def value_ok(column: str, ctype: str, source_type: str) -> str:
    """SQL true when the staged value has its contract type (NULL is a type-correct value): text in
    the contract's format, a typed value that round-trips exactly, within the contract's range."""
    col = f'"{column}"'
    if ctype == "string":
        return f"({col} is null or not regexp_matches({col}, {sql_string(CONTROL_CHARACTERS)}))"
    cast = _as_contract_type(column, ctype, source_type)
    if source_type == "VARCHAR":
        shape = f"regexp_full_match({col}, {sql_string(TEXT_FORMATS[ctype])}) and {cast} is not null"
    else:
        shape = f"{cast} = {col}" + (f" and day({col}) = 1" if ctype == "month" else "")
    bound = {
        "decimal": f"abs({cast}) < {MAX_AMOUNT}",
        "timestamp": f"{cast} >= {sql_string(EARLIEST_DATE + ' 00:00:00+08:00')}::timestamptz",
        "date": f"{cast} >= {sql_string(EARLIEST_DATE)}::date",
        "month": f"{cast} >= {sql_string(EARLIEST_DATE)}::date",
    }.get(ctype, "true")
    return f"({col} is null or coalesce({shape} and {bound}, false))"


def check_types(con: duckdb.DuckDBPyConnection, staged: StagedFile) -> None:
    """Row-level: every value must read as its contract type."""
    for c in staged.spec.columns:
        staged.checks_evaluated += 1
        ok = value_ok(c.name, c.type, staged.source_types[c.name])
        bad = con.execute(f"select rowid + 1 from {staged.stage_table} where not {ok} order by rowid").fetchall()
        if bad:  # the value itself stays visible in the quarantined row, kept as received
            staged.fail_rows([r[0] for r in bad], f"{c.name} is not {TYPE_HINTS[c.type]}")


def typed_select(staged: StagedFile) -> str:
    """The staged columns cast to their contract types (only for rows that passed check_types)."""
    return ", ".join(
        f'{_as_contract_type(c.name, c.type, staged.source_types[c.name])} as "{c.name}"' for c in staged.spec.columns
    )
