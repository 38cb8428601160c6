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
    published_at: pd.Timestamp | None  # of the last passing build; None when none has passed yet
    run_id: str | None
    data_as_of: str | None
    validation_reports_dir: str
    last_failure: str | None  # the latest run failed: only the load audit is newer than the build
    last_failure_at: pd.Timestamp | None


def publication() -> Publication:
    row = frame(f"select * from {PUBLICATION_TABLE}").iloc[0]

    def value(name: str):  # a copy published before the failure columns has none
        return None if name not in row or pd.isna(row[name]) else row[name]

    return Publication(
        value("published_at"),
        value("run_id"),
        value("data_as_of"),
        row.validation_reports_dir,
        value("last_failure"),
        value("last_failure_at"),
    )
