"""Benchmark: the same dbt project built on DuckDB and on Spark (docs/spark.md), at one or more sizes.

For each size (N customers x 24 months), on one generated landing zone:
  load          `credit-reporting-warehouse run --full-refresh` with CRW_LAKE set: the gate, the
                loads (which also write the Parquet lake), the DuckDB build, publish, bureau files
  lake          the lake's size on disk; the bookkeeping written again (the bureau step's ledger)
  duckdb build  `dbt build --full-refresh` on DuckDB, models and every test
  spark build   `dbt build --target spark` (a local SparkSession, 2 cores), models and every test, and
                its last step: every model's relation back from Spark as Parquet
  compare       each relation against DuckDB's, row for row (must be 0 differing)
Then Spark's time against size, and the share of Spark's build spent in the models a DuckDB monthly
run keeps by month (Spark rebuilds them whole: the most partition overwrite could save). Figures, not pass/fail:

    .venv/bin/python bench/bench_spark.py --customers 20000 100000 --work-dir /tmp/bench_spark
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from engines.compare import compare
from engines.spark import SparkBuild
from ingestion import lake

BENCH = Path(__file__).resolve().parent
DBT_DIR = BENCH.parent / "dbt_project"


def seconds(work) -> tuple[float, object]:
    start = time.perf_counter()
    result = work()
    return time.perf_counter() - start, result


def run(cmd: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")


def size_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


def slowest(run_results: Path, count: int = 5) -> str:
    results = json.loads(run_results.read_text())["results"]
    top = sorted(results, key=lambda r: r["execution_time"], reverse=True)[:count]
    return ", ".join(f"{r['unique_id'].split('.')[-1]} {r['execution_time']:.1f} s" for r in top)


def monthly_share(duck_target: Path, spark_target: Path) -> str:
    """Spark's time in the models a DuckDB monthly run keeps by month (incremental there, rebuilt whole
    on Spark): at most what partition overwrite by month could save."""
    nodes = json.loads((duck_target / "manifest.json").read_text())["nodes"].values()
    kept = {n["unique_id"] for n in nodes if n["config"].get("materialized") == "incremental"}
    results = json.loads((spark_target / "run_results.json").read_text())["results"]
    spent = sum(r["execution_time"] for r in results if r["unique_id"] in kept)
    total = sum(r["execution_time"] for r in results)
    return f"{len(kept)} models kept by month on DuckDB: {spent:.1f} s of Spark's {total:.1f} s in nodes"


def one_size(customers: int, work: Path) -> dict[str, float]:
    work.mkdir(parents=True, exist_ok=True)
    cli = [sys.executable, "-m", "orchestration.cli"]
    env = {
        **os.environ,
        "CRW_WAREHOUSE": str(work / "warehouse.duckdb"),
        "CRW_LANDING": str(work / "landing"),
        "CRW_LAKE": str(work / "lake"),
        "CRW_PUBLISHED": str(work / "published" / "analytics_snapshot.duckdb"),
        "DAGSTER_HOME": str(work / "dagster_home"),
        "DBT_TARGET_PATH": str(work / "dbt_target"),
    }
    figures = {}
    figures["generate"], _ = seconds(lambda: run([*cli, "generate", "--customers", str(customers)], env))
    figures["load"], _ = seconds(lambda: run([*cli, "run", "--full-refresh"], env))
    dbt = [str(Path(sys.executable).with_name("dbt")), "build", "--full-refresh", "--profiles-dir", str(DBT_DIR)]
    figures["duckdb build"], _ = seconds(
        lambda: run([*dbt, "--project-dir", str(DBT_DIR), "--target-path", str(work / "duck_target")], env)
    )
    with duckdb.connect(str(work / "warehouse.duckdb"), read_only=True) as con:  # the ledger the bureau step
        lake.write_bookkeeping(con, work / "lake")  # wrote after the last load (docs/spark.md)
    spark = SparkBuild(work / "lake", work / "spark")
    figures["spark build"], _ = seconds(lambda: spark.build(work / "back"))  # with the way back
    figures["compare"], differences = seconds(lambda: compare(work / "warehouse.duckdb", work / "back", spark.models()))
    unequal = [d for d in differences if not d.equal]
    print(f"\n{customers:,} customers x 24 months")
    for step, value in figures.items():
        print(f"  {step:<13} {value:8.1f} s")
    print(f"  lake          {size_mb(work / 'lake'):8.1f} MB (Parquet)")
    print(f"  relations     {len(differences)} compared, {len(unequal)} differing: {unequal or 'none'}")
    print(f"  slowest on DuckDB: {slowest(work / 'duck_target' / 'run_results.json')}")
    print(f"  slowest on Spark:  {slowest(spark.target / 'run_results.json')}")
    print(f"  on Spark, {monthly_share(work / 'duck_target', spark.target)}")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, nargs="+", default=[20000, 100000])
    parser.add_argument("--work-dir", type=Path, required=True)
    args = parser.parse_args()
    sizes = {n: one_size(n, args.work_dir / f"{n}") for n in args.customers}
    print("\ncustomers | DuckDB build | Spark build | Spark / DuckDB")
    for n, f in sizes.items():
        duck, spark = f["duckdb build"], f["spark build"]
        print(f"{n:>9,} | {duck:10.1f} s | {spark:9.1f} s | {spark / duck:.1f}x")
    if len(sizes) > 1:
        (small, a), (large, b) = list(sizes.items())[0], list(sizes.items())[-1]
        per_customer = (b["spark build"] - a["spark build"]) / (large - small)
        fixed = a["spark build"] - per_customer * small
        print(f"Spark build ~ {fixed:.0f} s + {per_customer * 1e6:.0f} s per million customers (from these sizes)")


if __name__ == "__main__":
    main()
