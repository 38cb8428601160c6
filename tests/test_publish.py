"""The published analytics copy: exactly the analytics surface, swapped in atomically, only after a
dbt build that passed, and readable while a writer holds the warehouse."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from conftest import publish, query
from dagster import materialize

from orchestration import settings
from orchestration.analytics_copy import LEDGER_RELATIONS, publish_analytics, refresh_after_submission
from orchestration.assets.dbt import warehouse_models
from orchestration.assets.published import published_analytics
from orchestration.dbt_project import dbt_resource
from orchestration.resources import Warehouse


def published_tables(path: Path) -> dict[str, int]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        names = con.execute(
            "select table_schema || '.' || table_name from information_schema.tables order by 1"
        ).fetchall()
        return {n: con.execute(f"select count(*) from {n}").fetchone()[0] for (n,) in names}
    finally:
        con.close()


def run_id(path: Path) -> str:
    return query(path, "select run_id from analytics.publication")[0][0]


def test_the_copy_holds_the_analytics_surface_and_nothing_else(instance, small_warehouse, tmp_path):
    warehouse, build = small_warehouse
    target = tmp_path / "analytics_snapshot.duckdb"
    result = publish(instance, warehouse, target)
    assert result.success
    analytics = {
        f"analytics.{name}": query(warehouse, f"select count(*) from analytics.{name}")[0][0]
        for (name,) in query(
            warehouse, "select table_name from information_schema.tables where table_schema = 'analytics'"
        )
    }
    assert {"analytics.rollout_coverage", "analytics.quarantine_summary", "analytics.load_batches"} <= set(analytics)
    assert published_tables(target) == {**analytics, "analytics.publication": 1}
    months = query(warehouse, "select strftime(max(month), '%Y-%m') from marts.fct_rollout_coverage")[0][0]
    assert query(target, "select data_as_of from analytics.publication")[0][0] == months
    (materialization,) = result.asset_materializations_for_node("published__analytics")
    assert materialization.metadata["path"].value == str(target)
    # the copy is the content, not a snapshot of the definitions: equal row for row
    copy = duckdb.connect(str(target), read_only=True)
    try:
        copy.execute(f"attach '{warehouse}' as warehouse (read_only)")
        for table in ("rollout_coverage", "reporting_summary", "rollout_wave_funnel"):
            differing = copy.execute(
                f"select count(*) from ((select * from analytics.{table} except all"
                f" select * from warehouse.analytics.{table}) union all (select * from warehouse.analytics.{table}"
                f" except all select * from analytics.{table}))"
            ).fetchone()[0]
            assert differing == 0, table
    finally:
        copy.close()


def test_a_new_copy_replaces_the_old_atomically_and_open_readers_finish_on_the_old(small_warehouse, tmp_path):
    warehouse, _ = small_warehouse
    target = tmp_path / "analytics_snapshot.duckdb"
    publish_analytics(warehouse, target, "first")
    reader = duckdb.connect(str(target), read_only=True)
    try:
        publish_analytics(warehouse, target, "second")
        assert reader.execute("select run_id from analytics.publication").fetchone()[0] == "first"
        assert reader.execute("select count(*) from analytics.rollout_coverage").fetchone()[0] > 0
    finally:
        reader.close()
    assert run_id(target) == "second"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["analytics_snapshot.duckdb"]


def test_a_failed_publication_keeps_the_last_good_copy(small_warehouse, tmp_path):
    warehouse, _ = small_warehouse
    target = tmp_path / "analytics_snapshot.duckdb"
    publish_analytics(warehouse, target, "good")
    with pytest.raises(duckdb.Error):
        publish_analytics(tmp_path / "no-such-warehouse.duckdb", target, "bad")
    assert run_id(target) == "good"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["analytics_snapshot.duckdb"]


def _count_in_another_process(path: Path) -> subprocess.CompletedProcess:
    code = (
        "import duckdb, sys; con = duckdb.connect(sys.argv[1], read_only=True);"
        " print(con.execute('select count(*) from analytics.rollout_coverage').fetchone()[0])"
    )
    return subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=120)


def test_the_copy_is_readable_while_a_writer_holds_the_warehouse(small_warehouse, tmp_path):
    warehouse, _ = small_warehouse
    live = Path(shutil.copy(warehouse, tmp_path / "live.duckdb"))
    target = tmp_path / "analytics_snapshot.duckdb"
    publish_analytics(live, target, "r1")
    writer = duckdb.connect(str(live))  # the pipeline's single writer
    try:
        blocked = _count_in_another_process(live)
        assert blocked.returncode != 0 and "lock" in blocked.stderr
        served = _count_in_another_process(target)
        assert served.returncode == 0 and int(served.stdout) > 0, served.stderr
    finally:
        writer.close()


def test_the_build_job_publishes_only_after_the_dbt_build_passed(instance, small_warehouse, tmp_path, monkeypatch):
    warehouse, _ = small_warehouse
    broken = Path(shutil.copy(warehouse, tmp_path / "broken.duckdb"))
    con = duckdb.connect(str(broken))
    con.execute("update raw.customers set id_number = null")  # every record without identity number: blocking
    con.close()
    target = tmp_path / "analytics_snapshot.duckdb"
    monkeypatch.setenv(settings.PUBLISHED_ENV, str(target))
    monkeypatch.setenv(settings.WAREHOUSE_ENV, str(broken))
    result = materialize(
        [warehouse_models, published_analytics],
        resources={
            "dbt": dbt_resource(),
            "warehouse": Warehouse(database_path=str(broken), landing_dir=str(tmp_path)),
        },
        instance=instance,
        raise_on_error=False,
    )
    assert not result.success
    failed = {e.check_name for e in result.get_asset_check_evaluations() if not e.passed}
    assert "not_null_credit_report_monthly_id_number" in failed
    assert not result.asset_materializations_for_node("published__analytics")
    assert not target.exists()


def test_after_a_submission_only_the_ledger_relations_are_published_again(small_warehouse, tmp_path):
    warehouse = tmp_path / "w.duckdb"
    shutil.copy(small_warehouse[0], warehouse)
    target = tmp_path / "published" / "analytics_snapshot.duckdb"
    publish_analytics(warehouse, target, "build-run")
    before = published_tables(target)
    with duckdb.connect(str(warehouse)) as con:  # the ledger changes; so, here, does a mart
        con.execute(
            "insert into audit.submission_holds values ('2024-03-01', 'A1', 'S5', 'TotOverd 2 > AcctBal 1', now())"
        )
        con.execute("delete from marts.fct_rollout_coverage")
    refresh_after_submission(warehouse, target, "submission-run")
    after = published_tables(target)
    assert after["analytics.submission_holds"] == before["analytics.submission_holds"] + 1
    assert after["analytics.compliance_holds"] == before["analytics.compliance_holds"] + 1
    assert after["analytics.rollout_coverage"] == before["analytics.rollout_coverage"] > 0  # kept from the copy
    assert set(after) == set(before) and run_id(target) == "submission-run"


def test_the_ledger_relations_are_every_analytics_model_over_the_ledger():
    reading = {
        path.stem.removeprefix("analytics__")
        for path in (settings.DBT_PROJECT_DIR / "models" / "analytics").glob("*.sql")
        if re.search(r"source\('audit', '(bureau_\w+|submission_holds|submitted_months)'\)", path.read_text())
    }
    assert reading == set(LEDGER_RELATIONS)


def _failure_sensor_on(instance, result) -> None:
    """The real run-failure sensor, evaluated on the failed run `result` as the daemon would."""
    from dagster import DagsterEventType, build_run_status_sensor_context

    from orchestration.automation import publish_after_failed_run
    from orchestration.definitions import defs

    run = instance.get_run_by_id(result.run_id)
    (failure,) = [
        e.dagster_event
        for e in instance.all_logs(run.run_id)
        if e.dagster_event and e.dagster_event.event_type == DagsterEventType.RUN_FAILURE
    ]
    context = build_run_status_sensor_context(
        "publish_after_failed_run", failure, instance, run, repository_def=defs.get_repository_def()
    ).for_run_failure()
    publish_after_failed_run(context)


def test_a_rejected_batch_is_on_the_data_quality_page_after_its_run_failed(
    instance, small_published, small_landing, tmp_path, monkeypatch
):
    """A resent batch is rejected and its run fails: the failure sensor publishes the load audit anyway,
    marked; the Data quality page shows the rejected attempt and why, every page says the latest run
    failed, and the marts stay the last passing build's."""
    from conftest import monthly_run
    from streamlit.testing.v1 import AppTest

    from ingestion.load_report import reports

    warehouse, published = small_published
    copy, target = tmp_path / "w.duckdb", tmp_path / "published" / "analytics_snapshot.duckdb"
    shutil.copy(warehouse, copy)
    target.parent.mkdir()
    shutil.copy(published, target)
    landing = Path(shutil.copytree(small_landing, tmp_path / "landing"))
    bills = landing / "2024-08" / "bills.csv"
    bills.write_bytes(bills.read_bytes()[:-150])  # resent, truncated in transit
    monkeypatch.setenv(settings.WAREHOUSE_ENV, str(copy))
    monkeypatch.setenv(settings.PUBLISHED_ENV, str(target))
    result = monthly_run(instance, copy, landing, "2024-08", succeeds=False)
    before = query(target, "select published_at, run_id, data_as_of from analytics.publication")

    _failure_sensor_on(instance, result)

    (failure, build) = query(
        target, "select last_failure, (published_at, run_id, data_as_of) from analytics.publication"
    )[0]
    assert "batch 2024-08 rejected (bills.csv): sha256 differs from the manifest" in failure
    assert [build] == [tuple(row) for row in before]  # the marts are still the last passing build's
    rejected = query(target, "select count(*) from analytics.load_batches where status = 'REJECTED'")[0][0]
    assert rejected == 7  # one audit row per file of the rejected sending
    assert [r.status for r in reports(settings.validation_reports_dir(copy))][0] == "REJECTED"

    views = Path(__file__).resolve().parent.parent / "dashboards" / "views"
    page = AppTest.from_file(str(views / "data_quality.py"), default_timeout=60).run()
    assert not page.exception
    assert "The latest run failed" in page.warning[0].value and "sha256 differs" in page.warning[0].value
    attempts = page.dataframe[0].value
    assert attempts.status.iloc[0] == "REJECTED" and "sha256 differs" in " ".join(attempts.reason.dropna())
    overview = AppTest.from_file(str(views / "overview.py"), default_timeout=60).run()
    assert not overview.exception and "The latest run failed" in overview.warning[0].value


def test_with_no_passing_build_yet_only_the_data_quality_page_has_figures(small_warehouse, tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from orchestration.analytics_copy import LOAD_AUDIT_RELATIONS, publish_after_failure

    warehouse, _ = small_warehouse
    target = tmp_path / "published" / "analytics_snapshot.duckdb"
    assert publish_after_failure(warehouse, target, "failed-run", "dbt build failed: a blocking test") is not None
    assert set(published_tables(target)) == {f"analytics.{t}" for t in (*LOAD_AUDIT_RELATIONS, "publication")}
    assert query(target, "select published_at, last_failure from analytics.publication") == [
        (None, "dbt build failed: a blocking test")
    ]
    monkeypatch.setenv(settings.PUBLISHED_ENV, str(target))
    views = Path(__file__).resolve().parent.parent / "dashboards" / "views"
    overview = AppTest.from_file(str(views / "overview.py"), default_timeout=60).run()
    assert not overview.exception and overview.info[0].value.startswith("No build has passed yet")
    quality = AppTest.from_file(str(views / "data_quality.py"), default_timeout=60).run()
    assert not quality.exception and len(quality.dataframe[0].value) > 0
