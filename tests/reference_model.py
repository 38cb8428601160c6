"""R3 recomputed in plain Python from landing files: an oracle independent of the dbt SQL."""

from __future__ import annotations

import csv
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

CST = ZoneInfo("Asia/Shanghai")


def read_all(landing: Path, table: str) -> list[dict[str, str]]:
    rows = []
    for batch in sorted(landing.iterdir()):
        with open(batch / f"{table}.csv", encoding="utf-8", newline="") as fh:
            rows += [dict(r, _batch=batch.name) for r in csv.DictReader(fh)]
    return rows


def local_month(timestamp: str) -> date:
    local = datetime.fromisoformat(timestamp).astimezone(CST)
    return date(local.year, local.month, 1)


def expected_reportable(landing: Path) -> set[tuple[date, str]]:
    """R3 in plain Python: open account-months of loaded months with an authorization by then."""
    months = [date(int(b.name[:4]), int(b.name[5:]), 1) for b in sorted(landing.iterdir())]
    latest: dict[str, dict[str, str]] = {}
    for row in read_all(landing, "accounts"):  # CDC: the latest version by updated_at, then batch
        key = (datetime.fromisoformat(row["updated_at"]), row["_batch"])
        if row["account_id"] not in latest or key >= latest[row["account_id"]]["_key"]:
            latest[row["account_id"]] = dict(row, _key=key)
    consent: dict[tuple[str, str], date] = {}
    for row in read_all(landing, "agreements"):
        if row["document_code"] != "CREDIT_REPORTING_AUTH":
            continue
        products = ["HUABEI", "JIEBEI"] if row["product"] == "ALL" else [row["product"]]
        for product in products:
            key = (row["customer_id"], product)
            consent[key] = min(consent.get(key, date.max), local_month(row["signed_at"]))
    expected = set()
    for account in latest.values():
        opened = local_month(account["opened_at"])
        closed = local_month(account["closed_at"]) if account["closed_at"] else date.max
        since = consent.get((account["customer_id"], account["product"]))
        for month in months:
            if since and since <= month and opened <= month <= closed:
                expected.add((month, account["account_id"]))
    return expected


def earliest_authorizations(landing: Path) -> dict[tuple[str, str], str]:
    """R6, P7: (customer, product) -> the earliest CREDIT_REPORTING_AUTH by instant, then id."""
    best: dict[tuple[str, str], tuple[datetime, str]] = {}
    for row in read_all(landing, "agreements"):
        if row["document_code"] != "CREDIT_REPORTING_AUTH":
            continue
        for product in ["HUABEI", "JIEBEI"] if row["product"] == "ALL" else [row["product"]]:
            key, candidate = (
                (row["customer_id"], product),
                (datetime.fromisoformat(row["signed_at"]), row["agreement_id"]),
            )
            best[key] = min(best.get(key, candidate), candidate)
    return {key: agreement for key, (_, agreement) in best.items()}
