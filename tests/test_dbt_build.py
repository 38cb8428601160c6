"""dbt builds green on generated data, both under Dagster and on its own."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from conftest import failure_message, load_month, query
from dagster import materialize
from dagster_dbt import DbtCliResource

from orchestration.assets.dbt import warehouse_models
from orchestration.dbt_project import dbt_project
from orchestration.settings import DBT_PROJECT_DIR, WAREHOUSE_ENV


@pytest.fixture(scope="module")
def built_warehouse(instance, small_landing, tmp_path_factory):
    warehouse = tmp_path_factory.mktemp("dbt") / "w.duckdb"
    for month in [f"2024-{m:02d}" for m in range(1, 9)]:
        assert load_month(instance, warehouse, small_landing, month).success
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(WAREHOUSE_ENV, str(warehouse))
        result = materialize(
            [warehouse_models],
            resources={"dbt": DbtCliResource(project_dir=dbt_project)},
            instance=instance,
            raise_on_error=False,
        )
    return warehouse, result


def test_dbt_build_under_dagster_is_green_with_every_check_passing(built_warehouse):
    _, result = built_warehouse
    assert result.success, failure_message(result)
    evaluations = result.get_asset_check_evaluations()
    assert len(evaluations) >= 20
    assert all(e.passed for e in evaluations), [e.check_name for e in evaluations if not e.passed]


def test_staging_keeps_the_latest_customer_version(built_warehouse):
    warehouse, _ = built_warehouse
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


def test_customer_history_is_a_gapless_scd2(built_warehouse):
    warehouse, _ = built_warehouse
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


def test_plain_dbt_build_works_without_dagster(built_warehouse, tmp_path):
    warehouse, _ = built_warehouse
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(warehouse.read_bytes())
    result = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "dbt"), "build", "--profiles-dir", "."],
        cwd=DBT_PROJECT_DIR,
        env={**os.environ, WAREHOUSE_ENV: str(copy)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert "ERROR=0" in result.stdout
