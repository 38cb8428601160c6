"""Data quality: the latest load attempts, what the landing gate held back and why; published after
a failed run too, so this page says why when the others still show the last passing build."""

import streamlit as st

from dashboards import queries, tables
from dashboards.formatting import count
from dashboards.layout import page_footer, page_header

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
loads["attempted"] = tables.china_time(loads.loaded_at)
batches = queries.batch_states()  # a refused resend leaves the sending before it in raw
cols = st.columns(4)
cols[0].metric("Batch months loaded", count(batches.status.notna().sum()))
cols[1].metric("Rows loaded", count(batches.rows_loaded.sum()))
cols[2].metric("Rows quarantined", count(batches.rows_quarantined.sum()))
cols[3].metric("Sendings refused (latest)", count(batches.refused_at.notna().sum()))

st.subheader("Latest load attempts")
shown = st.slider("Attempts shown", 7, max(7, len(loads)), min(35, max(7, len(loads))), step=7, key="attempts")
tables.show(
    loads.head(shown)[
        [
            "batch_month",
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
    ]
)

st.subheader("Quarantined rows per file and reason")
held = queries.quarantine_summary()
if held.empty:
    st.success("No row is held in quarantine.")
else:
    per_reason = held.groupby(["landing_table", "reason"], as_index=False).rows_quarantined.sum()
    tables.show(per_reason.sort_values("rows_quarantined", ascending=False))
    with st.expander("Per batch month"):
        tables.show(held)

st.subheader("Validation reports")
st.markdown(
    f"The landing gate writes an HTML report for every load attempt, rejected ones included (every expectation, "
    f"failing rows with personal values masked): open `{publication.validation_reports_dir}/index.html` for the "
    "list of attempts, newest first. They stay on the warehouse's machine; this dashboard does not serve them."
)

page_footer()
