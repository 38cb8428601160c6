"""A killed run leaves no dbt behind (orchestration/dbt_guard.py).

dagster-dbt starts dbt with its output on a pipe. Killed with SIGKILL, the run cannot stop it: a
dbt that is writing dies of the broken pipe, but one inside a long query holds the warehouse's
write lock until the query ends. The control shows that trap with plain dbt; the guard ends dbt
within a second of its parent."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from orchestration.dbt_project import DBT_GUARD
from orchestration.settings import DBT_PROJECT_DIR, WAREHOUSE_ENV

SLOW_QUERY = "select sum(hash(i)) from range(1000000000000) t(i)"  # silent for hours
PARENT = """
import subprocess, sys, time
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
print(child.pid, flush=True)
time.sleep(600)
"""


def lock_is_held(warehouse: Path) -> bool:
    """Whether some process has the warehouse open, read from /proc: probing with a connection
    of our own would race dbt's open (a read-only connect holds a lock dbt's write open fails on)."""
    target = str(warehouse.resolve())
    for fd in Path("/proc").glob("[0-9]*/fd/*"):
        try:
            if os.readlink(fd) == target:
                return True
        except OSError:
            pass
    return False


def wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.parametrize("guarded", [False, True], ids=["plain dbt (control)", "through the guard"])
def test_dbt_in_a_long_query_dies_with_the_process_that_started_it(tmp_path, guarded):
    warehouse = tmp_path / "w.duckdb"
    duckdb.connect(str(warehouse)).close()
    executable = DBT_GUARD if guarded else Path(sys.executable).parent / "dbt"
    dbt = [str(executable), "show", "--inline", SLOW_QUERY, "--profiles-dir", ".", "--target-path", str(tmp_path / "t")]
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, *dbt],
        cwd=DBT_PROJECT_DIR,
        env={**os.environ, WAREHOUSE_ENV: str(warehouse)},
        stdout=subprocess.PIPE,
        text=True,
    )
    child = int(parent.stdout.readline())
    try:
        assert wait_for(lambda: lock_is_held(warehouse), 120), "dbt never opened the warehouse"
        parent.kill()
        parent.wait()
        if guarded:
            assert wait_for(lambda: not lock_is_held(warehouse), 15), "dbt outlived its run"
        else:
            time.sleep(5)
            assert lock_is_held(warehouse)  # the trap: an orphan holds the write lock
    finally:
        for pid in (child, *_children(child)):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []
