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
import sys
from dataclasses import dataclass
from pathlib import Path

from orchestration.settings import DBT_PROJECT_DIR, LAKE_ENV

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
        command = [str(Path(sys.executable).with_name("dbt")), "build", *selection, "--target", "spark"]
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
        nodes = json.loads((self.target / "manifest.json").read_text())["nodes"].values()
        return sorted((n["schema"], n["alias"]) for n in nodes if n["resource_type"] == "model")
