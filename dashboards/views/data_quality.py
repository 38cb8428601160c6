"""Data quality: the latest load attempts, what the landing gate held back and why; published after
a failed run too, so this page says why when the others still show the last passing build."""

import streamlit as st

from dashboards import queries
from dashboards.formatting import count
from dashboards.layout import page_footer, page_header
from foundation.months import BUSINESS_TIMEZONE

publication = page_header(
    "Data quality",
    "Every load attempt of every landing file and the rows the landing gate quarantined, per file and reason. "
    "Rejected batches loaded nothing; quarantined rows wait for the source to resend them.",
    needs_build=False,
)
loads = queries.load_batches()
if loads.empty:
    st.info("No batch has been loaded yet.")
    st.stop()
loads["batch"] = loads.batch_month.dt.strftime("%Y-%m")
loads["attempted"] = loads.loaded_at.dt.tz_convert(BUSINESS_TIMEZONE).dt.tz_localize(None)
batches = queries.batch_states()  # a refused resend leaves the sending before it in raw
cols = st.columns(4)
cols[0].metric("Batch months loaded", count(batches.status.notna().sum()))
cols[1].metric("Rows loaded", count(batches.rows_loaded.sum()))
cols[2].metric("Rows quarantined", count(batches.rows_quarantined.sum()))
cols[3].metric("Sendings refused (latest)", count(batches.refused_at.notna().sum()))

st.subheader("Latest load attempts")
shown = st.slider("Attempts shown", 7, max(7, len(loads)), min(35, max(7, len(loads))), step=7, key="attempts")
st.dataframe(
    loads.head(shown)[
        [
            "batch",
            "file_name",
            "attempted",
            "status",
            "rows_received",
            "rows_loaded",
            "rows_quarantined",
            "checks_evaluated",
            "checks_failed",
            "reason",
        ]
    ],
    hide_index=True,
    width="stretch",
    column_config={
        "batch": "Batch month",
        "file_name": "File",
        "attempted": st.column_config.DatetimeColumn("Attempted (China time)", format="YYYY-MM-DD HH:mm:ss"),
        "status": "Status",
        "rows_received": st.column_config.NumberColumn("Rows received", format="localized"),
        "rows_loaded": st.column_config.NumberColumn("Rows loaded", format="localized"),
        "rows_quarantined": st.column_config.NumberColumn("Rows quarantined", format="localized"),
        "checks_evaluated": st.column_config.NumberColumn("Checks run"),
        "checks_failed": st.column_config.NumberColumn("Checks failed"),
        "reason": st.column_config.TextColumn("Why", width="large"),
    },
)

st.subheader("Quarantined rows per file and reason")
held = queries.quarantine_summary()
if held.empty:
    st.success("No row is held in quarantine.")
else:
    per_reason = held.groupby(["landing_table", "reason"], as_index=False).rows_quarantined.sum()
    quarantine_columns = {
        "batch_month": st.column_config.DateColumn("Batch month", format="YYYY-MM"),
        "landing_table": "File",
        "reason": st.column_config.TextColumn("Why", width="large"),
        "rows_quarantined": st.column_config.NumberColumn("Rows", format="localized"),
    }
    st.dataframe(
        per_reason.sort_values("rows_quarantined", ascending=False),
        hide_index=True,
        width="stretch",
        column_config=quarantine_columns,
    )
    with st.expander("Per batch month"):
        st.dataframe(held, hide_index=True, width="stretch", column_config=quarantine_columns)

st.subheader("Validation reports")
st.markdown(
    f"The landing gate writes an HTML report for every load attempt, rejected ones included (every expectation, "
    f"failing rows with personal values masked): open `{publication.validation_reports_dir}/index.html` for the "
    "list of attempts, newest first. They stay on the warehouse's machine; this dashboard does not serve them."
)

page_footer()
