"""Benchmark: the project's pipeline against a hand-written DuckDB script on the same landing files.

In one run, on one generated landing zone (N customers x M months):
  generate      the synthetic batches (CSV)
  pipeline      `credit-reporting-warehouse run`: every batch through the gate, dbt build, publish
  incremental   the last month again as the monthly job runs it (load, dbt on that month, publish)
  dbt build     `dbt build --full-refresh` on the pipeline's loaded raw tables (transformation only)
  baseline      bench/baseline/load.sql + transform.sql: the same two marts with no framework
  baseline SQL  bench/baseline/transform.sql alone on a copy of the pipeline's raw tables
Each step is its own process: wall time and that process tree's peak RSS. Then the ratios, and a
check that the baseline's marts equal the pipeline's, after the incremental month and after the
full build. Figures, not pass/fail:

    .venv/bin/python bench/bench_vs_baseline.py --customers 1000000 --work-dir /tmp/bench1m
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
DBT_DIR = BENCH.parent / "dbt_project"
MARTS = ("credit_report_monthly", "fct_rollout_coverage")
# Runs a step and reports the peak RSS of its whole process tree (dbt runs under the CLI).
MEASURE = """
import resource, subprocess, sys
code = subprocess.run(sys.argv[1:]).returncode
print(f"peak_rss_kb={resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}", file=sys.stderr)
sys.exit(code)
"""
RUN_SQL = """
import sys, duckdb
from pathlib import Path
con = duckdb.connect(sys.argv[1], config={"memory_limit": sys.argv[3], "temp_directory": sys.argv[4]})
for script in sys.argv[5:]:
    con.execute(Path(script).read_text().replace("{landing}", sys.argv[2]))
"""


def timed(label: str, cmd: list[str], env: dict[str, str]) -> float:
    """Run one step in its own process tree; print and return its wall seconds, print its peak RSS."""
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", MEASURE, *cmd], env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"{label} failed ({result.returncode}): {' '.join(cmd)}\n{(result.stdout + result.stderr)[-3000:]}")
    peak_kb = int(result.stderr.rsplit("peak_rss_kb=", 1)[1])
    print(f"{label:<14}{seconds:9.1f} s   peak RSS {peak_kb / 2**20:6.2f} GB", flush=True)
    return seconds


def copy_schema(source: Path, target: Path, schema: str, tables: tuple[str, ...] = ()) -> None:
    """Copy a schema's tables (or the named ones) from one DuckDB file to another."""
    import duckdb

    con = duckdb.connect(str(target))
    try:
        con.execute(f"attach '{source}' as source (read_only)")
        con.execute(f"create schema {schema}")
        names = tables or [
            name
            for (name,) in con.execute(
                "select table_name from duckdb_tables() where database_name = 'source' and schema_name = ?", [schema]
            ).fetchall()
        ]
        for table in names:
            con.execute(f"create table {schema}.{table} as from source.{schema}.{table}")
    finally:
        con.close()


def differing_rows(warehouse: Path, baseline: Path) -> dict[str, int]:
    import duckdb

    con = duckdb.connect()
    try:
        con.execute(f"attach '{warehouse}' as w (read_only)")
        con.execute(f"attach '{baseline}' as b (read_only)")
        out = {}
        for mart in MARTS:
            one, two = f"w.marts.{mart}", f"b.baseline.{mart}"
            both = f"(from {one} except all from {two}) union all (from {two} except all from {one})"
            out[mart] = con.execute(f"select count(*) from ({both})").fetchone()[0]
        return out
    finally:
        con.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--work-dir", help="where to write (default: a new temp folder, kept)")
    parser.add_argument("--landing", help="use this landing zone instead of generating one")
    args = parser.parse_args()

    work = Path(args.work_dir or tempfile.mkdtemp(prefix="crw-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    landing = Path(args.landing) if args.landing else work / "landing"
    warehouse = work / "warehouse.duckdb"
    memory = os.environ.get("CRW_DUCKDB_MEMORY_LIMIT", "8GB")
    env = {
        **os.environ,
        "CRW_LANDING": str(landing),
        "CRW_WAREHOUSE": str(warehouse),
        "CRW_PUBLISHED": str(work / "published" / "analytics_snapshot.duckdb"),
        "CRW_DUCKDB_TEMP_DIR": str(work / "tmp"),
        "DAGSTER_HOME": str(work / "dagster_home"),
    }
    py, cli = sys.executable, [sys.executable, "-m", "orchestration.cli"]
    source = f"landing {landing}" if args.landing else f"customers={args.customers:,} months={args.months}"
    print(f"{source} cores={os.cpu_count()} memory_limit={memory}")
    print(f"work dir {work}")

    figures = {}
    if not args.landing:
        gen = ["generate", "--customers", str(args.customers), "--months", str(args.months), "--out", str(landing)]
        figures["generate"] = timed("generate", [*cli, *gen], env)
    months = sorted(p.name for p in landing.iterdir() if p.is_dir())
    size = sum(p.stat().st_size for p in landing.rglob("*") if p.is_file()) / 2**30
    print(f"landing       {size:9.2f} GB   {len(months)} batches")

    warehouse.unlink(missing_ok=True)  # every step starts from nothing, as the baseline does
    figures["pipeline"] = timed("pipeline", [*cli, "run"], env)
    figures["incremental"] = timed("incremental", [*cli, "backfill", "--from", months[-1], "--to", months[-1]], env)
    after_incremental = work / "after_incremental.duckdb"  # its marts, to compare with the baseline's too
    after_incremental.unlink(missing_ok=True)
    copy_schema(warehouse, after_incremental, "marts", MARTS)
    dbt = [str(Path(py).parent / "dbt"), "build", "--full-refresh", "--project-dir", str(DBT_DIR)]
    dbt += ["--profiles-dir", str(DBT_DIR), "--target-path", str(work / "target")]
    figures["dbt build"] = timed("dbt build", dbt, env)

    baseline = work / "handwritten.duckdb"  # a file named like its schema makes names ambiguous
    baseline.unlink(missing_ok=True)
    scripts = [str(BENCH / "baseline" / "load.sql"), str(BENCH / "baseline" / "transform.sql")]
    run_sql = [py, "-c", RUN_SQL]
    figures["baseline"] = timed(
        "baseline", [*run_sql, str(baseline), str(landing), memory, str(work / "tmp"), *scripts], env
    )
    baseline_sql = work / "handwritten_sql.duckdb"
    baseline_sql.unlink(missing_ok=True)
    copy_schema(warehouse, baseline_sql, "raw")
    figures["baseline SQL"] = timed(
        "baseline SQL", [*run_sql, str(baseline_sql), str(landing), memory, str(work / "tmp"), scripts[1]], env
    )

    print()
    print(f"end to end           pipeline / baseline      {figures['pipeline'] / figures['baseline']:5.2f}x")
    print(f"transformation only  dbt build / baseline SQL {figures['dbt build'] / figures['baseline SQL']:5.2f}x")
    print(f"incremental month    / full pipeline          {figures['incremental'] / figures['pipeline']:5.1%}")
    print("baseline marts against the pipeline's (rows differing):")
    print(f"  after the incremental month  {differing_rows(after_incremental, baseline)}")
    print(f"  after dbt build              {differing_rows(warehouse, baseline)}")


if __name__ == "__main__":
    main()
