"""Overview: the latest month's coverage and reported records, and the trend since the window's start."""

import pandas as pd
import streamlit as st

from dashboards import charts, queries, tables
from dashboards.formatting import count, percent, points, ratio, yuan
from dashboards.layout import page_footer, page_header

page_header("Overview", "How much of the book is reported to the credit bureau, month by month.")

coverage = queries.coverage_by_month()
if coverage.empty:
    st.info("No reporting month has been loaded yet.")
    st.stop()
records = queries.records_by_month()
months = sorted(coverage.month.unique())
latest, previous = months[-1], (months[-2] if len(months) > 1 else None)


def _totals(month) -> pd.Series:
    sums = coverage[coverage.month == month].sum(numeric_only=True)
    sums["records"] = records[records.month == month].records.sum()
    return sums


now = _totals(latest)
before = _totals(previous) if previous is not None else None
st.subheader(f"{pd.Timestamp(latest):%Y-%m}, both products")
cols = st.columns(4)
for col, label, reported, total, amount in (
    (cols[0], "Accounts reported", "reported_accounts", "active_accounts", count),
    (cols[1], "Balance reported", "reported_balance", "total_balance", yuan),
):
    rate = ratio(now[reported], now[total])
    col.metric(
        label,
        percent(rate),
        points(rate, None if before is None else ratio(before[reported], before[total])),
        help=f"{amount(now[reported])} of {amount(now[total])}",
    )
cols[2].metric(
    "Records sent",
    count(now.records),
    None if before is None else f"{now.records - before.records:+,.0f}",
)
cols[3].metric(
    "Consents so far",
    count(now.consented_customers),
    help="Customers consented per product, cumulative: a customer of both products counts twice",
)

st.subheader("Coverage since the start of the window")
st.caption("Solid: share of accounts reported; dashed: share of balance reported.")
trend = coverage.melt(
    id_vars=["month", "product"],
    value_vars=["account_coverage", "balance_coverage"],
    var_name="measure",
    value_name="coverage",
)
trend["measure"] = trend.measure.map({"account_coverage": "accounts", "balance_coverage": "balance"})
st.altair_chart(
    charts.trend(
        trend,
        "coverage",
        "product",
        "Share reported",
        rollout_month=queries.rollout_month(),
        stroke_dash="measure",
        color_sort=list(queries.PRODUCTS),
        dash_sort=["accounts", "balance"],
    ),
    width="stretch",
)

st.subheader("Records sent per month")
st.altair_chart(
    charts.stacked_bars(records, "month", "records", "product", "Records", color_sort=list(queries.PRODUCTS)),
    width="stretch",
)
with st.expander("Monthly figures"):
    tables.show(coverage[["month", "product", *tables.COVERAGE_COLUMNS]])

page_footer()
