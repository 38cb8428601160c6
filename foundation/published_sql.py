"""Reading the published analytics copy with SQL: the locked-down read-only connection and the
analyst's bounded query, shared by the dashboard (its pages and SQL page) and the terminal
(`credit-reporting-warehouse sql`, `make sql`).

The connection is locked down when it opens: no file system (no read_csv, COPY, ATTACH or
extensions), configuration frozen, bounded memory and threads; the copy holds the analytics schema
only, so no personal data (R15). Each use opens its own short-lived connection: a held one would pin
the old copy after a new publication.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import duckdb

from foundation.published_copy import SCHEMA, published_path

if TYPE_CHECKING:
    import pandas as pd

# Applied together at open: external access off, then the configuration locked (order matters for SET).
READER_CONFIG = {
    "enable_external_access": False,
    "lock_configuration": True,
    "threads": 2,
    "memory_limit": "2GB",
}
SQL_TIMEOUT_ENV = "CRW_SQL_TIMEOUT_S"
SQL_MAX_ROWS = 10_000


# What an analyst can query, with the dbt descriptions the copy carries (the SQL page, the terminal's .tables).
TABLES_SQL = f"""select table_name as "table", comment as description from duckdb_tables()
                 where schema_name = '{SCHEMA}' order by 1"""
COLUMNS_SQL = f"""select table_name as "table", column_name as "column", lower(data_type) as type,
                         comment as description
                  from duckdb_columns() where schema_name = '{SCHEMA}' order by table_name, column_index"""


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


@dataclass(frozen=True)
class AdHocResult:
    frame: pd.DataFrame
    truncated: bool  # more than SQL_MAX_ROWS rows: only the first are kept
    seconds: float


def sql_timeout_s() -> float:
    return float(os.environ.get(SQL_TIMEOUT_ENV, 30))


def split_statements(script: str) -> list[str]:
    """The statements of a script, split by DuckDB's own parser (a `;` inside a string stays)."""
    try:
        return [s.query.strip() for s in duckdb.connect().extract_statements(script) if s.query.strip(" ;\n\t")]
    except duckdb.Error as exc:
        raise QueryFailed(str(exc)) from None


def run_adhoc(sql: str, timeout_s: float | None = None, max_rows: int = SQL_MAX_ROWS) -> AdHocResult:
    """An analyst's query: read-only, no files, stopped after `timeout_s`, at most `max_rows` rows kept."""
    import pandas as pd

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
