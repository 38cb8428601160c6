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
    con.execute("update raw.account_snapshots set credit_limit = null")  # every record without its limit: blocking
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
    assert "not_null_credit_report_monthly_credit_limit" in failed
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
