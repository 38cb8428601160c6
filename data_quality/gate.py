"""The GX validation of one staged landing file: which rows fail which expectation, and why.

GX 1.x's SQL path does not work on DuckDB here (STACK-TRAPS), so each file is validated as a
pandas frame of its typed values plus the derived columns the suites name. Only rows whose values
have their contract types reach GX; the loader has already quarantined the others.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import cache

import duckdb
import great_expectations as gx
import pandas as pd
import pyarrow as pa
from great_expectations.execution_engine import pandas_execution_engine

from data_quality.suites import build_suite, expectations

EXAMPLES = 3  # failing rows kept per expectation for reports and Dagster metadata

# Columns computed from each row for the rules that span two columns (named in suites.py).
DERIVED_COLUMNS = {
    "customers": {
        "derived_id_birth_date": "substr(id_number, 7, 8)",
        "derived_birth_date": "strftime(birth_date, '%Y%m%d')",
    },
    "accounts": {
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
    examples: list[dict] = field(default_factory=list)


@dataclass
class GateResult:
    table: str
    outcomes: list[CheckOutcome]
    row_reasons: dict[int, list[str]]  # _source_row -> descriptions of the failed expectations

    @property
    def checks_failed(self) -> int:
        return sum(not o.success for o in self.outcomes)


@cache
def _context():
    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    # GX fingerprints every frame below 1 GB (a hash of all its values) for a batch marker nobody
    # reads here: over a second per 700k rows, more than the expectations themselves.
    pandas_execution_engine.HASH_THRESHOLD = 0
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = {"globally": False}
    source = context.data_sources.add_pandas("landing")
    for table in expectations():
        source.add_dataframe_asset(table).add_batch_definition_whole_dataframe("batch")
        context.suites.add(build_suite(table))
    return context


def batch_parameters(batch_month: str) -> dict:
    start = pd.Timestamp(f"{batch_month}-01T00:00:00+08:00")
    end = start + pd.DateOffset(months=1)
    return {
        "batch_end": end,
        "batch_last_day": (end - pd.Timedelta(days=1)).tz_localize(None).normalize(),
        "batch_months": [batch_month],
    }


def gate_frame(relation: duckdb.DuckDBPyRelation) -> pd.DataFrame:
    """The rows to validate as pandas, through Arrow (several times faster than `.df()` here);
    decimals as floats and dates as datetimes, which GX compares vectorized."""
    table = relation.to_arrow_table()
    schema = pa.schema(f.with_type(pa.float64()) if pa.types.is_decimal(f.type) else f for f in table.schema)
    return table.cast(schema).to_pandas(date_as_object=False)


def validate(table: str, frame: pd.DataFrame, batch_month: str) -> GateResult:
    """Run the table's suite on the frame (which carries `_source_row`).

    A clean batch, the usual case, costs one pass that only counts; only a batch with failures is
    validated again to name every failing row."""
    frame = _vectorizable(frame)
    result = _run_suite(table, frame, batch_month, {"result_format": "BOOLEAN_ONLY"})
    if not result.success:
        result = _run_suite(
            table,
            frame,
            batch_month,
            {
                "result_format": "COMPLETE",
                "unexpected_index_column_names": ["_source_row"],
                "return_unexpected_index_query": False,
            },
        )
    outcomes, reasons = [], {}
    for item in result.results:
        description = item.expectation_config.description or item.expectation_config.type
        failing = item.result.get("unexpected_index_list") or []
        if item.exception_info and item.exception_info.get("raised_exception"):
            raise RuntimeError(
                f"{table}: expectation '{description}' could not run: {item.exception_info.get('exception_message')}"
            )
        for entry in failing:
            reasons.setdefault(int(entry["_source_row"]), []).append(description)
        outcomes.append(CheckOutcome(description, bool(item.success), len(failing), failing[:EXAMPLES]))
    return GateResult(table, outcomes, reasons)


def _run_suite(table: str, frame: pd.DataFrame, batch_month: str, result_format: dict):
    context = _context()
    batch = context.data_sources.get("landing").get_asset(table).get_batch_definition("batch")
    return batch.get_batch(batch_parameters={"dataframe": frame}).validate(
        context.suites.get(f"landing_{table}"),
        expectation_parameters=batch_parameters(batch_month),
        result_format=result_format,
    )


def _vectorizable(frame: pd.DataFrame) -> pd.DataFrame:
    """Dates and naive timestamps in nanoseconds: GX compares only those (and zoned ones) vectorized,
    DuckDB hands over microseconds, and the per-value fallback is ~10x slower."""
    frame = frame.copy(deep=False)
    for column in frame.columns:
        if pd.api.types.is_datetime64_dtype(frame[column]) and frame[column].dtype != "M8[ns]":
            try:
                frame[column] = frame[column].astype("M8[ns]")
            except pd.errors.OutOfBoundsDatetime:  # a year like 9999: compared value by value then
                pass
    return frame
