"""The same dbt project built on Spark gives DuckDB's relations row for row (issue 24, docs/spark.md).

DuckDB's side runs as the warehouse runs: the loads (which also write the Parquet lake, the
engines' meeting point) and the monthly job, the last month as a monthly run. Spark's side is dbt's
`spark` target on a local SparkSession reading that lake; each model's relation comes back as
Parquet and is compared with DuckDB's, so a difference names its model. The dbt unit tests run on
both engines: on DuckDB in the rest of the suite, on Spark in the first build here. The data tests
run on DuckDB; what Spark built is compared whole instead.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from conftest import SMALL_MONTHS, dbt_cli, monthly_run
from hypothesis import HealthCheck, given, seed, settings
from landing_builder import write_batch
from test_reporting_properties import MONTHS, landings

from bureau.ledger import ensure_ledger
from bureau.submit import submit_months, unsubmitted_months
from engines.compare import compare
from engines.spark import REPORTING_MART, SparkBuild, load_back
from ingestion import lake
from ingestion.raw_load import load_batch
from orchestration import settings as crw_settings


def differences(warehouse, spark: SparkBuild, back) -> list:
    return [d for d in compare(warehouse, back, spark.models()) if not d.equal]


def published_differences(one, two) -> dict[str, int]:
    """Per table of two published copies (but the publication row): rows without an equal one, both ways."""
    con = duckdb.connect()
    try:
        con.execute(f"attach '{one}' as one (read_only)")
        con.execute(f"attach '{two}' as two (read_only)")
        listed = "select table_name from duckdb_tables() where database_name = ? and table_name <> 'publication'"
        tables = [{name for (name,) in con.execute(listed, [copy]).fetchall()} for copy in ("one", "two")]
        assert tables[0] == tables[1] and len(tables[0]) > 20
        differing = {}
        for table in sorted(tables[0]):
            a, b = f"one.analytics.{table}", f"two.analytics.{table}"
            differing[table] = con.execute(
                f"select count(*) from ((from {a} except all from {b}) union all (from {b} except all from {a}))"
            ).fetchone()[0]
        return {table: rows for table, rows in differing.items() if rows}
    finally:
        con.close()


def test_spark_builds_what_the_monthly_run_built(instance, landing, tmp_path, monkeypatch):
    monkeypatch.setenv(crw_settings.LAKE_ENV, str(tmp_path / "lake"))
    warehouse = tmp_path / "warehouse.duckdb"
    monthly_run(instance, warehouse, landing, SMALL_MONTHS[0], last=SMALL_MONTHS[-2])
    monthly_run(instance, warehouse, landing, SMALL_MONTHS[-1])  # the monthly run: the last month alone

    partitions = sorted(p.name for p in (tmp_path / "lake" / "raw" / "bills").iterdir())
    assert partitions == [f"_batch_month={month}-01" for month in SMALL_MONTHS]  # one per batch, as loaded

    spark = SparkBuild(tmp_path / "lake", tmp_path / "spark")
    spark.build(tmp_path / "back", "--exclude", "test_type:data")  # the data tests run on DuckDB
    assert differences(warehouse, spark, tmp_path / "back") == []

    # the dashboard's copy published from what came back from Spark equals the one the monthly run published
    from_spark = spark.publish(
        tmp_path / "back", tmp_path / "from_spark.duckdb", "spark", tmp_path / "validation_reports"
    )
    assert published_differences(warehouse.parent / "published" / "analytics_snapshot.duckdb", from_spark.path) == {}
    assert from_spark.data_as_of == SMALL_MONTHS[-1]
    with duckdb.connect(str(from_spark.path), read_only=True) as con:  # analysts read the dbt descriptions there
        described = (
            "select count(*) from duckdb_columns() where table_name = 'rollout_coverage' and comment is not null"
        )
        assert con.execute(described).fetchone()[0] > 10
    assert {schema for schema, _ in spark.models()} == {"staging", "intermediate", "marts", "analytics"}

    # the bureau files written from Spark's reporting mart, loaded back into a copy of the warehouse,
    # are DuckDB's byte for byte
    files = {}
    for engine in ("duckdb", "spark"):
        copy = Path(shutil.copy(warehouse, tmp_path / f"{engine}.duckdb"))
        if engine == "spark":
            assert load_back(tmp_path / "back", copy)[REPORTING_MART] > 1000
        with duckdb.connect(str(copy)) as con:
            at = datetime(2024, 9, 2, 9, tzinfo=UTC)
            done = list(submit_months(con, unsubmitted_months(con), tmp_path / engine, "TEST0000000001", at, 0.01))
        assert len(done) == len(SMALL_MONTHS)
        files[engine] = {f.name: f.read_bytes() for f in sorted((tmp_path / engine).glob("*.txt"))}
    assert files["spark"] == files["duckdb"] and len(files["duckdb"]) == len(SMALL_MONTHS)


@pytest.mark.filterwarnings("ignore")
@seed(24)
@settings(max_examples=1, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(data=landings())
def test_spark_builds_what_duckdb_builds_on_a_generated_slice(data, tmp_path_factory):
    """Edge-case data (timestamps at month ends in four zones, 0.00 bills, closings) from the property
    test's strategy: one example per run, a Spark build costs a minute."""
    work = tmp_path_factory.mktemp("generated")
    warehouse = work / "w.duckdb"
    for month, tables in data.items():
        write_batch(work / "landing", month, tables)
    con = duckdb.connect(str(warehouse))
    try:
        for month in MONTHS:
            load_batch(con, work / "landing" / month)
        ensure_ledger(con)
        lake.write_all(con, work / "lake")
    finally:
        con.close()
    build = dbt_cli("build", "--exclude", "test_type:unit", warehouse=warehouse, target=work / "target")
    assert "ERROR=0" in build.stdout, build.stdout[-4000:]

    spark = SparkBuild(work / "lake", work / "spark")
    spark.build(work / "back", "--exclude", "test_type:data", "--exclude", "test_type:unit")  # models only
    assert differences(warehouse, spark, work / "back") == []
