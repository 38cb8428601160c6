"""The dashboard: `streamlit run dashboards/app.py` (or `make dashboard`). It reads only the published
analytics copy, so it keeps serving while a pipeline run writes the warehouse."""

from pathlib import Path

import streamlit as st

VIEWS = Path(__file__).parent / "views"  # not "pages/": that name turns on Streamlit's older page discovery

st.set_page_config(page_title="Credit reporting rollout", page_icon=":material/insights:", layout="wide")
st.navigation(
    [
        st.Page(VIEWS / "overview.py", title="Overview", icon=":material/insights:", default=True),
        st.Page(VIEWS / "cohorts.py", title="Coverage by cohort", icon=":material/groups:", url_path="cohorts"),
        st.Page(VIEWS / "waves.py", title="Invitation waves", icon=":material/campaign:", url_path="waves"),
        st.Page(
            VIEWS / "reporting.py", title="Reporting months", icon=":material/calendar_month:", url_path="reporting"
        ),
        st.Page(VIEWS / "submissions.py", title="Submissions", icon=":material/outbox:", url_path="submissions"),
        st.Page(VIEWS / "compliance.py", title="Compliance", icon=":material/policy:", url_path="compliance"),
        st.Page(VIEWS / "data_quality.py", title="Data quality", icon=":material/verified:", url_path="data-quality"),
        st.Page(VIEWS / "sql.py", title="SQL", icon=":material/terminal:", url_path="sql"),
    ]
).run()
