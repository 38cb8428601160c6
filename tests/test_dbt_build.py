"""dbt builds green on generated data, both under Dagster and on its own."""

from __future__ import annotations

import json
import os
import shutil
import time

import duckdb
from conftest import dbt_build, dbt_cli, failure_message, query

from foundation.months import current_month, shift_month
from ingestion import rebuild
from orchestration import settings
from orchestration.assets.dbt import KEPT_RUN_TARGETS, prune_run_targets
from orchestration.settings import dbt_target_dir


def test_dbt_build_under_dagster_is_green_with_every_check_passing(small_warehouse):
    _, result = small_warehouse
    assert result.success, failure_message(result)
    evaluations = result.get_asset_check_evaluations()
    assert len(evaluations) >= 20
    assert all(e.passed for e in evaluations), [e.check_name for e in evaluations if not e.passed]


def test_staging_keeps_the_latest_customer_version(small_warehouse):
    warehouse, _ = small_warehouse
    mismatches = query(
        warehouse,
        """
        with expected as (
            select customer_id, arg_max(sesame_score, (updated_at, _batch_month, _source_row)) as score
            from raw.customers group by 1)
        select count(*) from expected e
        full join staging.stg_landing__customers s using (customer_id)
        where e.score is distinct from s.sesame_score
        """,
    )
    assert mismatches == [(0,)]
    assert query(warehouse, "select count(*) from staging.stg_landing__customers") == [(600,)]


def test_customer_history_is_a_gapless_scd2(small_warehouse):
    warehouse, _ = small_warehouse
    gaps = query(
        warehouse,
        """
        select count(*) from intermediate.int_customer_history h
        where not is_current and not exists (
            select 1 from intermediate.int_customer_history n
            where n.customer_id = h.customer_id and n.valid_from = h.valid_to)
        """,
    )
    current = query(
        warehouse,
        "select count(*), count(distinct customer_id) from intermediate.int_customer_history where is_current",
    )
    assert gaps == [(0,)] and current == [(600, 600)]


def test_plain_dbt_build_works_without_dagster(small_warehouse, tmp_path):
    warehouse, _ = small_warehouse
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(warehouse.read_bytes())
    result = dbt_cli("build", warehouse=copy, target=tmp_path / "target")
    assert result.returncode == 0, result.stdout[-3000:]
    assert "ERROR=0" in result.stdout


def test_published_marts_are_documented_and_contract_enforced():
    manifest = json.loads((dbt_target_dir() / "manifest.json").read_text())
    marts = [n for n in manifest["nodes"].values() if n["resource_type"] == "model" and n["schema"] == "marts"]
    assert "credit_report_monthly" in {n["name"] for n in marts}
    for node in marts:
        assert node["config"]["contract"]["enforced"], node["name"]
        assert node["description"].strip(), node["name"]
        undocumented = [c for c, meta in node["columns"].items() if not meta["description"].strip()]
        assert not undocumented, (node["name"], undocumented)


def test_the_dbt_docs_site_builds(small_warehouse, tmp_path):
    warehouse, _ = small_warehouse
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(warehouse.read_bytes())
    target = tmp_path / "docs"
    result = dbt_cli("docs", "generate", warehouse=copy, target=target)
    assert result.returncode == 0, result.stdout[-3000:]
    catalog = json.loads((target / "catalog.json").read_text())
    assert "model.credit_reporting_warehouse.credit_report_monthly" in catalog["nodes"]
    assert (target / "index.html").stat().st_size > 10_000


def test_a_monthly_build_tests_the_rebuilt_months_and_the_loaded_batches_only(tmp_path):
    selection = [
        "test_type:generic,credit_report_monthly",
        "test_type:generic,source:raw.bills",
        "test_type:generic,stg_landing__account_snapshots",
        "test_type:generic,stg_landing__bills",
    ]
    result = dbt_cli(
        "compile",
        "--select",
        *selection,
        warehouse=tmp_path / "empty.duckdb",
        target=tmp_path / "target",
        env={rebuild.WINDOW_ENV: "2025-11-01"},  # how the monthly job passes its window
    )
    assert result.returncode == 0, result.stdout[-3000:]
    compiled = tmp_path / "target" / "compiled" / "credit_reporting_warehouse" / "models"
    monthly = list((compiled / "marts" / "credit_report_monthly.yml").glob("*.sql"))
    batches = [
        *(compiled / "staging" / "_landing__sources.yml").glob("*raw_bills*.sql"),
        *(compiled / "staging" / "stg_landing__account_snapshots.yml").glob("*.sql"),
        *(compiled / "staging" / "stg_landing__bills.yml").glob("*.sql"),  # kept as batches load
    ]
    assert len(monthly) >= 10 and len(batches) == 4
    assert all("report_month >= date '2025-11-01'" in sql.read_text() for sql in monthly)
    assert all("_batch_month >= date '2025-11-01'" in sql.read_text() for sql in batches)


