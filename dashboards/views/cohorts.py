"""Coverage by cohort: one cohort dimension and product at a time, lines over months and a heatmap."""

import streamlit as st

from dashboards import charts, queries, tables
from dashboards.layout import page_footer, page_header

LINES = 10  # the palette's colours: one line each

page_header(
    "Coverage by cohort",
    "Which customers the rollout has reached: share of accounts (or balances) reported, per cohort and month.",
)

left, middle, right = st.columns(3)
dimension = left.selectbox("Cohort", list(queries.COHORT_DIMENSIONS), key="dimension")
product = middle.radio("Product", queries.PRODUCTS, horizontal=True, key="product")
measure = right.radio("Coverage of", ["accounts", "balance"], horizontal=True, key="measure")
rate = f"{'account' if measure == 'accounts' else 'balance'}_coverage"

data = queries.cohort_coverage(queries.COHORT_DIMENSIONS[dimension], product)
if data.empty:
    st.info(f"No {product} accounts in any reporting month yet.")
    st.stop()
order = list(data.sort_values("cohort_order").cohort.drop_duplicates())
# one filter per dimension: values of another dimension would not be options of this one
chosen = st.multiselect(f"{dimension} values", order, default=order, key=f"cohorts-{dimension}")
months = sorted(data.month.dt.strftime("%Y-%m").unique())
first, last = (
    st.select_slider("Months", months, value=(months[0], months[-1]), key="months")
    if len(months) > 1
    else (months[0], months[0])
)
shown = data[data.cohort.isin(chosen) & data.month.dt.strftime("%Y-%m").between(first, last)]
if shown.empty:
    st.info("Pick at least one cohort value.")
    st.stop()
sort = [c for c in order if c in chosen]

st.subheader(f"{product}: share of {measure} reported, by {dimension.lower()}")
lines = queries.top_cohorts_with_rest(shown, keep=LINES - 1)
if lines.cohort.nunique() < shown.cohort.nunique():
    st.caption(
        f"The {LINES - 1} {dimension.lower()} values with the most active accounts in the last month shown; "
        "the others summed as one line. The heatmap and the table below have every value."
    )
line_order = list(lines.sort_values("cohort_order").cohort.drop_duplicates())
st.altair_chart(
    charts.trend(lines, rate, "cohort", f"Share of {measure} reported", color_sort=line_order), width="stretch"
)
st.altair_chart(charts.heatmap(shown, "cohort", rate, "reported", sort), width="stretch")

latest = shown[shown.month == shown.month.max()]
st.subheader(f"{latest.month.max():%Y-%m} by {dimension.lower()}")
tables.show(latest[["cohort", *tables.COVERAGE_COLUMNS]], cohort=dimension)

page_footer()
