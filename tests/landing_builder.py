"""Hand-written landing batches for scenario and property tests: rows in, contract files out."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from foundation.landing import LANDING_FILES, MANIFEST_NAME, file_sha256


def write_batch(landing: Path, month: str, tables: dict[str, list[dict]]) -> Path:
    """Write one batch; a table not given is written with its header only. Columns not given are NULL."""
    folder = landing / month
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for spec in LANDING_FILES:
        path = folder / f"{spec.name}.csv"
        rows = tables.get(spec.name, [])
        with open(path, "w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(spec.column_names)
            writer.writerows([["" if row.get(c) is None else row.get(c) for c in spec.column_names] for row in rows])
        files[path.name] = {"rows": len(rows), "sha256": file_sha256(path)}
    manifest = {"batch_month": month, "produced_at": f"{month}-28T02:00:00+08:00", "encoding": "utf-8", "files": files}
    (folder / MANIFEST_NAME).write_text(json.dumps(manifest), encoding="utf-8")
    return folder


def customer(customer_id: str, id_number: str = "11010519491231002X", birth_date: str = "1949-12-31") -> dict:
    return {
        "customer_id": customer_id,
        "id_number": id_number,
        "full_name": "测试",
        "phone": "13800000000",
        "birth_date": birth_date,
        "gender": "F",
        "province_code": "11",
        "registered_at": "2020-01-01T10:00:00+08:00",
        "sesame_score": 700,
        "updated_at": "2020-01-01T10:00:00+08:00",
    }


def edit_csv(landing: Path, month: str, file_name: str, edit, re_sign: bool = True) -> None:
    """Edit a file's rows (header first) and, as a source system resending it would, re-sign it."""
    path = landing / month / file_name
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    rows = edit(rows)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    if re_sign:
        resign(landing, month, file_name, len(rows) - 1)


def resign(landing: Path, month: str, file_name: str, rows: int) -> None:
    manifest_path = landing / month / MANIFEST_NAME
    manifest = json.loads(manifest_path.read_text())
    manifest["files"][file_name] = {"rows": rows, "sha256": file_sha256(landing / month / file_name)}
    manifest_path.write_text(json.dumps(manifest))
