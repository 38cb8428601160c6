"""The landing contract's files and columns, the one definition shared by generator and loader."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

# Contract types -> the DuckDB type a raw column is stored as.
DUCKDB_TYPES = {
    "string": "VARCHAR",
    "timestamp": "TIMESTAMPTZ",
    "date": "DATE",
    "month": "DATE",  # YYYY-MM stored as the month's first day
    "decimal": "DECIMAL(18,2)",
    "integer": "INTEGER",
}


@dataclass(frozen=True)
class Column:
    name: str
    type: str


@dataclass(frozen=True)
class LandingFile:
    """One of the seven files of a batch."""

    name: str  # table name, e.g. "bills"
    kind: str  # "cdc", "event" or "snapshot"
    key: str  # the id column (CDC key or event id)
    columns: tuple[Column, ...]

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def quoted_columns(self) -> str:
        """The column list for SQL."""
        return ", ".join(f'"{c.name}"' for c in self.columns)

    def file_name(self, fmt: str = "csv") -> str:
        return f"{self.name}.{fmt}"


def _cols(*pairs: str) -> tuple[Column, ...]:
    return tuple(Column(*p.split(":")) for p in pairs)


LANDING_FILES: tuple[LandingFile, ...] = (
    LandingFile(
        "customers",
        "cdc",
        "customer_id",
        _cols(
            "customer_id:string",
            "id_number:string",
            "full_name:string",
            "phone:string",
            "birth_date:date",
            "gender:string",
            "province_code:string",
            "registered_at:timestamp",
            "sesame_score:integer",
            "updated_at:timestamp",
        ),
    ),
    LandingFile(
        "accounts",
        "cdc",
        "account_id",
        _cols(
            "account_id:string",
            "customer_id:string",
            "product:string",
            "opened_at:timestamp",
            "closed_at:timestamp",
            "loan_amount:decimal",
            "term_months:integer",
            "updated_at:timestamp",
        ),
    ),
    LandingFile(
        "agreements",
        "event",
        "agreement_id",
        _cols(
            "agreement_id:string",
            "customer_id:string",
            "product:string",
            "document_code:string",
            "document_version:string",
            "signed_at:timestamp",
            "channel:string",
        ),
    ),
    LandingFile(
        "invitations",
        "event",
        "invitation_id",
        _cols(
            "invitation_id:string",
            "customer_id:string",
            "product:string",
            "wave:integer",
            "invited_at:timestamp",
            "channel:string",
        ),
    ),
    LandingFile(
        "bills",
        "event",
        "bill_id",
        _cols(
            "bill_id:string",
            "account_id:string",
            "bill_month:month",
            "statement_date:date",
            "due_date:date",
            "amount_due:decimal",
        ),
    ),
    LandingFile(
        "repayments",
        "event",
        "repayment_id",
        _cols("repayment_id:string", "account_id:string", "paid_at:timestamp", "amount:decimal"),
    ),
    LandingFile(
        "account_snapshots",
        "snapshot",
        "account_id",
        _cols(
            "account_id:string",
            "snapshot_month:month",
            "credit_limit:decimal",
            "outstanding_balance:decimal",
        ),
    ),
)

FILES_BY_NAME = {f.name: f for f in LANDING_FILES}
# Amounts are below 100 million yuan: the marts sum up to 100 million of them in DECIMAL(18,2).
MAX_AMOUNT = 100_000_000
EARLIEST_DATE = "1900-01-01"  # no date or timestamp of this business is earlier (year 0 is a defect)
MANIFEST_NAME = "_manifest.json"
ENCODINGS = ("utf-8", "gb18030")
FORMATS = ("csv", "parquet")


def file_sha256(path: Path) -> str:
    """The manifest's checksum of a file (and of the bureau's files in the ledger)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
