"""Ad-hoc SQL over the published analytics copy: read-only, no files, bounded in time and rows."""

import streamlit as st

from dashboards import queries
from dashboards.layout import page_footer, page_header
from foundation import published_sql

EXAMPLE = """select month, product,
       sum(reported_accounts) / sum(active_accounts) as account_coverage
from rollout_coverage
group by all
order by month, product"""

page_header(
    "SQL",
    "Query the analytics tables (no personal data). Read-only: writes and file access are refused; "
    f"queries stop after {published_sql.sql_timeout_s():g} s and at most {published_sql.SQL_MAX_ROWS:,} rows are kept.",
)
with st.expander("Tables you can query"):
    tables = queries.queryable_tables()
    st.dataframe(tables, hide_index=True, width="stretch")
    table = st.selectbox("Columns of", tables.table, key="columns-of")
    columns = queries.queryable_columns()
    st.dataframe(columns[columns.table == table].drop(columns="table"), hide_index=True, width="stretch")

with st.form("query"):
    sql = st.text_area("SQL", EXAMPLE, height=160, key="sql")
    submitted = st.form_submit_button("Run")
if submitted:
    try:
        result = published_sql.run_adhoc(sql)
    except published_sql.QueryFailed as exc:
        st.error(str(exc))
    else:
        note = f" (first {published_sql.SQL_MAX_ROWS:,} shown)" if result.truncated else ""
        st.caption(f"{len(result.frame):,} rows{note} in {result.seconds:.2f} s")
        st.dataframe(result.frame, hide_index=True, width="stretch")
        st.download_button(
            "Download CSV", result.frame.to_csv(index=False).encode(), "query.csv", "text/csv", key="download"
        )

page_footer()
