"""Waves: the invitation funnel per wave (R16, R17)."""

import altair as alt
import pandas as pd
import streamlit as st

from dashboards import charts, queries, tables
from dashboards.formatting import count, percent
from dashboards.layout import page_footer, page_header
from foundation.rollout_pace import DIMENSIONS, reaches_90pct_label

PACE_LINES = 6  # cohort values drawn at first: bands overlap past that

STEPS = {  # rate column -> label
    "within_30d_rate": "consented ≤ 30 days",
    "within_90d_rate": "consented ≤ 90 days",
    "ever_rate": "consented so far",
    "opted_out_rate": "opted out by closing",
}

page_header(
    "Invitation waves",
    "Per wave of first invitations: how many consented within 30 and 90 days or at all, how fast, and who "
    "closed the account instead.",
)
product = st.radio("Product", queries.PRODUCTS, horizontal=True, key="product")
funnel = queries.wave_funnel(product)
waves = funnel[funnel.wave_number.notna()]
if waves.empty:
    st.info(f"No {product} invitation wave yet.")
else:
    cols = st.columns(4)
    cols[0].metric("Waves", count(len(waves)))
    cols[1].metric("Customers invited", count(waves.invited_customers.sum()))
    cols[2].metric("Consented (ever)", percent(waves.consented_ever.sum() / waves.invited_customers.sum()))
    cols[3].metric("Opted out by closing", count(waves.opted_out_by_closing.sum()))

    steps = waves.melt(
        id_vars=["wave_label", "wave_number"],
        value_vars=list(STEPS),
        var_name="step",
        value_name="share",
    ).dropna(subset=["share"])  # a window not elapsed for a wave: no bar rather than a low one
    steps["step"] = steps.step.map(STEPS)
    wave_order = list(waves.sort_values("wave_number").wave_label)
    st.subheader("Funnel per wave (share of the invited)")
    st.caption(
        "A wave's 30- and 90-day rates show once that many days have passed since its first invitation "
        "(its age at the last batch's end); younger waves show only what they reached so far."
    )
    st.altair_chart(
        alt.Chart(steps)
        .mark_bar()
        .encode(
            x=alt.X("wave_label:N", sort=wave_order, title=None),
            xOffset=alt.XOffset("step:N", sort=list(STEPS.values())),
            y=alt.Y("share:Q", axis=alt.Axis(format=".0%"), title="Share of invited"),
            color=alt.Color("step:N", sort=list(STEPS.values()), title=None, scale=charts.CATEGORIES),
            tooltip=["wave_label", "step", alt.Tooltip("share:Q", format=".1%")],
        ),
        width="stretch",
    )
    left, right = st.columns(2)
    for column, title, where in (
        ("avg_score_at_invite", "Average sesame score at invitation", left),
        ("median_days_to_consent", "Median days from invitation to consent", right),
    ):
        where.subheader(title)
        where.altair_chart(
            alt.Chart(waves)
            .mark_bar()
            .encode(
                x=alt.X("wave_label:N", sort=wave_order, title=None),
                y=alt.Y(f"{column}:Q", title=None, scale=alt.Scale(zero=column != "avg_score_at_invite")),
                tooltip=["wave_label", alt.Tooltip(f"{column}:Q", format=".0f")],
            ),
            width="stretch",
        )

st.subheader("All waves")
tables.show(
    funnel[
        [
            "wave_label",
            "first_invited_on",
            "age_days",
            "invited_customers",
            "within_30d_rate",
            "within_90d_rate",
            "ever_rate",
            "opted_out_rate",
            "median_days_to_consent",
            "avg_score_at_invite",
        ]
    ]
)


st.header("Pace")
as_of = queries.forecast_as_of()
if as_of is None:
    st.info("No forecast yet: it needs a loaded month.")
    page_footer()
    st.stop()
table = queries.pace_table(as_of, product)
if table.empty:
    st.info(f"No {product} customers as of {as_of:%Y-%m}: nothing to forecast.")
    page_footer()
    st.stop()
overall = table[table.cohort_dimension == "all"].iloc[0]
st.caption(
    f"Forecast as of {as_of:%Y-%m}, the cohorts as they stood then. The next waves invite the not-yet-invited "
    "customers best score first at the pace since the third most recent wave; invited customers consent month "
    "by month like the three most recent waves did at the same age; future waves lose the recent waves' "
    "opt-out share (R17). The band: the slowest and fastest wave, the lowest and highest monthly pace. "
    "Its error on the past is below: the same forecast made 3 and 6 months before."
)
cols = st.columns(4)
if pd.isna(overall.invitations_per_month):
    cols[0].metric("Invited a month", "no wave yet")
else:
    cols[0].metric("Invited a month", count(overall.invitations_per_month), help=f"{overall.waves_seen} waves seen")
cols[1].metric("Account coverage now", percent(overall.coverage_now))
cols[2].metric(
    "In 12 months",
    percent(overall.in_12m),
    help=f"band {percent(overall.in_12m_low)} to {percent(overall.in_12m_high)}",
)
last_month = as_of + pd.DateOffset(months=12)
cols[3].metric(
    "90% coverage by",
    f"after {last_month:%Y-%m}" if pd.isna(overall.reaches_90pct) else f"{overall.reaches_90pct:%Y-%m}",
    help="The first month projected at 90% account coverage or more (the central line)",
)

labels = {label: dimension for dimension, label in DIMENSIONS.items()}
dimension = labels[st.selectbox("Cohort", list(labels), index=1, key="pace-dimension")]  # score bands first
lines = queries.pace_lines(as_of, product, dimension)
order = list(lines.sort_values("cohort_order").cohort.drop_duplicates())
chosen = st.multiselect("Cohort values", order, default=order[:PACE_LINES], key=f"pace-values-{dimension}")
shown = lines[lines.cohort.isin(chosen)]
if shown.empty:
    st.info("Pick at least one cohort value.")
else:
    by = "" if dimension == "all" else f", by {DIMENSIONS[dimension].lower()}"
    st.subheader(f"{product}: account coverage so far and projected{by}")
    st.altair_chart(charts.projection(shown, [c for c in order if c in chosen]), width="stretch")

rows = table[table.cohort_dimension == dimension]
tables.show(
    rows.assign(
        band_12m=[f"{percent(lo)} to {percent(hi)}" for lo, hi in zip(rows.in_12m_low, rows.in_12m_high, strict=True)],
        reaches_90pct=rows.reaches_90pct.map(reaches_90pct_label),
    )[["cohort", "coverage_now", "in_3m", "in_6m", "in_12m", "band_12m", "reaches_90pct", "backtest_error_points"]]
)

st.subheader("How right was it before?")
backtest = queries.backtest(product)
if backtest.empty:
    st.info("No backtest yet: it needs the forecast made 3 or 6 months before the last batch.")
else:
    st.caption(
        "The same forecast made 3 and 6 months before the last batch, against what happened to the same "
        "cohorts: absolute error of the projected account coverage in percentage points."
    )
    tables.show(backtest.assign(cohort_dimension=backtest.cohort_dimension.map(DIMENSIONS)).drop(columns="product"))

page_footer()
