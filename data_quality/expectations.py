"""Custom GX expectations, computed in SQL by DuckDB (GX runs the suites on its SQL engine).

GX ships no regex support for the DuckDB dialect ("Regex is not supported for dialect duckdb"),
so pattern checks use DuckDB's `regexp_full_match` here; GB 11643 is ours anyway (R14).
"""

from __future__ import annotations

import sqlalchemy as sa
from great_expectations.execution_engine import SqlAlchemyExecutionEngine
from great_expectations.expectations.expectation import ColumnMapExpectation
from great_expectations.expectations.metrics import ColumnMapMetricProvider, column_condition_partial

from foundation import gb11643


class ColumnValuesFullyMatch(ColumnMapMetricProvider):
    condition_metric_name = "column_values.fully_match"
    condition_value_keys = ("pattern",)

    @column_condition_partial(engine=SqlAlchemyExecutionEngine)
    def _sqlalchemy(cls, column, pattern, **kwargs):
        return sa.func.regexp_full_match(column, sa.literal(pattern))


class ExpectColumnValuesToFullyMatch(ColumnMapExpectation):
    """Expect each value, as a whole, to match a regular expression (RE2 syntax)."""

    pattern: str
    map_metric = "column_values.fully_match"
    success_keys = ("pattern", "mostly")
    args_keys = ("column", "pattern")


class ColumnValuesValidGb11643(ColumnMapMetricProvider):
    condition_metric_name = "column_values.valid_gb11643"

    @column_condition_partial(engine=SqlAlchemyExecutionEngine)
    def _sqlalchemy(cls, column, **kwargs):
        """18 characters, a plausible birth date, and the ISO 7064 MOD 11-2 check character."""
        weighted = sum(
            (sa.func.ascii(sa.func.substr(column, position, 1)) - ord("0")) * weight
            for position, weight in enumerate(gb11643.WEIGHTS, start=1)
        )
        check_char = sa.func.substr(sa.literal(gb11643.CHECK_CHARS), sa.func.mod(weighted, 11) + 1, 1)
        return sa.and_(
            sa.func.regexp_full_match(column, sa.literal(gb11643.SHAPE)),
            sa.func.substr(column, 18, 1) == check_char,
        )


class ExpectColumnValuesToBeValidGb11643IdNumber(ColumnMapExpectation):
    """Expect resident identity numbers to be valid GB 11643 numbers (R14)."""

    map_metric = "column_values.valid_gb11643"
    success_keys = ("mostly",)
