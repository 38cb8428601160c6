"""Waves: the invitation funnel per wave (R16, R17)."""

import altair as alt
import streamlit as st

from dashboards import charts, queries, tables
from dashboards.formatting import count, percent
from dashboards.layout import page_footer, page_header

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

page_footer()
