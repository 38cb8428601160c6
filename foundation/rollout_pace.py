"""The rollout pace readout (marts.rollout_forecast, published as analytics.rollout_forecast): one
table per as-of month and the backtest's error, shared by the dashboard's Pace section and
`credit-reporting-warehouse forecast`, so both print the same figures.
"""

from __future__ import annotations

HORIZONS = (3, 6, 12)  # months ahead shown in the table
BACKTESTS = (3, 6)  # the forecasts made this many months before the last batch, checked against it
DIMENSIONS = {  # cohort_dimension -> label, in display order
    "all": "All",
    "score_band": "Score band",
    "limit_band": "Limit band",
    "province_code": "Province",
    "wave_label": "Wave",
}

AS_OF_MONTHS_SQL = "select distinct as_of_month from rollout_forecast order by 1"


def reaches_90pct_label(month) -> str:
    """A cohort's 90% month as people read it (NULL in the mart: not within the 12 months projected)."""
    return "not within 12 months" if month is None or month != month else f"{month:%Y-%m}"  # NaT != NaT


# A cohort's readable name and its place in its dimension (bands in band order, waves by number).
_COHORT = """
    case f.cohort_dimension
        when 'province_code' then coalesce(p.province_name_en || ' ' || p.province_name, f.cohort_value)
        else f.cohort_value
    end as cohort,
    coalesce(b.sort_order, try_cast(regexp_extract(f.cohort_value, '\\d+') as integer),
             1000000 + length(f.cohort_value)) as cohort_order
"""
_COHORT_JOINS = """
    left join provinces p on f.cohort_dimension = 'province_code' and p.province_code = f.cohort_value
    left join cohort_bands b on b.dimension = f.cohort_dimension and b.band = f.cohort_value
"""


def _at(months: int) -> str:
    return ",\n".join(
        f"max(f.account_coverage{suffix}) filter (where f.months_ahead = {months}) as in_{months}m{suffix}"
        for suffix in ("", "_low", "_high")
    )


# Per product and cohort, as of one month ($1): coverage then and projected, the 90% month, and the
# backtest's mean error over the months since that are known (NULL for the latest month).
PACE_TABLE_SQL = f"""
select
    f.product,
    f.cohort_dimension,
    {_COHORT},
    max(f.account_coverage) filter (where f.months_ahead = 0) as coverage_now,
    {",".join(_at(m) for m in HORIZONS)},
    any_value(f.reaches_90pct_month) as reaches_90pct,
    any_value(f.reaches_90pct_month_early) as reaches_90pct_early,
    any_value(f.reaches_90pct_month_late) as reaches_90pct_late,
    avg(f.coverage_error_points) filter (where f.months_ahead > 0) as backtest_error_points,
    any_value(f.invitations_per_month) as invitations_per_month,
    any_value(f.waves_seen) as waves_seen
from rollout_forecast f
{_COHORT_JOINS}
where f.as_of_month = $1
group by f.product, f.cohort_dimension, f.cohort_value, cohort, cohort_order
order by f.product, list_position({list(DIMENSIONS)}, f.cohort_dimension), cohort_order, cohort
"""

# One cohort dimension's months ($1 as-of, $2 product, $3 dimension): the projection and its band.
PROJECTION_SQL = f"""
select f.month, {_COHORT}, f.account_coverage, f.account_coverage_low, f.account_coverage_high,
       f.actual_account_coverage
from rollout_forecast f
{_COHORT_JOINS}
where f.as_of_month = $1 and f.product = $2 and f.cohort_dimension = $3
order by cohort_order, cohort, f.month
"""

# The forecasts made BACKTESTS months before the last as-of month, against what happened: per product
# and dimension, the mean and largest absolute error in coverage points and how often the band held it.
BACKTEST_SQL = f"""
with latest as (select max(as_of_month) as last_month from rollout_forecast)
select
    f.as_of_month,
    cast(date_diff('month', f.as_of_month, latest.last_month) as integer) as months_before,
    f.product,
    f.cohort_dimension,
    avg(f.coverage_error_points) as mean_error_points,
    max(f.coverage_error_points) as max_error_points,
    avg(case when f.within_band then 1.0 else 0.0 end) as share_within_band,
    count(*) as cohort_months
from rollout_forecast f, latest
where f.months_ahead > 0 and f.coverage_error_points is not null
  and date_diff('month', f.as_of_month, latest.last_month) in {BACKTESTS}
group by f.as_of_month, months_before, f.product, f.cohort_dimension
order by months_before, f.product, list_position({list(DIMENSIONS)}, f.cohort_dimension)
"""
