"""Benchmark: the project's pipeline against a hand-written DuckDB script on the same landing files,
and the monthly run against the full pipeline.

In one run, on one generated landing zone (N customers x M months):
  generate        the synthetic batches (CSV)
  full pipeline   `credit-reporting-warehouse run --full-refresh`: every batch through the gate, every
                  table rebuilt from raw (dbt build), publish, the bureau files
  run             `credit-reporting-warehouse run` over every month but the last: the monthly job as
                  one backfill (a second warehouse)
  monthly         the last month as the monthly job runs it on that warehouse (`backfill --from M --to M`:
                  load, gate, dbt on the months touched, publish, the bureau file)
  run, half       the same on a third warehouse, from a landing of the same book generated from the
                  middle month on (half the history)
  monthly, half   the last month's run on it: the same calendar month with half the history
  dbt build       `dbt build --full-refresh` on the full pipeline's raw tables (transformation only)
  baseline        bench/baseline/load.sql + transform.sql: the same two marts with no framework
  baseline SQL    bench/baseline/transform.sql alone on a copy of the pipeline's raw tables
Each step is its own process: wall time and that process tree's peak RSS; after each monthly run, its
slowest dbt nodes. Then the ratios, and a check that the baseline's marts equal the pipeline's after
the monthly runs and after the full build. Figures, not pass/fail:

    .venv/bin/python bench/bench_vs_baseline.py --customers 1000000 --work-dir /tmp/bench1m
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from source_system.config import GeneratorConfig

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


def print_run_breakdown(dagster_home: Path, started: float, ended: float) -> None:
    """Where the latest Dagster run's process spent its time: before the run started (imports, the
    definitions, the instance), each step, and after the run ended."""
    from dagster import DagsterEventType, DagsterInstance

    instance = DagsterInstance.from_config(str(dagster_home))
    (record,) = instance.get_run_records(limit=1)
    events = [e for e in instance.all_logs(record.dagster_run.run_id) if e.is_dagster_event]
    starts = {e.step_key: e.timestamp for e in events if e.dagster_event_type == DagsterEventType.STEP_START}
    ends = {
        e.step_key: e.timestamp
        for e in events
        if e.dagster_event_type in (DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE)
    }
    run_start = min(e.timestamp for e in events)
    run_end = max(e.timestamp for e in events)
    parts = [("before the run (imports, definitions, run)", run_start - started)]
    parts += [(step, ends.get(step, run_end) - begun) for step, begun in sorted(starts.items(), key=lambda s: s[1])]
    parts += [("after the run (status, exit)", ended - run_end)]
    print(f"{'':14}" + "; ".join(f"{name} {seconds:.1f} s" for name, seconds in parts))


def print_slowest_nodes(target: Path, count: int = 8) -> None:
    """The newest dbt run's slowest nodes (dagster-dbt writes one target folder per run)."""
    import json

    runs = sorted(target.glob("warehouse_models-*/run_results.json"), key=lambda p: p.stat().st_mtime)
    if not runs:
        return
    results = json.loads(runs[-1].read_text())
    nodes = sorted(results["results"], key=lambda r: r["execution_time"], reverse=True)
    total = sum(r["execution_time"] for r in results["results"])
    print(f"{'':14}dbt {results['elapsed_time']:.1f} s ({total:.1f} s in nodes); slowest:")
    for node in nodes[:count]:
        print(f"{'':16}{node['execution_time']:6.1f} s  {node['unique_id'].split('.', 2)[-1]}")


def size_gb(path: Path) -> float:
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()] if path.is_dir() else []
    return sum(p.stat().st_size for p in files) / 2**30


def print_disk(work: Path, landing: Path) -> None:
    """What each part takes on disk: the growth law's other half (a 10M run is 10x these)."""
    parts = {
        "landing (CSV)": landing,
        "warehouse, full pipeline": work / "warehouse.duckdb",
        "warehouse, monthly runs": work / "monthly.duckdb",
        "published copy": work / "published",
        "bureau files": work / "submissions",
        "validation reports": work / "validation_reports",
        "Dagster home": work / "dagster_home",
        "baseline": work / "handwritten.duckdb",
    }
    print("disk:")
    for label, path in parts.items():
        print(f"  {label:<26}{size_gb(path):8.2f} GB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--work-dir", help="where to write (default: a new temp folder, kept)")
    parser.add_argument("--landing", help="use this landing zone instead of generating one")
    parser.add_argument(
        "--growth", action="store_true", help="only the full pipeline and the monthly run, and the disk (growth law)"
    )
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
    figures["full pipeline"] = timed("full pipeline", [*cli, "run", "--full-refresh"], env)
    last, half = months[-1], len(months) // 2
    # Half the history: the same book generated from the middle month on (its own landing: a CDC extract
    # cut in the middle has bills of accounts it never opened), the last month the same calendar month.
    landings = [("", landing, months[:-1])]
    if not args.growth:
        landing_half = work / "landing_half"
        shutil.rmtree(landing_half, ignore_errors=True)
        rollout = GeneratorConfig().rollout_month - half
        gen = ["generate", "--customers", str(args.customers), "--first-month", months[half]]
        gen += ["--months", str(len(months) - half), "--rollout-month", str(rollout), "--out", str(landing_half)]
        figures["generate, half"] = timed("generate, half", [*cli, *gen], env)
        landings.append((", half", landing_half, months[half:-1]))
    for label, batches, history in landings:
        path = work / f"monthly{label.replace(', ', '_')}.duckdb"
        path.unlink(missing_ok=True)
        suffix = label.replace(", ", "_")
        step_env = {
            **env,
            "CRW_WAREHOUSE": str(path),
            "CRW_LANDING": str(batches),
            "CRW_SUBMISSIONS": str(work / f"submissions_monthly{suffix}"),
            "DBT_TARGET_PATH": str(work / f"target_monthly{suffix}"),
        }
        loads = [arg for month in history for arg in ("--month", month)]
        figures[f"run{label}"] = timed(f"run{label}", [*cli, "run", *loads], step_env)
        backfill = ["backfill", "--from", last, "--to", last]
        started = time.time()
        figures[f"monthly{label}"] = timed(f"monthly{label}", [*cli, *backfill], step_env)
        print_run_breakdown(Path(env["DAGSTER_HOME"]), started, time.time())
        print_slowest_nodes(Path(step_env["DBT_TARGET_PATH"]))
    monthly = work / "monthly.duckdb"
    if args.growth:
        print(f"monthly run / full pipeline  {figures['monthly'] / figures['full pipeline']:5.1%}")
        print_disk(work, landing)
        return
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
    full = figures["full pipeline"]
    print(f"end to end           full pipeline / baseline  {full / figures['baseline']:5.2f}x")
    print(f"transformation only  dbt build / baseline SQL  {figures['dbt build'] / figures['baseline SQL']:5.2f}x")
    print(f"monthly run          / full pipeline           {figures['monthly'] / full:5.1%}")
    print(f"monthly run          all history / half of it  {figures['monthly'] / figures['monthly, half']:5.2f}x")
    print("baseline marts against the pipeline's (rows differing):")
    print(f"  after the monthly runs  {differing_rows(monthly, baseline)}")
    print(f"  after the full build    {differing_rows(warehouse, baseline)}")
    print_disk(work, landing)


if __name__ == "__main__":
    main()
