"""Build the dbt project on Spark from the Parquet lake and bring every model's relation back.

dbt talks to Spark (the `spark` target in dbt_project/profiles.yml: a local SparkSession here, a
Thrift server on a cluster); this module runs one `dbt build` with the lake's, Spark's and the
way back's places set, so the same command serves a laptop and a cluster. The build's last step
(dbt_project/macros/engines/lake.sql) writes each model's relation as Parquet under
<out>/<schema>/<name>/. dbt's log and Spark's console go to the Spark folder.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import duckdb

from foundation.published_copy import SCHEMA
from ingestion.file_reader import sql_string
from orchestration.analytics_copy import Publication, publish_analytics
from orchestration.settings import DBT_PROJECT_DIR, LAKE_ENV, PROJECT_ROOT
from orchestration.warehouse_file import connect_warehouse

# dbt on Spark runs from its own environment (`make install-spark`; why: requirements-spark.in)
SPARK_DBT = PROJECT_ROOT / ".venv-spark" / "bin" / "dbt"
REPORTING_MART = "marts.credit_report_monthly"  # what the bureau step reads of a build
SPARK_DIR_ENV = "CRW_SPARK_DIR"  # the local session's metastore and managed tables
BRING_BACK_ENV = "CRW_BRING_BACK"  # where the build's last step writes every model's relation


class SparkBuildFailed(RuntimeError):
    """dbt on Spark did not finish: the failing nodes and where the log is."""


@dataclass(frozen=True)
class SparkBuild:
    lake: Path
    spark_dir: Path

    @property
    def target(self) -> Path:
        return self.spark_dir / "dbt_target"

    @property
    def console(self) -> Path:
        return self.spark_dir / "console.log"

    def build(self, out: Path, *selection: str) -> dict:
        """`dbt build` on the spark target, its relations then under `out` (replaced): the run
        results, or SparkBuildFailed naming the failing nodes."""
        shutil.rmtree(out, ignore_errors=True)
        results = self.target / "run_results.json"
        results.unlink(missing_ok=True)
        if not SPARK_DBT.is_file():
            raise SparkBuildFailed(f"dbt for Spark is not installed ({SPARK_DBT}): run `make install-spark`")
        command = [str(SPARK_DBT), "build", *selection, "--target", "spark"]
        command += ["--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)]
        command += ["--target-path", str(self.target), "--log-path", str(self.spark_dir)]
        env = {**os.environ, LAKE_ENV: str(self.lake), SPARK_DIR_ENV: str(self.spark_dir), BRING_BACK_ENV: str(out)}
        self.spark_dir.mkdir(parents=True, exist_ok=True)
        with open(self.console, "ab") as console:
            # run from the Spark folder: Derby writes its derby.log into the working directory
            done = subprocess.run(command, cwd=self.spark_dir, env=env, stdout=console, stderr=subprocess.STDOUT)
        outcome = json.loads(results.read_text()) if results.exists() else {"results": []}
        failed = [r["unique_id"].split(".", 2)[-1] for r in outcome["results"] if r["status"] in ("error", "fail")]
        if done.returncode != 0 or failed:
            raise SparkBuildFailed(
                f"dbt build on Spark failed ({', '.join(failed) or 'before any node'}): {self.console}"
            )
        return outcome

    def models(self) -> list[tuple[str, str]]:
        """(schema, name) of every model the last build's project has."""
        return sorted((node["schema"], node["alias"]) for node in self._model_nodes())

    def _model_nodes(self) -> list[dict]:
        nodes = json.loads((self.target / "manifest.json").read_text())["nodes"].values()
        return [node for node in nodes if node["resource_type"] == "model"]

    def publish(self, back: Path, target: Path, run_id: str, reports: Path) -> Publication:
        """The dashboard's published copy from what Spark built: the analytics relations brought back
        (under `back`) seen as a DuckDB catalog with the dbt descriptions, published as a DuckDB build
        is (orchestration/analytics_copy.py). `reports`: the landing gate's, where the loads ran."""
        catalog = self.spark_dir / "analytics_from_spark.duckdb"
        catalog.unlink(missing_ok=True)
        with duckdb.connect(str(catalog)) as con:
            con.execute(f"create schema {SCHEMA}")
            for node in (n for n in self._model_nodes() if n["schema"] == SCHEMA):
                name = f"{SCHEMA}.{node['alias']}"
                files = sql_string(back / SCHEMA / node["alias"] / "*.parquet")
                con.execute(f"create view {name} as select * from read_parquet({files})")
                con.execute(f"comment on view {name} is {sql_string(node['description'])}")
                for column in node["columns"].values():
                    description = sql_string(column["description"])
                    con.execute(f'comment on column {name}."{column["name"]}" is {description}')
        return publish_analytics(catalog, target, run_id, reports=reports)


def load_back(back: Path, warehouse: Path, tables: tuple[str, ...] = (REPORTING_MART,)) -> dict[str, int]:
    """Replace these tables of the DuckDB warehouse with what came back from Spark, in one
    transaction, columns by name (DuckDB's types kept): the bureau step then writes its file from
    Spark's build, and its ledger stays where it is. Rows loaded per table."""
    loaded = {}
    with closing(connect_warehouse(warehouse)) as con:
        con.execute("begin transaction")
        for table in tables:
            schema, name = table.split(".")
            con.execute(f"delete from {table}")
            files = sql_string(back / schema / name / "*.parquet")
            inserted = con.execute(f"insert into {table} by name select * from read_parquet({files})")
            loaded[table] = inserted.fetchone()[0]
        con.execute("commit")
    return loaded
