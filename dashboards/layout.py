"""What every page shows first: its title and which published snapshot the numbers come from."""

from __future__ import annotations

import streamlit as st

from dashboards import reader
from foundation.published_sql import NotPublished


def page_header(title: str, what: str) -> reader.Publication:
    """Title, one line on what the page answers, and "data as of"; stops the page if nothing is published."""
    st.title(title)
    st.caption(what)
    try:
        publication = reader.publication()
    except NotPublished as exc:
        st.info(str(exc))
        st.stop()
    st.caption(
        f"Data as of **{publication.data_as_of or 'no reporting month yet'}** · published "
        f"{publication.published_at:%Y-%m-%d %H:%M %Z} · run `{publication.run_id[:8]}`"
    )
    return publication


FOOTER = "Figures from the published analytics snapshot: aggregates and keys only, no personal data (R15)."


def page_footer() -> None:
    """The last element of every page: browser tests wait for it to know the page has run."""
    st.divider()
    st.caption(FOOTER)
