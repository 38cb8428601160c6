"""Dirty-data mode: defects injected into written CSV batches, each class with a known count.

Every defect class is one row-level fault a real feed shows, with the reason the landing gate
must give when it holds the row back. The generator injects them after writing a batch's files
and before signing the manifest (a resent file is signed like any other); the counts go to
`_injected_defects.json` beside the batches, so tests can assert exactly what was caught.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Defect:
    file: str
    column: str
    corrupt: Callable[[str], str]
    reason: str  # what the gate's quarantine reason contains


def _shift_day(value: str) -> str:
    day = int(value[8:10])
    return value[:8] + f"{day - 1 if day > 1 else day + 1:02d}" + value[10:]


DEFECTS: dict[str, Defect] = {
    "bad_id_check_char": Defect(
        "customers", "id_number", lambda v: v[:17] + ("0" if v[17] != "0" else "1"), "valid GB 11643"
    ),
    "id_birth_date_mismatch": Defect("customers", "birth_date", _shift_day, "birth date inside id_number"),
    "bad_phone": Defect("customers", "phone", lambda v: "0" + v[1:], "11-digit mainland mobile"),
    "score_out_of_range": Defect("customers", "sesame_score", lambda v: "999", "sesame_score is within"),
    "unknown_province": Defect("customers", "province_code", lambda v: "99", "GB/T 2260 province code"),
    "missing_name": Defect("customers", "full_name", lambda v: "", "full_name is required"),
    "negative_amount": Defect("bills", "amount_due", lambda v: "-" + v.lstrip("-"), "amount_due is not negative"),
    "non_numeric_amount": Defect("bills", "amount_due", lambda v: v.replace(".", ","), "is not an amount"),
    "due_before_statement": Defect("bills", "due_date", lambda v: "2000-01-01", "due_date is not before"),
    "timestamp_without_offset": Defect("repayments", "paid_at", lambda v: v[:19], "timestamp with offset"),
    "future_timestamp": Defect(
        "repayments", "paid_at", lambda v: "2099-01-01T10:00:00+08:00", "paid_at is not after the batch"
    ),
    "unknown_account": Defect("repayments", "account_id", lambda v: "A999999999", "orphan: account_id unknown"),
    "zero_repayment": Defect("repayments", "amount", lambda v: "0.00", "amount is positive"),
    "wrong_snapshot_month": Defect(
        "account_snapshots", "snapshot_month", lambda v: "2001-01", "snapshot_month is the batch month"
    ),
    "negative_balance": Defect(
        "account_snapshots", "outstanding_balance", lambda v: "-1.00", "outstanding_balance is not negative"
    ),
}


def inject(folder: Path, rng: np.random.Generator, rate: float, kinds: list[str]) -> dict[str, int]:
    """Corrupt `rate` of the rows of each defect's file (at least one), each row at most once."""
    counts: dict[str, int] = {}
    by_file: dict[str, list[str]] = {}
    for kind in kinds:
        by_file.setdefault(DEFECTS[kind].file, []).append(kind)
    for file, file_kinds in by_file.items():
        path = folder / f"{file}.csv"
        with open(path, encoding="utf-8", newline="") as fh:
            rows = list(csv.reader(fh))
        header, body = rows[0], rows[1:]
        free = rng.permutation(len(body))
        taken = 0
        for kind in file_kinds:
            defect = DEFECTS[kind]
            column = header.index(defect.column)
            n = min(max(1, round(rate * len(body))), len(body) - taken)
            chosen = [i for i in free[taken : taken + n] if body[i][column]]
            taken += n
            for i in chosen:
                body[i][column] = defect.corrupt(body[i][column])
            counts[kind] = len(chosen)
        with open(path, "w", encoding="utf-8", newline="") as fh:
            csv.writer(fh, lineterminator="\n").writerows([header, *body])
    return counts


def write_defect_log(out: Path, injected: dict[str, dict[str, int]]) -> None:
    (out / "_injected_defects.json").write_text(json.dumps(injected, indent=2, sort_keys=True) + "\n")
