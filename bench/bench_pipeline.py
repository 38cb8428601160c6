"""Benchmark: generate N customers x M months, load raw, build the reporting mart, write every month's
bureau file, run the pipeline.

Prints wall time and peak RSS of each step (each step runs as its own process, so its peak
memory is its own). Figures, not pass/fail:

    .venv/bin/python bench/bench_pipeline.py --customers 1000000
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DBT_DIR = Path(__file__).resolve().parent.parent / "dbt_project"
LOAD_ONLY = """
import sys, time
from pathlib import Path
start = time.perf_counter()
import ingestion.raw_load as raw_load  # imports great_expectations
import_seconds = time.perf_counter() - start
import duckdb
gate_seconds = 0.0
run_gate = raw_load._run_gate
def timed_gate(*args):  # the GX validation of each file: the gate's cost
    global gate_seconds
    start = time.perf_counter()
    try:
        return run_gate(*args)
    finally:
        gate_seconds += time.perf_counter() - start
raw_load._run_gate = timed_gate
con = duckdb.connect(sys.argv[2])
for batch in sorted(p for p in Path(sys.argv[1]).iterdir() if p.is_dir()):
    raw_load.load_batch(con, batch)
print(gate_seconds)
print(import_seconds)
print(sum(con.execute(f"select count(*) from raw.{t}").fetchone()[0] for t in
      ["customers", "accounts", "agreements", "invitations", "bills", "repayments", "account_snapshots"]))
"""


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS in MB, and stdout of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    out = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.exit(f"step failed ({proc.returncode}): {' '.join(cmd)}\n{out[-2000:]}")
    return time.perf_counter() - start, usage.ru_maxrss / 1024, out


def duckdb_count(path: Path, relation: str) -> int:
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(f"select count(*) from {relation}").fetchone()[0]
    finally:
        con.close()


def folder_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--format", choices=["csv", "parquet"], default="csv")
    parser.add_argument("--skip-pipeline", action="store_true", help="generate and load raw only")
    parser.add_argument("--work-dir", help="where to write (default: a temp folder, removed after)")
    args = parser.parse_args()

    work = Path(args.work_dir or tempfile.mkdtemp(prefix="crw-bench-"))
    landing = work / "landing"
    env = {**os.environ, "CRW_LANDING": str(landing), "DAGSTER_HOME": str(work / "dagster_home")}
    py = sys.executable
    print(f"customers={args.customers:,} months={args.months} format={args.format} cores={os.cpu_count()}")

    gen_s, gen_mb, _ = timed(
        [
            py,
            "-m",
            "orchestration.cli",
            "generate",
            "--customers",
            str(args.customers),
            "--months",
            str(args.months),
            "--format",
            args.format,
            "--out",
            str(landing),
        ],
        env,
    )
    print(f"generate      {gen_s:8.1f} s   peak RSS {gen_mb:7.0f} MB   landing {folder_mb(landing):8.0f} MB")

    load_s, load_mb, out = timed([py, "-c", LOAD_ONLY, str(landing), str(work / "raw_only.duckdb")], env)
    gate_text, import_text, rows_text = out.strip().splitlines()[-3:]
    gate_s, import_s, rows = float(gate_text), float(import_text), int(rows_text)
    print(f"raw load      {load_s:8.1f} s   peak RSS {load_mb:7.0f} MB   {rows:,} rows ({rows / load_s:,.0f} rows/s)")
    print(f"  of which GX {gate_s:8.1f} s   ({gate_s / load_s:.0%} of the load: the landing gate's suites)")
    print(f"  and imports {import_s:8.1f} s   (the loader's modules, great_expectations among them)")

    dbt = str(Path(py).parent / "dbt")
    mart_env = {**env, "CRW_WAREHOUSE": str(work / "raw_only.duckdb"), "CRW_DUCKDB_TEMP_DIR": str(work / "tmp")}
    dbt_args = ["--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR), "--target-path", str(work / "target")]
    mart_s, mart_mb, _ = timed([dbt, "run", "--select", "+credit_report_monthly", *dbt_args], mart_env)
    records = duckdb_count(work / "raw_only.duckdb", "marts.credit_report_monthly")
    print(f"reporting mart{mart_s:8.1f} s   peak RSS {mart_mb:7.0f} MB   {records:,} records")

    # dbt ran outside Dagster, so nothing cleared the loads' rebuild queue: this run knows it passed
    import duckdb

    with duckdb.connect(str(work / "raw_only.duckdb")) as con:
        con.execute("delete from audit.months_to_rebuild")
    submit_env = {
        **mart_env,
        "CRW_SUBMISSIONS": str(work / "submissions"),
        "CRW_SUBMISSION_TIME": "2026-01-01T09:00:00+08:00",
        "CRW_PUBLISHED": str(work / "published.duckdb"),  # none yet: the submission publishes no copy
    }
    submit_s, submit_mb, _ = timed([py, "-m", "orchestration.cli", "submit", "--all"], submit_env)
    sent = duckdb_count(work / "raw_only.duckdb", "audit.bureau_records")
    print(
        f"bureau files  {submit_s:8.1f} s   peak RSS {submit_mb:7.0f} MB   {sent:,} records in"
        f" {len(list((work / 'submissions').glob('*.txt')))} files, {folder_mb(work / 'submissions'):.0f} MB"
        f" ({submit_s / mart_s:.0%} of the mart's build; checks S1-S6 included)"
    )

    if not args.skip_pipeline:
        env["CRW_WAREHOUSE"] = str(work / "warehouse.duckdb")
        run_s, run_mb, _ = timed([py, "-m", "orchestration.cli", "run"], env)
        size = (work / "warehouse.duckdb").stat().st_size / 2**20
        print(
            f"pipeline run  {run_s:8.1f} s   peak RSS {run_mb:7.0f} MB   warehouse {size:8.0f} MB"
            " (Dagster loads + dbt build)"
        )
    if not args.work_dir:
        subprocess.run(["rm", "-rf", str(work)], check=False)


if __name__ == "__main__":
    main()
