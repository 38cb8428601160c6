"""Reads a batch's _manifest.json and checks it against the files beside it."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from foundation.errors import BatchNotReady, BatchRejected, WarehouseError
from foundation.landing import ENCODINGS, FORMATS, LANDING_FILES, MANIFEST_NAME, file_sha256
from foundation.months import current_month, is_batch_month, month_has_ended
from foundation.redaction import quote_name, quote_names


@dataclass(frozen=True)
class FileEntry:
    table: str
    path: Path
    rows: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    batch_month: str
    produced_at: str
    encoding: str
    file_format: str
    files: dict[str, FileEntry]  # by table name


def landing_batches(landing: Path) -> tuple[list[str], list[str]]:
    """Batch months with a manifest (ready) and without one (still being written), oldest first."""
    if not landing.is_dir():
        raise WarehouseError(f"landing zone {landing} does not exist")
    months = sorted(p.name for p in landing.iterdir() if p.is_dir() and is_batch_month(p.name))
    ready = [m for m in months if (landing / m / MANIFEST_NAME).is_file()]
    return ready, [m for m in months if m not in ready]


def batch_fingerprint(batch_dir: Path) -> str:
    """`<month>@<manifest digest>`: names one sending of a batch (a resent batch has a new manifest)."""
    return f"{batch_dir.name}@{file_sha256(batch_dir / MANIFEST_NAME)[:12]}"


MAX_MANIFEST_BYTES = 1 << 20  # a manifest lists seven files: anything near this size is not one
MANIFEST_FIELDS = {"batch_month", "produced_at", "encoding", "files"}
FILE_FIELDS = {"rows", "sha256"}
SHA256 = re.compile(r"[0-9a-f]{64}")
TIMESTAMP_WITH_OFFSET = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})")


def _parse_manifest(path: Path, month: str) -> dict:
    """The manifest's JSON object, every field of its contract type; BatchRejected otherwise."""

    def bad(what: str) -> BatchRejected:
        return BatchRejected(month, f"{MANIFEST_NAME}: {what}")

    if path.stat().st_size > MAX_MANIFEST_BYTES:
        raise bad(f"larger than {MAX_MANIFEST_BYTES:,} bytes")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise BatchRejected(month, f"{MANIFEST_NAME} is not valid UTF-8") from None
    except RecursionError:
        raise BatchRejected(month, f"{MANIFEST_NAME} is not valid JSON (nested too deeply)") from None
    except ValueError as exc:  # JSONDecodeError says where, never what
        raise BatchRejected(month, f"{MANIFEST_NAME} is not valid JSON ({exc})") from None
    if not isinstance(raw, dict):
        raise bad("not a JSON object")
    if missing := sorted(MANIFEST_FIELDS - set(raw)):
        raise bad(f"missing fields {missing}")
    if unknown := [k for k in raw if k not in MANIFEST_FIELDS]:
        raise bad(f"unknown fields {quote_names(unknown)}")
    for name in ("batch_month", "produced_at", "encoding"):
        if not isinstance(raw[name], str):
            raise bad(f"{name} must be a string, not {type(raw[name]).__name__}")
    if not is_batch_month(raw["batch_month"]):
        raise bad("batch_month is not a month YYYY-MM")
    if not _is_timestamp_with_offset(raw["produced_at"]):
        raise bad("produced_at is not an ISO 8601 timestamp with offset")
    if not isinstance(raw["files"], dict):
        raise bad("files must be an object")
    for name, meta in raw["files"].items():
        if not isinstance(meta, dict) or set(meta) != FILE_FIELDS:
            raise bad(f"files.{quote_name(name)} must be an object with rows and sha256")
        if type(meta["rows"]) is not int or meta["rows"] < 0:  # bool is an int to Python
            raise bad(f"files.{quote_name(name)}.rows must be a whole number of rows")
        if not isinstance(meta["sha256"], str) or not SHA256.fullmatch(meta["sha256"].lower()):
            raise bad(f"files.{quote_name(name)}.sha256 must be 64 hexadecimal digits")
    return raw


def _is_timestamp_with_offset(text: str) -> bool:
    if not TIMESTAMP_WITH_OFFSET.fullmatch(text):
        return False
    try:
        return datetime.fromisoformat(text).tzinfo is not None
    except ValueError:
        return False


def _regular_file(path: Path, month: str, what: str) -> None:
    """Files are read where they lie: a link could point outside the landing zone (at /etc/passwd, say)."""
    if path.is_symlink():
        raise BatchRejected(month, f"{what} is a symbolic link: the loader reads only files inside the batch folder")


def read_manifest(batch_dir: Path) -> Manifest:
    """The verified manifest of a batch; BatchNotReady or BatchRejected when it cannot be trusted."""
    month = batch_dir.name
    if not is_batch_month(month):
        raise BatchRejected(month, "the folder name is not a month YYYY-MM")
    path = batch_dir / MANIFEST_NAME
    if not batch_dir.is_dir():
        raise BatchNotReady(f"batch {month} not found: no folder {batch_dir}")
    if not path.is_file():
        raise BatchNotReady(f"batch {month} is not ready: {MANIFEST_NAME} is missing in {batch_dir}")
    _regular_file(batch_dir, month, "the batch folder")
    _regular_file(path, month, MANIFEST_NAME)
    if not month_has_ended(month):
        raise BatchRejected(month, f"the month has not ended yet (today is {current_month()} in China time)")
    raw = _parse_manifest(path, month)
    files, encoding, batch_month = raw["files"], raw["encoding"], raw["batch_month"]
    if batch_month != month:
        raise BatchRejected(month, f"{MANIFEST_NAME} says batch_month {batch_month}, the folder says {month}")
    if encoding not in ENCODINGS:
        raise BatchRejected(month, f"encoding {quote_name(encoding)} is not one of {', '.join(ENCODINGS)}")
    formats = {Path(name).suffix.lstrip(".") for name in files}
    if len(formats) != 1 or not formats <= set(FORMATS):
        raise BatchRejected(
            month, f"a batch uses one format, csv or parquet; the manifest lists {quote_names(sorted(files))}"
        )
    fmt = formats.pop()
    entries: dict[str, FileEntry] = {}
    for spec in LANDING_FILES:
        name = spec.file_name(fmt)
        if name not in files:
            raise BatchRejected(month, "not listed in the manifest with rows and sha256", name)
        meta = files[name]
        entries[spec.name] = FileEntry(spec.name, batch_dir / name, meta["rows"], meta["sha256"].lower())
    extra = set(files) - {spec.file_name(fmt) for spec in LANDING_FILES}
    if extra:
        raise BatchRejected(month, f"the manifest lists unknown files {quote_names(sorted(extra))}")
    for entry in entries.values():
        _regular_file(entry.path, month, entry.path.name)
        if not entry.path.is_file():
            raise BatchRejected(month, "listed in the manifest but missing", entry.path.name)
        if file_sha256(entry.path) != entry.sha256:
            raise BatchRejected(month, "sha256 differs from the manifest (truncated or changed file)", entry.path.name)
    return Manifest(month, raw["produced_at"], encoding, fmt, entries)
