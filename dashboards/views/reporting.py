"""Reporting months: what was sent each month, by reporting-occasion code, month status and class."""

import streamlit as st

from dashboards import charts, queries, tables
from dashboards.formatting import count, yuan
from dashboards.layout import page_footer, page_header

REASON_CODES = {"10": "10 opened", "31": "31 first report, already open", "30": "30 regular", "32": "32 closed"}
# R12's classes as the risk team reads them: the regulator's Chinese names beside the mart's codes
CLASSES = {
    "NORMAL": "正常 Normal",
    "SPECIAL_MENTION": "关注 Special mention",
    "SUBSTANDARD": "次级 Substandard",
    "DOUBTFUL": "可疑 Doubtful",
    "LOSS": "损失 Loss",
}

page_header(
    "Reporting months",
    "The records sent to the bureau each month, counted (no personal data): occasion code (R19), "
    "month status (R10) and five-level class (R12).",
)
products = st.multiselect("Products", queries.PRODUCTS, default=list(queries.PRODUCTS), key="products")
if not products:
    st.info("Pick at least one product.")
    st.stop()
data = queries.reporting_summary(tuple(products))
if data.empty:
    st.info("Nothing reported yet for these products.")
    st.stop()
data["occasion"] = data.report_reason_code.map(REASON_CODES).fillna(data.report_reason_code)
data["class"] = data.five_level_class.map(CLASSES).fillna(data.five_level_class)

latest = data[data.month == data.month.max()]
cols = st.columns(4)
cols[0].metric(f"Records {latest.month.max():%Y-%m}", count(latest.records.sum()))
cols[1].metric("Customers", count(latest.customers.sum()), help="Distinct per product, summed over products")
cols[2].metric("Balance reported", yuan(latest.balance.sum()))
cols[3].metric("Overdue reported", yuan(latest.overdue_amount.sum()))

st.subheader("Records by reporting-occasion code")
st.altair_chart(
    charts.stacked_bars(data, "month", "records", "occasion", "Records", color_sort=list(REASON_CODES.values())),
    width="stretch",
)
left, right = st.columns(2)
with left:
    st.subheader("By month status")
    st.altair_chart(
        charts.stacked_bars(
            data,
            "month",
            "records",
            "month_status",
            "Records",
            color_sort=charts.MONTH_STATUS.domain,
            scale=charts.MONTH_STATUS,
        ),
        width="stretch",
    )
with right:
    st.subheader("Five-level class (share)")
    st.altair_chart(
        charts.stacked_bars(
            data, "month", "records", "class", "Share", normalize=True, color_sort=list(CLASSES.values())
        ),
        width="stretch",
    )
by_class = latest.groupby("class", as_index=False)[["records", "balance", "overdue_amount"]].sum()
by_class["order"] = by_class["class"].map({label: i for i, label in enumerate(CLASSES.values())})
st.subheader(f"{latest.month.max():%Y-%m} by five-level class")
tables.show(
    by_class.sort_values("order")[["class", "records", "balance", "overdue_amount"]], **{"class": "Five-level class"}
)

page_footer()
