"""What every page shows first: its title and which published snapshot the numbers come from."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards import reader
from foundation.months import BUSINESS_TIMEZONE
from foundation.published_sql import NotPublished


def page_header(title: str, what: str, needs_build: bool = True) -> reader.Publication:
    """Title, one line on what the page answers, and "data as of" (China time); a failed latest run
    said on every page; stops the page if nothing is published (or, with `needs_build`, no build)."""
    st.title(title)
    st.caption(what)
    try:
        publication = reader.publication()
    except NotPublished as exc:
        st.info(str(exc))
        st.stop()
    if publication.last_failure:
        st.warning(
            f"The latest run failed ({china_time(publication.last_failure_at)}): {publication.last_failure}. "
            "The Data quality page shows its load attempts; the other figures are the last passing build's.",
            icon=":material/warning:",
        )
    if publication.published_at is None:
        if needs_build:
            st.info("No build has passed yet: the Data quality page shows the load attempts.")
            st.stop()
        return publication
    st.caption(
        f"Data as of **{publication.data_as_of or 'no reporting month yet'}** · published "
        f"{china_time(publication.published_at)} · run `{publication.run_id[:8]}`"
    )
    return publication


def china_time(at: pd.Timestamp) -> str:
    """An instant as the business reads it (R1): China time."""
    return f"{pd.Timestamp(at).tz_convert(BUSINESS_TIMEZONE):%Y-%m-%d %H:%M} China time"


FOOTER = "Figures from the published analytics snapshot: aggregates and keys only, no personal data (R15)."


def page_footer() -> None:
    """The last element of every page: browser tests wait for it to know the page has run."""
    st.divider()
    st.caption(FOOTER)
