"""`credit-reporting-warehouse forecast`: the rollout pace table as text, read from the published
analytics copy with the dashboard's own queries (foundation/rollout_pace.py), so the terminal and the
Pace section print the same figures."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from foundation import rollout_pace
from foundation.errors import WarehouseError
from foundation.published_sql import NotPublished, connect


def forecast_text(as_of: str | None) -> str:
    """The table as of `as_of` (YYYY-MM; default the latest month), then the backtest's error."""
    try:
        with connect() as con:
            months = [m for (m,) in con.execute(rollout_pace.AS_OF_MONTHS_SQL).fetchall()]
            if not months:
                raise WarehouseError("the published copy has no forecast: no month is loaded yet")
            month = _as_of_month(as_of, months)
            table = con.execute(rollout_pace.PACE_TABLE_SQL, [month]).df()
            backtest = con.execute(rollout_pace.BACKTEST_SQL).df()
    except NotPublished as exc:
        raise WarehouseError(str(exc)) from None
    except duckdb.CatalogException:
        raise WarehouseError(
            "the published copy has no rollout forecast yet: run `credit-reporting-warehouse run` again"
        ) from None
    lines = [f"Rollout pace as of {month:%Y-%m}: account coverage now and projected (low-high band)."]
    for product, rows in table.groupby("product", sort=False):
        lines += ["", _pace_line(product, rows.iloc[0]), _table(rows)]
    lines += ["", *_backtest_lines(backtest, months[-1])]
    return "\n".join(lines) + "\n"


def _as_of_month(as_of: str | None, months: list[dt.date]) -> dt.date:
    if as_of is None:
        return months[-1]
    for month in months:
        if f"{month:%Y-%m}" == as_of:
            return month
    raise WarehouseError(
        f"no forecast as of {as_of}: the forecast is made as of {months[0]:%Y-%m} to {months[-1]:%Y-%m}"
    )


def _pace_line(product: str, first: pd.Series) -> str:
    if pd.isna(first.invitations_per_month):
        return f"{product}: no invitation wave by then, so no pace: coverage held where it is."
    return (
        f"{product}: {first.invitations_per_month:,.0f} customers first invited a month "
        f"({first.waves_seen} wave{'s' if first.waves_seen != 1 else ''} seen)."
    )


def _percent(value) -> str:
    return "-" if pd.isna(value) else f"{value:.1%}"


def _band(row: pd.Series, months: int) -> str:
    low, high = row[f"in_{months}m_low"], row[f"in_{months}m_high"]
    return f"{_percent(row[f'in_{months}m'])} ({_percent(low)}-{_percent(high)})"


def _table(rows: pd.DataFrame) -> str:
    shown = pd.DataFrame(
        {
            "cohort": [
                f"{rollout_pace.DIMENSIONS[d]}: {c}" if d != "all" else "All"
                for d, c in zip(rows.cohort_dimension, rows.cohort, strict=True)
            ],
            "now": rows.coverage_now.map(_percent),
            **{f"+{m} months": rows.apply(_band, axis=1, months=m) for m in rollout_pace.HORIZONS},
            "90% by": rows.reaches_90pct.map(rollout_pace.reaches_90pct_label),
            "error so far (points)": rows.backtest_error_points.map(lambda v: "-" if pd.isna(v) else f"{v:.1f}"),
        }
    )
    shown["cohort"] = shown.cohort.str.ljust(shown.cohort.map(len).max())
    return shown.to_string(index=False, justify="left")


def _backtest_lines(backtest: pd.DataFrame, last_month: dt.date) -> list[str]:
    if backtest.empty:
        return ["Backtest: none yet (it needs the forecasts made 3 and 6 months before the last batch)."]
    lines = [
        f"Backtest: the forecasts made {' and '.join(map(str, rollout_pace.BACKTESTS))} months before "
        f"{last_month:%Y-%m}, against what happened (absolute error in coverage points):"
    ]
    for (before, as_of), rows in backtest.groupby(["months_before", "as_of_month"], sort=True):
        for _, row in rows.iterrows():
            lines.append(
                f"  as of {as_of:%Y-%m} ({before} months before)  {row['product']:<6}  "
                f"{rollout_pace.DIMENSIONS[row.cohort_dimension]:<10}  mean {row.mean_error_points:5.1f}  "
                f"max {row.max_error_points:5.1f}  within the band {row.share_within_band:4.0%}  "
                f"({row.cohort_months} cohort-months)"
            )
    return lines
