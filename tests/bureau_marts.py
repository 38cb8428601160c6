"""Hand-built reporting marts for the bureau's tests: the records a month holds, in a warehouse with
only what the submission reads, submitted as the monthly run would, and the oracle view."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
from bureau_replay import files_in_order, replay

from bureau.submit import submit_month, submit_months

ORG = "TEST0000000001"
AT = datetime(2026, 12, 2, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
MART_COLUMNS = {
    "report_month": "date",
    "account_id": "varchar",
    "customer_id": "varchar",
    "product": "varchar",
    "account_type": "varchar",
    "id_number": "varchar",
    "full_name": "varchar",
    "opened_on": "date",
    "credit_limit": "decimal(18,2)",
    "balance": "decimal(18,2)",
    "amount_due": "decimal(18,2)",
    "amount_paid": "decimal(18,2)",
    "days_past_due": "integer",
    "overdue_periods": "integer",
    "overdue_amount": "decimal(18,2)",
    "month_status": "varchar",
    "repayment_history_24m": "varchar",
    "five_level_class": "varchar",
    "account_status": "varchar",
    "is_final_report": "boolean",
    "report_reason_code": "varchar",
    "consent_agreement_id": "varchar",
    "consent_signed_at": "timestamptz",
}
VALID_ID = "11010519491231002X"


def record(account_id: str, month: str, **changes) -> dict:
    """A consistent regular record (code 30, status N) of a HUABEI account; `changes` override."""
    return {
        "report_month": f"{month}-01",
        "account_id": account_id,
        "customer_id": "C1",
        "product": "HUABEI",
        "account_type": "R1",
        "id_number": VALID_ID,
        "full_name": "测试",
        "opened_on": "2023-05-31",
        "credit_limit": "5000.00",
        "balance": "1234.50",
        "amount_due": "300.49",
        "amount_paid": "300.49",
        "days_past_due": 0,
        "overdue_periods": 0,
        "overdue_amount": "0.00",
        "month_status": "N",
        "repayment_history_24m": "/" * 23 + "N",
        "five_level_class": "NORMAL",
        "account_status": "NORMAL",
        "is_final_report": False,
        "report_reason_code": "30",
        "consent_agreement_id": "AG1",
        "consent_signed_at": "2023-05-01T10:00:00+08:00",
        **changes,
    }


def warehouse_with(path: Path, records: list[dict], accounts: list[dict] | None = None) -> Path:
    """A warehouse holding only what the submission reads: the mart and the accounts' latest versions."""
    con = duckdb.connect(str(path))
    for schema in ("marts", "staging", "audit"):
        con.execute(f"create schema if not exists {schema}")
    columns = ", ".join(f"{name} {kind}" for name, kind in MART_COLUMNS.items())
    con.execute(f"create or replace table marts.credit_report_monthly ({columns})")
    con.executemany(
        f"insert into marts.credit_report_monthly values ({', '.join('?' * len(MART_COLUMNS))})",
        [[r[c] for c in MART_COLUMNS] for r in records],
    )
    con.execute(
        "create or replace table staging.stg_landing__accounts (account_id varchar, loan_amount decimal(18,2),"
        " term_months integer, closed_on date)"
    )
    for a in accounts or []:
        con.execute(
            "insert into staging.stg_landing__accounts values (?, ?, ?, ?)",
            [a["account_id"], a.get("loan_amount"), a.get("term_months"), a.get("closed_on")],
        )
    con.close()
    return path


def submit(warehouse: Path, month: str, out: Path, share: float = 1.0):
    con = duckdb.connect(str(warehouse))
    try:
        return submit_month(con, month, out, ORG, AT, share)
    finally:
        con.close()


def fresh_view(folder: Path, records: list[dict]) -> dict:
    """The oracle: the bureau's view from submitting these records, month by month, to a new bureau."""
    folder.mkdir()
    warehouse = warehouse_with(folder / "w.duckdb", records)
    con = duckdb.connect(str(warehouse))
    try:
        list(submit_months(con, sorted({r["report_month"][:7] for r in records}), folder / "out", ORG, AT, 1.0))
    finally:
        con.close()
    return replay(files_in_order(warehouse, folder / "out"))
