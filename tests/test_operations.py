"""Unattended operation, each result compared table by table with one full build of the same batches:
the monthly job month by month, a late batch, a resent batch, a re-run, runs killed with SIGKILL."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import duckdb
import pytest
from conftest import SMALL_MONTHS as MONTHS
from conftest import dbt_build, differing_rows, failure_message, load_all, mark_kept_month, monthly_run, query
from landing_builder import edit_csv

from ingestion.load_report import reports
from orchestration import settings


def stamped_months(warehouse: Path) -> list[str]:
    rows = query(
        warehouse,
        "select distinct strftime(report_month, '%Y-%m') from marts.credit_report_monthly "
        "where amount_paid < 0 order by 1",
    )
    return [month for (month,) in rows]


def identical(warehouse: Path, reference: Path) -> None:
    differing = differing_rows(reference, warehouse)
    assert len(differing) >= 10 and not any(differing.values()), differing


@pytest.fixture
def full_build(small_warehouse) -> Path:
    warehouse, build = small_warehouse
    assert build.success, failure_message(build)
    return warehouse


@pytest.fixture(scope="session")
def four_months(instance, small_landing, tmp_path_factory) -> Path:
    """The first four batches, each by a monthly run. Read-only: copy to change."""
    warehouse = tmp_path_factory.mktemp("four-months") / "w.duckdb"
    for month in MONTHS[:4]:
        monthly_run(instance, warehouse, small_landing, month)
    return warehouse


@pytest.fixture(scope="session")
def seven_months(instance, small_landing, four_months, tmp_path_factory) -> Path:
    """Four months and the next three, each by a monthly run. Read-only: copy to change."""
    warehouse = tmp_path_factory.mktemp("seven-months") / "w.duckdb"
    copy_database(four_months, warehouse)
    for month in MONTHS[4:-1]:
        monthly_run(instance, warehouse, small_landing, month)
    return warehouse


@pytest.fixture(scope="session")
def eight_months(instance, small_landing, seven_months, tmp_path_factory) -> Path:
    """Seven months and the eighth by a monthly run. Read-only: copy to change."""
    warehouse = tmp_path_factory.mktemp("eight-months") / "w.duckdb"
    copy_database(seven_months, warehouse)
    monthly_run(instance, warehouse, small_landing, MONTHS[-1])
    return warehouse


def copy_database(source: Path, target: Path) -> None:
    con = duckdb.connect()
    try:
        con.execute(f"attach '{source}' as source (read_only)")
        con.execute(f"attach '{target}' as target")
        con.execute("copy from database source to target")
    finally:
        con.close()


def test_month_by_month_runs_rebuild_only_the_new_month_and_equal_a_full_build(
    instance, small_landing, seven_months, full_build, tmp_path
):
    warehouse = tmp_path / "w.duckdb"
    copy_database(seven_months, warehouse)
    mark_kept_month(warehouse, MONTHS[-2])
    run = monthly_run(instance, warehouse, small_landing, MONTHS[-1])
    assert stamped_months(warehouse) == [MONTHS[-2]], "the new month's run rebuilt an earlier month"
    mark_kept_month(warehouse, MONTHS[-2])
    identical(warehouse, full_build)
    assert query(warehouse, "select count(*) from audit.months_to_rebuild") == [(0,)]
    summary = run.asset_materializations_for_node("published__analytics")[0].metadata
    records = query(
        full_build,
        "select count(*) from marts.credit_report_monthly where report_month = ?::date",
        [MONTHS[-1] + "-01"],
    )
    assert summary["records_reported_latest_month"].value == records[0][0] > 0
    assert 0 < summary["account_coverage_latest_month"].value <= 1
    assert summary["rows_marts"].value == sum(
        query(full_build, f'select count(*) from marts."{name}"')[0][0]
        for (name,) in query(full_build, "select table_name from duckdb_tables() where schema_name = 'marts'")
    )


def test_a_late_batch_rebuilds_its_month_and_every_later_one(
    instance, small_landing, four_months, full_build, tmp_path
):
    """Batches after a missing one load, but their build fails its relationship tests (their accounts
    opened in the missing month): nothing is published and their months stay queued. The late batch
    then rebuilds from its own month on."""
    warehouse, late = tmp_path / "w.duckdb", "2024-05"
    copy_database(four_months, warehouse)  # the months before the late one
    for month in MONTHS[MONTHS.index(late) + 1 :]:
        failed = monthly_run(instance, warehouse, small_landing, month, succeeds=False)
        assert "relationships" in failure_message(failed)
    assert query(warehouse, "select min(rebuild_from) from audit.months_to_rebuild") == [(date(2024, 6, 1),)]
    mark_kept_month(warehouse, "2024-04")
    monthly_run(instance, warehouse, small_landing, late)
    assert stamped_months(warehouse) == ["2024-04"]
    mark_kept_month(warehouse, "2024-04")
    identical(warehouse, full_build)


def test_a_batch_correcting_an_old_payment_rebuilds_from_the_payment_s_old_month(
    instance, landing, eight_months, tmp_path
):
    """An event id seen again in a later batch is a correction: the months from its old date on change."""
    warehouse = tmp_path / "w.duckdb"
    copy_database(eight_months, warehouse)
    repayment_id, account_id, amount = query(
        warehouse,
        "select repayment_id, account_id, amount from raw.repayments where _batch_month = '2024-03-01' "
        "order by paid_at desc limit 1",
    )[0]
    # the 2024-08 batch is resent with the March payment corrected: paid in August, one yuan
    edit_csv(
        landing,
        "2024-08",
        "repayments.csv",
        lambda rows: [*rows, [repayment_id, account_id, "2024-08-02T10:00:00+08:00", "1.00"]],
    )
    mark_kept_month(warehouse, "2024-02")
    monthly_run(instance, warehouse, landing, "2024-08")
    assert stamped_months(warehouse) == ["2024-02"]  # March on rebuilt, not only August
    mark_kept_month(warehouse, "2024-02")
    reference = tmp_path / "reference.duckdb"
    load_all(instance, reference, landing)
    assert dbt_build(instance, reference).success
    identical(warehouse, reference)


def newest_dbt_log() -> str:
    runs = settings.dbt_target_dir().glob("warehouse_models-*")
    return (max(runs, key=lambda folder: folder.stat().st_mtime) / "dbt.log").read_text()


def test_rerunning_a_month_changes_nothing_and_the_next_run_parses_only_what_changed(
    instance, small_landing, eight_months, tmp_path
):
    warehouse = tmp_path / "w.duckdb"
    copy_database(eight_months, warehouse)
    monthly_run(instance, warehouse, small_landing, "2024-04")  # rebuilds April on
    identical(warehouse, eight_months)
    full_parse = "Unable to do partial parsing"
    assert full_parse in newest_dbt_log()  # a new warehouse path: a new profile for dbt
    monthly_run(instance, warehouse, small_landing, "2024-08")  # the same warehouse, another window
    log = newest_dbt_log()
    assert re.search(r"Found \d+ models", log) and full_parse not in log


def _session_processes(session: int) -> list[str]:
    """Command lines of the live processes of a session (the CLI and its dbt subprocess)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[3]) == session:  # field 6 of stat, the session id
                found.append((stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except (OSError, IndexError, ValueError):
            continue  # the process ended while being read
    return found


def _wait_for(condition, what: str, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


@pytest.mark.parametrize("moment", ["loading", "dbt"])
def test_a_backfill_killed_mid_way_then_run_again_ends_as_an_uninterrupted_one(
    moment, small_landing, full_build, tmp_path
):
    warehouse = tmp_path / "w.duckdb"
    env = {
        **os.environ,
        settings.LANDING_ENV: str(small_landing),
        settings.WAREHOUSE_ENV: str(warehouse),
        settings.PUBLISHED_ENV: str(tmp_path / "published" / "analytics_snapshot.duckdb"),
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
    }
    command = [sys.executable, "-m", "orchestration.cli", "backfill", "--from", MONTHS[0], "--to", MONTHS[-1]]
    run = subprocess.Popen(
        command, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        if moment == "loading":  # three batches in, the fourth being loaded
            folder = settings.validation_reports_dir(warehouse)
            _wait_for(lambda: len(reports(folder)) >= 3, "three batches loaded")
        else:  # dbt writing the models
            _wait_for(lambda: any("dbt" in p and " build" in p for p in _session_processes(run.pid)), "dbt build")
            time.sleep(3)
        assert run.poll() is None, "the run ended before it could be killed"
        os.killpg(run.pid, signal.SIGKILL)  # the CLI, Dagster and dbt at once, as a crash would
        run.wait(timeout=30)
        _wait_for(lambda: not _session_processes(run.pid), "the killed processes to go")
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
    assert run.returncode == -signal.SIGKILL
    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
    assert again.returncode == 0, again.stdout + again.stderr
    identical(warehouse, full_build)
    assert query(warehouse, "select count(*) from audit.months_to_rebuild") == [(0,)]
