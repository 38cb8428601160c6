"""The GX gate itself (real GX on real DuckDB): every failing row is named, an expectation that
cannot run stops the load, and loaders with different connections each validate their own rows."""

from __future__ import annotations

import duckdb
import pytest

from data_quality.gate import validate
from data_quality.suites import expectations

MONTH = "2024-02"


def typed_bills(con: duckdb.DuckDBPyConnection, rows: int, negative: int, name: str = "typed_bills") -> str:
    """`rows` clean February bills, the first `negative` of them with a negative amount due."""
    con.execute(
        f"""create or replace temp table {name} as
        select i as _source_row, 'B' || i as bill_id, 'A' || i as account_id, date '2024-02-01' as bill_month,
               date '2024-02-05' as statement_date, date '2024-02-25' as due_date,
               (case when i <= {negative} then -1 else 10 end)::decimal(18, 2) as amount_due
        from range(1, {rows} + 1) t(i)"""
    )
    return name


def test_every_failing_row_is_named_beyond_gx_partial_list():
    # GX's SQL engine returns 20 failing rows unless told otherwise, even in COMPLETE
    con = duckdb.connect()
    result = validate(con, "bills", typed_bills(con, rows=1000, negative=45), MONTH)
    assert sorted(result.row_reasons) == list(range(1, 46))
    assert {tuple(r) for r in result.row_reasons.values()} == {("amount_due is not negative",)}
    failed = [o for o in result.outcomes if not o.success]
    assert [(o.description, o.unexpected_count, len(o.examples)) for o in failed] == [
        ("amount_due is not negative", 45, 3)
    ]


def test_a_clean_file_passes_every_expectation():
    con = duckdb.connect()
    result = validate(con, "bills", typed_bills(con, rows=500, negative=0), MONTH)
    assert result.row_reasons == {} and result.checks_failed == 0
    assert sorted(o.description for o in result.outcomes) == sorted(e.description for e in expectations()["bills"])


def test_an_expectation_that_cannot_run_stops_the_gate():
    con = duckdb.connect()
    rows = typed_bills(con, rows=10, negative=0)
    con.execute(f"alter table {rows} drop column due_date")
    with pytest.raises(RuntimeError, match=r"bills: expectation 'due_date is required' could not run"):
        validate(con, "bills", rows, MONTH)


def test_connections_one_after_another_each_see_their_own_rows():
    first, second = duckdb.connect(), duckdb.connect()
    assert len(validate(first, "bills", typed_bills(first, 100, negative=2), MONTH).row_reasons) == 2
    assert len(validate(second, "bills", typed_bills(second, 100, negative=7), MONTH).row_reasons) == 7
    second.close()
    assert len(validate(first, "bills", typed_bills(first, 100, negative=4), MONTH).row_reasons) == 4