def test_a_build_keeps_only_the_newest_run_target_folders(instance, small_warehouse, tmp_path):
    """dagster-dbt writes a target folder per run; the asset keeps the newest KEPT_RUN_TARGETS."""
    root = dbt_target_dir()
    stale = [root / f"warehouse_models-stale{i:02d}-0000000" for i in range(KEPT_RUN_TARGETS + 3)]
    for age, folder in enumerate(stale, start=1):
        folder.mkdir(parents=True, exist_ok=True)
        os.utime(folder, (time.time() - 86400 * age, time.time() - 86400 * age))
    warehouse = tmp_path / "w.duckdb"
    shutil.copy(small_warehouse[0], warehouse)
    result = dbt_build(instance, warehouse)
    assert result.success, failure_message(result)
    # another test process may be writing its own run folder here meanwhile: count none of its making
    (own,) = root.glob(f"warehouse_models-{result.run_id[:7]}-*")
    assert (own / "run_results.json").is_file()  # this run's own folder is kept
    assert not any(folder.exists() for folder in stale[KEPT_RUN_TARGETS - 1 :])  # the oldest went first
    kept = [path for path in root.glob("warehouse_models-*") if path.is_dir()]
    assert KEPT_RUN_TARGETS <= len(kept) <= KEPT_RUN_TARGETS + 1  # + a run of the other worker, at most


def test_pruning_keeps_the_newest_run_folders_and_the_latest(tmp_path):
    folders = [tmp_path / f"warehouse_models-r{i:02d}-0000000" for i in range(KEPT_RUN_TARGETS + 3)]
    for age, folder in enumerate(folders):
        folder.mkdir()
        os.utime(folder, (time.time() - 3600 * age, time.time() - 3600 * age))
    (tmp_path / "other_op-r99-0000000").mkdir()  # another op's folders are not this one's to prune
    prune_run_targets(folders[0])
    assert [f.exists() for f in folders] == [True] * KEPT_RUN_TARGETS + [False] * 3
    assert (tmp_path / "other_op-r99-0000000").is_dir()


def test_every_analytics_column_is_described_and_the_published_copy_carries_it(small_published):
    _, published = small_published
    undescribed = query(
        published,
        "select table_name || '.' || column_name from duckdb_columns()"
        " where schema_name = 'analytics' and coalesce(trim(comment), '') = ''",
    )
    assert undescribed == []
    assert (
        query(published, "select table_name from duckdb_tables() where schema_name = 'analytics' and comment is null")
        == []
    )
    tables = dict(query(published, "select table_name, comment from duckdb_tables() where schema_name = 'analytics'"))
    assert tables["rollout_coverage"].startswith("View of marts.fct_rollout_coverage")
    cumulative = query(
        published,
        "select column_name from duckdb_columns()"
        " where table_name = 'rollout_coverage' and comment like '%Cumulative%'",
    )
    assert {c for (c,) in cumulative} == {"invited_customers", "consented_customers", "opted_out_by_closing"}


def test_every_dashboard_page_is_an_exposure_and_every_analytics_view_has_a_reader():
    import re

    manifest = json.loads((dbt_target_dir() / "manifest.json").read_text())
    exposures = manifest["exposures"].values()
    pages = set(re.findall(r'url_path="([a-z-]+)"', (settings.PROJECT_ROOT / "dashboards" / "app.py").read_text()))
    paths = {e["url"].rsplit("/", 1)[1] for e in exposures}
    assert paths == (pages - {"sql"}) | {""}  # the Overview is the root; the SQL page reads whatever is asked
    analytics = {
        n["unique_id"]
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model" and n["schema"] == "analytics"
    }
    read = {node for e in exposures for node in e["depends_on"]["nodes"]}
    assert read == analytics


def _freshness(warehouse, tmp_path, latest_batch: str) -> str:
    """`dbt source freshness` of raw.customers with its latest batch month set to `latest_batch`."""
    copy = tmp_path / f"fresh-{latest_batch}.duckdb"
    shutil.copy(warehouse, copy)
    with duckdb.connect(str(copy)) as con:
        con.execute("update raw.customers set _batch_month = ?::date", [f"{latest_batch}-01"])
    target = tmp_path / f"target-{latest_batch}"
    dbt_cli("source", "freshness", "--select", "source:raw.customers", warehouse=copy, target=target)
    return json.loads((target / "sources.json").read_text())["results"][0]["status"]


def test_freshness_is_on_the_batch_month_one_missing_warns_three_error(small_warehouse, tmp_path):
    warehouse, _ = small_warehouse
    now = current_month()
    assert _freshness(warehouse, tmp_path, shift_month(now, -1)) == "pass"  # last month's batch: all there
    assert _freshness(warehouse, tmp_path, shift_month(now, -3)) == "warn"  # two months' batches missing
    assert _freshness(warehouse, tmp_path, shift_month(now, -5)) == "error"  # four missing
