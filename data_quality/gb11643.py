"""A custom GX expectation: identity numbers follow GB 11643 (R14), check character included."""

from __future__ import annotations

import numpy as np
import pandas as pd
from great_expectations.execution_engine import PandasExecutionEngine
from great_expectations.expectations.expectation import ColumnMapExpectation
from great_expectations.expectations.metrics import ColumnMapMetricProvider, column_condition_partial

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
SHAPE = r"^\d{6}(19|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])\d{3}[\dX]$"


def is_valid_gb11643(values: pd.Series) -> pd.Series:
    """18 characters, a plausible birth date, and the ISO 7064 MOD 11-2 check character."""
    text = values.astype("string")
    shaped = text.str.match(SHAPE).fillna(False).astype(bool).to_numpy()
    # each character's code point minus '0', in one array: digits 0-9, and 40 for 'X'
    digits = text.where(shaped, "0" * 18).to_numpy(dtype="U18").view(np.uint32).reshape(-1, 18).astype(np.int64)
    digits -= ord("0")
    expected = np.array([ord(c) - ord("0") for c in CHECK_CHARS])[digits[:, :17] @ np.array(WEIGHTS) % 11]
    return pd.Series(shaped & (digits[:, 17] == expected), index=values.index)


class ColumnValuesValidGb11643(ColumnMapMetricProvider):
    condition_metric_name = "column_values.valid_gb11643"

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column: pd.Series, **kwargs) -> pd.Series:
        return is_valid_gb11643(column)


class ExpectColumnValuesToBeValidGb11643IdNumber(ColumnMapExpectation):
    """Expect resident identity numbers to be valid GB 11643 numbers (R14)."""

    map_metric = "column_values.valid_gb11643"
    success_keys = ("mostly",)
