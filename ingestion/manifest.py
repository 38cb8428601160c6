"""Reads a batch's _manifest.json and checks it against the files beside it."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from ingestion.contract import ENCODINGS, FORMATS, LANDING_FILES, MANIFEST_NAME
from ingestion.errors import BatchNotReady, BatchRejected, WarehouseError
from ingestion.months import is_batch_month


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


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


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
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        files = raw["files"]
        encoding, batch_month = raw["encoding"], raw["batch_month"]
        produced_at = raw["produced_at"]
    except (ValueError, KeyError, TypeError) as exc:
        raise BatchRejected(month, f"{MANIFEST_NAME} is not valid ({exc.__class__.__name__}: {exc})") from None
    if batch_month != month:
        raise BatchRejected(month, f"{MANIFEST_NAME} says batch_month {batch_month!r}, the folder says {month}")
    if encoding not in ENCODINGS:
        raise BatchRejected(month, f"encoding {encoding!r} is not one of {', '.join(ENCODINGS)}")
    if not isinstance(files, dict):
        raise BatchRejected(month, f"{MANIFEST_NAME}: files must be an object")
    formats = {Path(name).suffix.lstrip(".") for name in files}
    if len(formats) != 1 or not formats <= set(FORMATS):
        raise BatchRejected(month, f"a batch uses one format, csv or parquet; the manifest lists {sorted(files)}")
    fmt = formats.pop()
    entries: dict[str, FileEntry] = {}
    for spec in LANDING_FILES:
        name = spec.file_name(fmt)
        meta = files.get(name)
        if (
            not isinstance(meta, dict)
            or not isinstance(meta.get("rows"), int)
            or not isinstance(meta.get("sha256"), str)
        ):
            raise BatchRejected(month, "not listed in the manifest with rows and sha256", name)
        entries[spec.name] = FileEntry(spec.name, batch_dir / name, meta["rows"], meta["sha256"].lower())
    extra = set(files) - {spec.file_name(fmt) for spec in LANDING_FILES}
    if extra:
        raise BatchRejected(month, f"the manifest lists unknown files {sorted(extra)}")
    for entry in entries.values():
        if not entry.path.is_file():
            raise BatchRejected(month, "listed in the manifest but missing", entry.path.name)
        if file_sha256(entry.path) != entry.sha256:
            raise BatchRejected(month, "sha256 differs from the manifest (truncated or changed file)", entry.path.name)
    return Manifest(month, str(produced_at), encoding, fmt, entries)
