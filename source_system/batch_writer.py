"""Writes one landing batch: seven files from integer-coded frames, then the manifest, last."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import duckdb
import pandas as pd

from foundation.landing import LANDING_FILES, MANIFEST_NAME, LandingFile, file_sha256

# Generated frames carry ids as integers; the file shows them as prefix + zero-padded digits.
ID_FORMATS = {
    "customer_id": ("C", 8),
    "account_id": ("A", 9),
    "agreement_id": ("G", 10),
    "invitation_id": ("I", 10),
    "bill_id": ("B", 10),
    "repayment_id": ("R", 10),
}
CST_OFFSET_SECONDS = 8 * 3600
UTC_SUFFIX = "__utc"  # a frame column "<ts>__utc" marks timestamps written with offset +00:00


def _text_expression(frame: pd.DataFrame, name: str, ctype: str) -> str:
    """SQL rendering one contract column as the text the source system exports (NULL stays NULL)."""
    col = f'"{name}"'
    if name in ID_FORMATS and pd.api.types.is_integer_dtype(frame[name]):
        prefix, width = ID_FORMATS[name]
        return f"'{prefix}' || lpad({col}::VARCHAR, {width}, '0')"
    if ctype == "timestamp":
        local = f"strftime(make_timestamp({col}::BIGINT * 1000000), '%Y-%m-%dT%H:%M:%S') || '+08:00'"
        if name + UTC_SUFFIX in frame.columns:
            utc = (
                f"strftime(make_timestamp(({col}::BIGINT - {CST_OFFSET_SECONDS}) * 1000000),"
                f" '%Y-%m-%dT%H:%M:%S') || '+00:00'"
            )
            local = f'CASE WHEN "{name}{UTC_SUFFIX}" THEN {utc} ELSE {local} END'
        return local
    if ctype == "date":
        return f"(DATE '1970-01-01' + {col}::INTEGER)::VARCHAR"
    if ctype == "month":
        return f"strftime(DATE '1970-01-01' + {col}::INTEGER, '%Y-%m')"
    if ctype == "decimal":  # cents -> yuan
        return f"({col}::DECIMAL(18,0) / 100)::DECIMAL(18,2)::VARCHAR"
    return f"{col}::VARCHAR"


def _typed_expression(name: str, ctype: str) -> str:
    """Parquet batches carry typed columns; a month stays the text YYYY-MM."""
    types = {"timestamp": "TIMESTAMPTZ", "date": "DATE", "decimal": "DECIMAL(18,2)", "integer": "INTEGER"}
    return f'CAST("{name}" AS {types[ctype]}) AS "{name}"' if ctype in types else f'"{name}"'


def _write_file(con: duckdb.DuckDBPyConnection, spec: LandingFile, frame: pd.DataFrame, path: Path, fmt: str) -> None:
    con.register("frame", frame)
    text = ", ".join(f'{_text_expression(frame, c.name, c.type)} AS "{c.name}"' for c in spec.columns)
    select = f'SELECT {text} FROM frame ORDER BY "{spec.key}"'
    if fmt == "parquet":
        typed = ", ".join(_typed_expression(c.name, c.type) for c in spec.columns)
        con.execute(f"COPY (SELECT {typed} FROM ({select})) TO '{path}' (FORMAT parquet)")
    else:
        con.execute(f"COPY ({select}) TO '{path}' (FORMAT csv, HEADER true, DELIMITER ',', QUOTE '\"')")
    con.unregister("frame")


def _reencode(path: Path, encoding: str) -> None:
    """DuckDB writes UTF-8; older source systems export GB18030."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(path, encoding="utf-8", newline="") as src, open(tmp, "w", encoding=encoding, newline="") as dst:
        while chunk := src.read(1 << 20):
            dst.write(chunk)
    os.replace(tmp, path)


def write_batch(
    folder: Path,
    batch_month: str,
    produced_at: str,
    frames: dict[str, pd.DataFrame],
    encoding: str,
    fmt: str,
    before_signing: Callable[[Path], None] | None = None,
) -> dict:
    """Write the seven files of a batch, let `before_signing` alter them, then write the manifest."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MANIFEST_NAME).unlink(missing_ok=True)  # the batch is incomplete while rewritten
    con = duckdb.connect(config={"threads": 1})  # one thread: byte-identical output for a seed
    for spec in LANDING_FILES:
        _write_file(con, spec, frames[spec.name], folder / spec.file_name(fmt), fmt)
    con.close()
    if before_signing:
        before_signing(folder)
    files = {}
    for spec in LANDING_FILES:
        path = folder / spec.file_name(fmt)
        if fmt == "csv" and encoding != "utf-8":
            _reencode(path, encoding)
        files[path.name] = {"rows": len(frames[spec.name]), "sha256": file_sha256(path)}
    manifest = {"batch_month": batch_month, "produced_at": produced_at, "encoding": encoding, "files": files}
    tmp = folder / (MANIFEST_NAME + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, folder / MANIFEST_NAME)
    return manifest
