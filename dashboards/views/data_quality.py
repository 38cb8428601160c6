"""Data quality: the latest load attempts, what the landing gate held back and why."""

import streamlit as st

from dashboards import queries
from dashboards.formatting import count
from dashboards.layout import page_footer, page_header

publication = page_header(
    "Data quality",
    "Every load attempt of every landing file (audit.load_batches) and the rows the landing gate quarantined, "
    "per file and reason. Rejected batches loaded nothing; quarantined rows wait for the source to resend them.",
)
loads = queries.load_batches()
if loads.empty:
    st.info("No batch has been loaded yet.")
    st.stop()
loads["batch"] = loads.batch_month.dt.strftime("%Y-%m")
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
            "loaded_at",
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
)

st.subheader("Quarantined rows per file and reason")
held = queries.quarantine_summary()
if held.empty:
    st.success("No row is held in quarantine.")
else:
    per_reason = held.groupby(["landing_table", "reason"], as_index=False).rows_quarantined.sum()
    st.dataframe(per_reason.sort_values("rows_quarantined", ascending=False), hide_index=True, width="stretch")
    with st.expander("Per batch month"):
        st.dataframe(held.assign(batch_month=held.batch_month.dt.strftime("%Y-%m")), hide_index=True, width="stretch")

st.subheader("Validation reports")
st.markdown(
    f"The landing gate writes one HTML report per batch month (every expectation, failing examples) to "
    f"`{publication.validation_reports_dir}`, e.g. `{loads.batch.max()}.html`. They quote failing values, "
    "which may be personal data (R15), so the data team opens them there; this dashboard does not serve them."
)

page_footer()
