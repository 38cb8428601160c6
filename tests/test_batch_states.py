"""The one reading of the load audit (`status` and the Data quality page): which sending of a month is
in raw, and whether a later one was refused."""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb

from foundation.batch_states import batch_states_sql
from ingestion.raw_load import AUDIT_DDL

FILES = ("customers.csv", "bills.csv")


def audit(*attempts: tuple[str, int, str, int, int]) -> duckdb.DuckDBPyConnection:
    """An audit of load attempts: (month, hour loaded, status, rows loaded per file, rows held per file)."""
    con = duckdb.connect()
    con.execute("create schema audit")
    con.execute(AUDIT_DDL)
    for month, hour, status, loaded, held in attempts:
        for name in FILES:
            reason = f"batch rejected: {name}: bad" if status == "REJECTED" else None
            con.execute(
                "insert into audit.load_batches values (?::date, ?, ?, ?, ?, ?, ?, ?, 1, 0, 'p')",
                [
                    f"{month}-01",
                    name,
                    datetime(2024, 6, 1, hour, tzinfo=UTC),
                    status,
                    loaded + held,
                    loaded,
                    held,
                    reason,
                ],
            )
    return con


def states(con) -> dict[str, tuple]:
    rows = con.execute(batch_states_sql("audit.load_batches")).fetchall()
    return {row[0]: (row[1], row[2], row[3], row[6] is not None) for row in rows}


def test_a_refused_resend_leaves_the_sending_before_it_counted():
    con = audit(("2024-01", 1, "LOADED_WITH_QUARANTINE", 10, 1), ("2024-01", 2, "REJECTED", 0, 0))
    assert states(con) == {"2024-01": ("LOADED_WITH_QUARANTINE", 20, 2, True)}


def test_a_later_good_sending_replaces_a_refused_one():
    con = audit(("2024-02", 1, "REJECTED", 0, 0), ("2024-02", 2, "LOADED", 5, 0), ("2024-03", 1, "REJECTED", 0, 0))
    assert states(con) == {"2024-02": ("LOADED", 10, 0, False), "2024-03": (None, 0, 0, True)}
