"""Submissions: the files sent to the bureau, their records per occasion code, what is held back,
what the bureau's feedback refused and which months are not submitted yet. Counts from the ledger's
analytics views only (R15)."""

import streamlit as st

from bureau.records import RULE_TITLES
from dashboards import charts, queries, tables
from dashboards.formatting import count
from dashboards.layout import page_footer, page_header

OCCASIONS = {  # column -> label (R19)
    "records_10_opened": "10 opened",
    "records_31_first_report": "31 first report, already open",
    "records_30_monthly": "30 regular",
    "records_32_closed": "32 closed",
}

page_header(
    "Submissions",
    "The 210 files written for the bureau (audit.bureau_files), their records per reporting-occasion code, "
    "the records the checks before sending (S1-S6) hold back, the records the bureau's feedback refused per "
    "code, and the built months not submitted yet.",
)
months = queries.submission_months()
if months.empty:
    st.info("No reporting month is built yet.")
    st.stop()
files = queries.submission_files()
holds = queries.submission_holds()
refusals = queries.submission_refusals()
waiting = months[~months.submitted]

reports = files[files.record_type == "210"]
corrections = files[files.record_type != "210"]
cols = st.columns(5)
cols[0].metric("Files written", count(len(files)))
cols[1].metric("Records sent", count(reports.records.sum()), help="In 210 files, corrections' re-sends included")
cols[2].metric("Corrections", count(corrections.records.sum()), help="Lines of 212, 213 and 214 files")
cols[3].metric("Records held back", count(holds.records_held.sum()), help="By the checks S1-S6, as of the last run")
cols[4].metric(
    "Months not submitted",
    count(len(waiting)),
    help="Built months whose submission has not run: "
    + (", ".join(waiting.month.dt.strftime("%Y-%m")) if len(waiting) else "none"),
)

if len(waiting):
    st.warning("Not submitted yet: " + ", ".join(waiting.month.dt.strftime("%Y-%m")) + " (`submit --all`).")

if files.empty:
    st.info("No file has been written yet: `credit-reporting-warehouse submit --all`.")
else:
    st.subheader("Records per file month, by reporting-occasion code")
    per_code = reports.melt(id_vars=["month"], value_vars=list(OCCASIONS), var_name="code", value_name="sent")
    per_code["occasion"] = per_code.code.map(OCCASIONS)
    st.altair_chart(
        charts.stacked_bars(per_code, "month", "sent", "occasion", "Records", color_sort=list(OCCASIONS.values())),
        width="stretch",
    )
    st.subheader("Files")
    tables.show(
        files.assign(generated_at=tables.china_time(files.generated_at))[
            ["month", "file_name", "record_type", "generated_at", "report_months", "records", *OCCASIONS]
        ],
        **{column: tables.Column.NumberColumn(label, format="localized") for column, label in OCCASIONS.items()},
    )

st.subheader("Records held back per rule")
if holds.empty:
    st.success("No record is held back.")
else:
    holds["check"] = holds.rule.map(RULE_TITLES).fillna(holds.rule)
    per_rule = holds.groupby("check", as_index=False)[["records_held", "accounts_held"]].sum()
    tables.show(per_rule)
    with st.expander("Per reporting month"):
        tables.show(holds[["month", "check", "records_held", "accounts_held"]])

st.subheader("Records refused by the bureau per code")
if refusals.empty:
    st.success("The bureau's feedback refused no record.")
else:
    per_code = refusals.groupby("code", as_index=False)[["records_refused", "accounts_refused"]].sum()
    tables.show(per_code)
    with st.expander("Per file"):
        tables.show(refusals)

st.subheader("Reporting months")
tables.show(
    months.assign(
        submitted_at=tables.china_time(months.submitted_at),
        waiting=months.records_not_sent - months.records_held,
    )[["month", "submitted", "submitted_at", "records_in_mart", "records_sent", "records_held", "waiting", "files"]]
)

page_footer()
