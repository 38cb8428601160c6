"""The GX validation of one staged landing file: which rows fail which expectation, and why.

GX runs the suites on its SQL engine, inside the loader's own DuckDB connection: the rows never
leave DuckDB (no pandas copy) and GX sees the loader's temp tables. Only rows whose values have
their contract types reach GX; the loader has already quarantined the others.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache

import duckdb
from duckdb_engine import ConnectionWrapper
from sqlalchemy.pool import StaticPool

from foundation.months import month_start, shift_month
from foundation.redaction import mask_row

EXAMPLES = 3  # failing rows kept per expectation for reports and Dagster metadata
EVERY_FAILING_ROW = 2**62  # GX's SQL engine names at most this many failing rows, even in COMPLETE
DATASOURCE = "loader"

# Columns computed from each row for the rules that span two columns (named in suites.py).
DERIVED_COLUMNS = {
    "customers": {
        "derived_customer_version": "customer_id || ' at ' || updated_at",
        "derived_id_birth_date": "substr(id_number, 7, 8)",
        "derived_birth_date": "strftime(birth_date, '%Y%m%d')",
    },
    "accounts": {
        "derived_account_version": "account_id || ' at ' || updated_at",
        "derived_loan_terms_fit_product": (
            "case product when 'JIEBEI' then coalesce(loan_amount > 0 and term_months in (3, 6, 12, 24), false)"
            " when 'HUABEI' then loan_amount is null and term_months is null else true end"
        ),
    },
    "bills": {
        "derived_bill_month_fits_statement": "coalesce(bill_month = date_trunc('month', statement_date), true)",
    },
    "account_snapshots": {"derived_snapshot_month": "strftime(snapshot_month, '%Y-%m')"},
}


@dataclass
class CheckOutcome:
    description: str
    success: bool
    unexpected_count: int
    examples: list[dict[str, str]] = field(default_factory=list)  # failing rows, personal values masked


@dataclass
class GateResult:
    table: str
    outcomes: list[CheckOutcome]
    row_reasons: dict[int, list[str]]  # _source_row -> descriptions of the failed expectations

    @property
    def checks_failed(self) -> int:
        return sum(not o.success for o in self.outcomes)


class _BorrowedConnection(ConnectionWrapper):
    """The loader's connection lent to SQLAlchemy. Transactions and closing stay with the loader:
    SQLAlchemy ends each use with a ROLLBACK, which on DuckDB discards the result GX has not
    fetched yet (the "list index out of range" of GX on DuckDB), and disposing the engine would
    close the loader's connection."""

    def begin(self) -> None:
        pass

    def commit(self) -> None:
        pass

    def rollback(self) -> None:
        pass

    def close(self) -> None:
        pass


class _Gate:
    """The ephemeral GX context with every suite, and the loader connection its datasource borrows.
    The datasource is kept while the same connection loads batch after batch (adding one costs more
    than validating a small file) and replaced when another connection comes (one loader writes at
    a time)."""

    def __init__(self) -> None:
        # GX (~5-9 s to import) is imported by the first validation, not by whoever imports the loader:
        # the Dagster definitions, and every run or command that loads no batch, start without it.
        import great_expectations as gx

        from data_quality.suites import build_suite, expectations

        logging.getLogger("great_expectations").setLevel(logging.ERROR)
        self.context = gx.get_context(mode="ephemeral")
        self.context.variables.progress_bars = {"globally": False}
        for table in expectations():
            self.context.suites.add(build_suite(table))
        self.lent_to: duckdb.DuckDBPyConnection | None = None

    def asset(self, con: duckdb.DuckDBPyConnection, table: str):
        """The GX asset of `gate_<table>` in `con`."""
        if self.lent_to is not con:
            if self.lent_to is not None:
                self.context.data_sources.delete(DATASOURCE)
            self.context.data_sources.add_sql(
                DATASOURCE,
                connection_string="duckdb:///:memory:",  # never opened: every connection is `con`
                kwargs={"creator": lambda: _BorrowedConnection(con), "poolclass": StaticPool},
            )
            self.lent_to = con
        source = self.context.data_sources.get(DATASOURCE)
        if table not in source.get_asset_names():
            source.add_table_asset(table, table_name=f"gate_{table}").add_batch_definition_whole_table("batch")
        return source.get_asset(table)


@cache
def _gate() -> _Gate:
    return _Gate()


def validate(con: duckdb.DuckDBPyConnection, table: str, rows: str, batch_month: str) -> GateResult:
    """Run the table's suite inside `con` on the table or view `rows` (which carries `_source_row`),
    plus the derived columns.

    A clean batch, the usual case, costs one pass that only counts; only a batch with failures is
    validated again to name every failing row."""
    gated = f"gate_{table}"
    derived = "".join(f", {sql} as {name}" for name, sql in DERIVED_COLUMNS.get(table, {}).items())
    con.execute(f"create or replace temp view {gated} as select *{derived} from {rows}")
    try:
        batch = _gate().asset(con, table).get_batch_definition("batch").get_batch()
        result = _run_suite(batch, table, batch_month, {"result_format": "BOOLEAN_ONLY"})
        if not result.success:
            result = _run_suite(
                batch,
                table,
                batch_month,
                {
                    "result_format": "COMPLETE",
                    "unexpected_index_column_names": ["_source_row"],
                    "return_unexpected_index_query": False,
                    "partial_unexpected_count": EVERY_FAILING_ROW,
                },
            )
    finally:
        con.execute(f"drop view if exists {gated}")
    outcomes, reasons = [], {}
    for item in result.results:
        description = item.expectation_config.description or item.expectation_config.type
        if error := _raised(item.exception_info):
            raise RuntimeError(f"{table}: expectation '{description}' could not run: {error}")
        failing = item.result.get("unexpected_index_list") or []
        if len(failing) < (item.result.get("unexpected_count") or 0):
            # A rule that cannot name all its failing rows must not let the unnamed ones through.
            raise RuntimeError(
                f"{table}: expectation '{description}' named {len(failing)} of its"
                f" {item.result['unexpected_count']} failing rows"
            )
        for entry in failing:
            reasons.setdefault(int(entry["_source_row"]), []).append(description)
        examples = [mask_row(e) for e in failing[:EXAMPLES]]  # reports and run metadata: personal values masked
        outcomes.append(CheckOutcome(description, bool(item.success), len(failing), examples))
    return GateResult(table, outcomes, reasons)


def batch_parameters(batch_month: str) -> dict:
    end = month_start(shift_month(batch_month, 1))
    return {
        "batch_end": end,
        "batch_last_day": end.date() - timedelta(days=1),
        "batch_months": [batch_month],
    }


def _run_suite(batch, table: str, batch_month: str, result_format: dict):
    return batch.validate(
        _gate().context.suites.get(f"landing_{table}"),
        expectation_parameters=batch_parameters(batch_month),
        result_format=result_format,
    )


def _raised(exception_info: dict | None) -> str | None:
    """The message of an exception GX caught while computing an expectation: flat for the
    expectation itself, keyed by metric when one of its metrics failed."""
    infos = [exception_info or {}, *(v for v in (exception_info or {}).values() if isinstance(v, dict))]
    return next((i.get("exception_message") or "error" for i in infos if i.get("raised_exception")), None)
