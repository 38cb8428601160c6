"""Reading the published analytics copy (its contract: foundation/published_copy.py), never the warehouse.

Every query opens its own short-lived read-only connection: DuckDB connections are not thread-safe
and a cached one would pin the old copy after a new publication. The connection is locked down
when it opens: no file system (no read_csv, COPY, ATTACH or extensions), configuration frozen,
bounded memory and threads; the copy holds the analytics schema only, so no personal data (R15).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import duckdb
import pandas as pd
import streamlit as st

from foundation.published_copy import PUBLICATION_TABLE, SCHEMA, published_path

# Applied together at open: external access off, then the configuration locked (order matters for SET).
READER_CONFIG = {
    "enable_external_access": False,
    "lock_configuration": True,
    "threads": 2,
    "memory_limit": "2GB",
}
SQL_TIMEOUT_ENV = "CRW_SQL_TIMEOUT_S"
SQL_MAX_ROWS = 10_000


class NotPublished(Exception):
    """No analytics copy has been published yet."""


class QueryFailed(Exception):
    """An ad-hoc query the database refused or that ran out of time; the message is for the user."""


@contextmanager
def connect() -> Iterator[duckdb.DuckDBPyConnection]:
    path = published_path()
    if not path.is_file():
        raise NotPublished(
            f"No analytics copy at {path} yet: run the pipeline (`make run`) and it is published after the "
            "dbt build passes its tests."
        )
    con = duckdb.connect(str(path), read_only=True, config=READER_CONFIG)
    try:
        con.execute(f"set search_path = '{SCHEMA}'")
        yield con
    finally:
        con.close()


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


@dataclass(frozen=True)
class AdHocResult:
    frame: pd.DataFrame
    truncated: bool  # more than SQL_MAX_ROWS rows: only the first are kept
    seconds: float


def sql_timeout_s() -> float:
    return float(os.environ.get(SQL_TIMEOUT_ENV, 30))


def run_adhoc(sql: str, timeout_s: float | None = None, max_rows: int = SQL_MAX_ROWS) -> AdHocResult:
    """An analyst's query: read-only, no files, stopped after `timeout_s`, at most `max_rows` rows kept."""
    if not sql.strip():
        raise QueryFailed("Write a query first.")
    timeout_s = sql_timeout_s() if timeout_s is None else timeout_s
    started = time.perf_counter()
    with connect() as con:
        timer = threading.Timer(timeout_s, con.interrupt)  # DuckDB has no statement timeout
        timer.start()
        try:
            con.execute(sql)
            if con.description is None:
                return AdHocResult(pd.DataFrame(), False, time.perf_counter() - started)
            columns = [d[0] for d in con.description]
            rows = con.fetchmany(max_rows + 1)
        except duckdb.InterruptException:
            raise QueryFailed(f"Stopped after {timeout_s:g} s: narrow the query or aggregate first.") from None
        except duckdb.Error as exc:
            raise QueryFailed(str(exc)) from None
        finally:
            timer.cancel()
    result = pd.DataFrame(rows[:max_rows], columns=columns)
    return AdHocResult(result, len(rows) > max_rows, time.perf_counter() - started)
