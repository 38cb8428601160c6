"""Numbers for people: percentages, yuan, thousands. NaN and None show as a dash."""

from __future__ import annotations

import math

DASH = "—"


def _missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def percent(value: float | None, digits: int = 1) -> str:
    return DASH if _missing(value) else f"{value:.{digits}%}"


def count(value: float | None) -> str:
    return DASH if _missing(value) else f"{value:,.0f}"


def yuan(value: float | None) -> str:
    """¥ with thousands separators below a million, then M / B (one decimal)."""
    if _missing(value):
        return DASH
    value = float(value)
    for size, suffix in ((1e9, "B"), (1e6, "M")):
        if abs(value) >= size:
            return f"¥{value / size:,.1f}{suffix}"
    return f"¥{value:,.0f}"


def ratio(numerator: float | None, denominator: float | None) -> float:
    """A rate from two sums; NaN when the denominator is zero or missing."""
    if _missing(numerator) or _missing(denominator) or not denominator:
        return float("nan")
    return float(numerator) / float(denominator)


def points(now: float, before: float | None) -> str | None:
    """The change of a rate, in percentage points (a metric's delta)."""
    return None if before is None or _missing(before) else f"{(now - before) * 100:+.1f} pt"
