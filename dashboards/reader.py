"""The dashboard's reading of the published analytics copy (its contract: foundation/published_copy.py;
its locked-down connection: foundation/published_sql.py), never the warehouse: the pages' small
aggregated frames, cached per publication.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from foundation.published_copy import PUBLICATION_TABLE, published_path
from foundation.published_sql import connect


def snapshot_version() -> tuple[int, int]:
    """Changes with every publication (the rename brings a new inode): part of every cache key."""
    try:
        stat = published_path().stat()
    except FileNotFoundError:
        return (0, 0)
    return (stat.st_ino, stat.st_mtime_ns)


@st.cache_data(ttl=600, max_entries=256, show_spinner=False)
def _frame(sql: str, params: tuple, version: tuple[int, int]) -> pd.DataFrame:
    with connect() as con:
        return con.execute(sql, list(params)).df()


def frame(sql: str, params: tuple = ()) -> pd.DataFrame:
    """A small aggregated result of one of the dashboard's own queries, cached per publication."""
    return _frame(sql, params, snapshot_version())


@dataclass(frozen=True)
class Publication:
    published_at: pd.Timestamp
    run_id: str
    data_as_of: str | None
    validation_reports_dir: str


def publication() -> Publication:
    row = frame(f"select * from {PUBLICATION_TABLE}").iloc[0]
    return Publication(row.published_at, row.run_id, row.data_as_of, row.validation_reports_dir)
