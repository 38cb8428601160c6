"""Shared fixtures: a small generated landing zone, Dagster materializations into tmp warehouses."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import duckdb
import pytest
from bureau_feedback_files import write_feedback

from orchestration import settings

# Nothing a test runs may touch the project's own data/ folder.
_SAFE_HOME = Path(tempfile.mkdtemp(prefix="crw-tests-"))
os.environ[settings.WAREHOUSE_ENV] = str(_SAFE_HOME / "default.duckdb")
os.environ[settings.LANDING_ENV] = str(_SAFE_HOME / "landing")
os.environ[settings.PUBLISHED_ENV] = str(_SAFE_HOME / "published" / "analytics_snapshot.duckdb")
os.environ["DAGSTER_HOME"] = str(_SAFE_HOME / "dagster_home")
# dbt's target folder per test process: the two workers' runs never read each other's parse state or logs
os.environ[settings.DBT_TARGET_ENV] = str(_SAFE_HOME / "dbt_target")
(_SAFE_HOME / "dagster_home").mkdir()
settings.put_interpreter_bin_on_path()

from dagster import DagsterInstance, build_sensor_context, materialize  # noqa: E402

from orchestration.assets.bureau import bureau_feedback, bureau_submission_210  # noqa: E402
from orchestration.assets.dbt import warehouse_models  # noqa: E402
from orchestration.assets.published import published_analytics  # noqa: E402
from orchestration.assets.raw import raw_landing_batch  # noqa: E402
from orchestration.automation import feedback_sensor  # noqa: E402
from orchestration.dbt_project import dbt_resource  # noqa: E402
from orchestration.partitions import partition_range_tags  # noqa: E402
from orchestration.resources import Warehouse  # noqa: E402
from source_system import GeneratorConfig, generate_landing  # noqa: E402

# The longest files first, in this order, each to a worker as one frees up (`make test` passes
# --no-loadscope-reorder): xdist would otherwise order files by their number of tests, and a long file of
# one test would start last and end the run alone. The rest follow in their usual order.
LONGEST_FILES = (
    "test_operations.py",
    "test_monthly_state.py",
    "test_readme_commands.py",
    "test_reporting_properties.py",
    "test_bureau_corrections.py",
    "test_dashboard_browser.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        name = item.path.name
        return LONGEST_FILES.index(name) if name in LONGEST_FILES else len(LONGEST_FILES)

    items.sort(key=rank)  # stable: a file's tests keep their order


SMALL = GeneratorConfig(customers=600, months=8, rollout_month=4)
SMALL_MONTHS = [f"2024-{m:02d}" for m in range(1, 9)]  # its batches


@pytest.fixture(scope="session")
def small_landing(tmp_path_factory) -> Path:
    """Eight monthly batches of 600 customers, rollout from the 4th month. Read-only: copy to change."""
    out = tmp_path_factory.mktemp("landing") / "landing"
    generate_landing(SMALL, out)
    return out


@pytest.fixture
def landing(small_landing: Path, tmp_path: Path) -> Path:
    """A private, writable copy of the small landing zone."""
    return Path(shutil.copytree(small_landing, tmp_path / "landing"))


@pytest.fixture(scope="session")
def instance() -> DagsterInstance:
    return DagsterInstance.ephemeral()


def warehouse_resource(warehouse: Path, landing: Path | None = None) -> Warehouse:
    return Warehouse(database_path=str(warehouse), landing_dir=str(landing or warehouse.parent))


def load_month(instance: DagsterInstance, warehouse: Path, landing: Path, month: str):
    """A real Dagster materialization of one batch month's raw assets."""
    return materialize(
        [raw_landing_batch],
        partition_key=month,
        resources={"warehouse": warehouse_resource(warehouse, landing)},
        instance=instance,
        raise_on_error=False,
    )


def monthly_run(
    instance,
    warehouse: Path,
    landing: Path,
    month: str,
    tags: dict | None = None,
    succeeds=True,
    submit=False,
    last: str | None = None,
):
    """A real run of the monthly job's assets for one batch month (or, with `last`, the months from
    `month` to `last` as one run, a backfill): load, incremental dbt build, publish, and with `submit`
    the bureau file (into `submissions/` beside the warehouse)."""
    if last is not None:
        tags = {**(tags or {}), **partition_range_tags(month, last)}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(settings.WAREHOUSE_ENV, str(warehouse))
        mp.setenv(settings.PUBLISHED_ENV, str(warehouse.parent / "published" / "analytics_snapshot.duckdb"))
        result = materialize(
            [raw_landing_batch, warehouse_models, published_analytics, *([bureau_submission_210] if submit else [])],
            partition_key=None if last else month,
            resources={
                "dbt": dbt_resource(),
                "warehouse": warehouse_resource(warehouse, landing),
            },
            instance=instance,
            raise_on_error=False,
            tags=tags,
        )
    assert result.success == succeeds, failure_message(result) or "the run passed"
    return result


def failure_message(result) -> str:
    failures = [e for e in result.all_events if e.is_step_failure]
    return failures[0].step_failure_data.error.message if failures else ""


def query(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def load_all(instance: DagsterInstance, warehouse: Path, landing: Path) -> None:
    for batch in sorted(p for p in landing.iterdir() if p.is_dir()):
        result = load_month(instance, warehouse, landing, batch.name)
        assert result.success, failure_message(result)


def dbt_build(instance: DagsterInstance, warehouse: Path):
    """A real Dagster materialization of every dbt model and test on this warehouse."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(settings.WAREHOUSE_ENV, str(warehouse))
        return materialize(
            [warehouse_models],
            resources={"dbt": dbt_resource(), "warehouse": warehouse_resource(warehouse)},
            instance=instance,
            raise_on_error=False,
        )


def publish(instance: DagsterInstance, warehouse: Path, target: Path):
    """A real Dagster materialization of the published analytics copy of this warehouse at `target`."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(settings.PUBLISHED_ENV, str(target))
        return materialize(
            [published_analytics],
            resources={"warehouse": warehouse_resource(warehouse)},
            instance=instance,
            raise_on_error=False,
        )


@pytest.fixture(scope="session")
def small_warehouse(instance, small_landing, tmp_path_factory):
    """The small landing zone loaded and built once: (warehouse path, dbt materialization result)."""
    warehouse = tmp_path_factory.mktemp("small-warehouse") / "w.duckdb"
    load_all(instance, warehouse, small_landing)
    return warehouse, dbt_build(instance, warehouse)


@pytest.fixture(scope="session")
def small_published(instance, small_warehouse, tmp_path_factory) -> tuple[Path, Path]:
    """The small warehouse and its published analytics copy (what the dashboard reads). Read-only."""
    warehouse, build = small_warehouse
    assert build.success, failure_message(build)
    target = tmp_path_factory.mktemp("published") / "analytics_snapshot.duckdb"
    assert publish(instance, warehouse, target).success
    return warehouse, target


@pytest.fixture(scope="session")
def small_submitted(instance, small_warehouse, tmp_path_factory) -> tuple[Path, Path]:
    """A copy of the small warehouse with every month submitted by the real Dagster asset, which
    publishes the analytics copy again after the files (the ledger's views in it), then the bureau's
    feedback refusing two records of the last file, applied by the real sensor and asset. Read-only."""
    warehouse, build = small_warehouse
    assert build.success, failure_message(build)
    folder = tmp_path_factory.mktemp("submitted")
    copy, target = folder / "w.duckdb", folder / "published" / "analytics_snapshot.duckdb"
    shutil.copy(warehouse, copy)
    with duckdb.connect(str(copy)) as con:  # one record held on purpose: its balance below its overdue amount (S5)
        con.execute(
            """update marts.credit_report_monthly set overdue_amount = balance + 100
               where (account_id, report_month) = (select (account_id, report_month) from marts.credit_report_monthly
                                                   where month_status = '1' order by all limit 1)"""
        )
    assert publish(instance, copy, target).success
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(settings.PUBLISHED_ENV, str(target))
        mp.setenv(settings.SUBMISSIONS_ENV, str(folder / "submissions"))
        result = materialize(
            [bureau_submission_210],
            partition_key=SMALL_MONTHS[-1],
            resources={"warehouse": warehouse_resource(copy)},
            instance=instance,
            raise_on_error=False,
        )
        assert result.success, failure_message(result)
        (last,) = query(copy, "select file_name from audit.bureau_files order by written_order desc limit 1")[0]
        write_feedback(folder / "submissions" / last, copy, {2: "E101", 3: "E202"}, folder / "feedback")
        mp.setenv(settings.FEEDBACK_ENV, str(folder / "feedback"))
        (request,) = feedback_sensor(build_sensor_context(instance=instance))
        result = materialize(
            [bureau_feedback],
            run_config=request.run_config,
            resources={"warehouse": warehouse_resource(copy)},
            instance=instance,
            raise_on_error=False,
        )
    assert result.success, failure_message(result)
    return copy, target


def dbt_cli(
    *args: str, warehouse: Path, target: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """Plain dbt, run from dbt_project/ as a person would, on the given warehouse file."""
    return subprocess.run(
        [str(Path(sys.executable).parent / "dbt"), *args, "--profiles-dir", ".", "--target-path", str(target)],
        cwd=settings.DBT_PROJECT_DIR,
        env={**os.environ, settings.WAREHOUSE_ENV: str(warehouse), **(env or {})},
        capture_output=True,
        text=True,
        timeout=600,
    )


def mark_kept_month(warehouse: Path, month: str) -> None:
    """Stamp a month's records so a test can tell whether a later run rebuilt that month; stamping
    again takes the stamp off (amount_paid is never negative, and x -> -1 - x undoes itself)."""
    con = duckdb.connect(str(warehouse))
    try:
        con.execute(
            "update marts.credit_report_monthly set amount_paid = -1 - amount_paid where report_month = ?::date",
            [month + "-01"],
        )
    finally:
        con.close()


def differing_rows(a: Path, b: Path) -> dict[str, int]:
    """Per model table of warehouse `a` (staging's kept tables too): rows not matched one for one in
    `b`, both ways (the analytics views select from these tables)."""
    con = duckdb.connect()
    try:
        con.execute(f"attach '{a}' as a (read_only)")
        con.execute(f"attach '{b}' as b (read_only)")
        tables = con.execute(
            "select schema_name, table_name from duckdb_tables() "
            "where database_name = 'a' and schema_name in ('staging', 'intermediate', 'marts')"
        ).fetchall()
        assert tables, f"no model tables in {a}"
        differing = {}
        for schema, name in tables:
            one, two = f'a."{schema}"."{name}"', f'b."{schema}"."{name}"'
            both_ways = f"(from {one} except all from {two}) union all (from {two} except all from {one})"
            differing[f"{schema}.{name}"] = con.execute(f"select count(*) from ({both_ways})").fetchone()[0]
        return differing
    finally:
        con.close()


def cli(*args: str, env: dict[str, str] | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    """The project command, as a person runs it."""
    return subprocess.run(
        [sys.executable, "-m", "orchestration.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=timeout,
    )
