"""Benchmark: what the rollout forecast costs a build, beside the coverage cube, and its backtest error.

On a built warehouse (`--warehouse`, e.g. data/warehouse.duckdb after `make run`) or on N generated
customers (generated, loaded and built up to the cube here), it times `dbt run` of the forecast's two
models and of the cube's two, each as its own process, then prints the backtest (the forecasts made
3 and 6 months before the last batch against what happened) per product and cohort dimension.
Figures, not pass/fail:

    .venv/bin/python bench/bench_forecast.py --warehouse data/warehouse.duckdb
    .venv/bin/python bench/bench_forecast.py --customers 1000000 --work-dir /tmp/bench-forecast
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import duckdb
from bench_pipeline import DBT_DIR, LOAD_ONLY, timed

from foundation import rollout_pace

FORECAST = ["int_rollout_forecast_state", "rollout_forecast"]
CUBE = ["int_cohort_months", "fct_rollout_coverage"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--warehouse", type=Path, help="a built warehouse (the models are rebuilt in it)")
    parser.add_argument("--customers", type=int, default=20_000, help="without --warehouse: generate this many")
    parser.add_argument("--work-dir", type=Path, help="where to generate and build (default: a temp folder)")
    args = parser.parse_args()
    py = sys.executable
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="crw-bench-forecast-"))
    work.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "CRW_DUCKDB_TEMP_DIR": str(work / "tmp"), "DAGSTER_HOME": str(work / "dagster_home")}
    dbt = str(Path(py).parent / "dbt")
    dbt_args = ["--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR), "--target-path", str(work / "target")]

    warehouse = args.warehouse or work / "warehouse.duckdb"
    env["CRW_WAREHOUSE"] = str(warehouse.resolve())
    if args.warehouse is None and not warehouse.exists():
        landing = work / "landing"
        generate = [py, "-m", "orchestration.cli", "generate", "--customers", str(args.customers), "--out"]
        seconds, _, _ = timed([*generate, str(landing)], env)
        print(f"generate           {seconds:8.1f} s")
        seconds, _, _ = timed([py, "-c", LOAD_ONLY, str(landing), str(warehouse)], env)
        print(f"raw load           {seconds:8.1f} s")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        built = con.execute("select count(*) from duckdb_tables() where table_name = 'fct_rollout_coverage'").fetchone()
    if not built[0]:
        seconds, _, _ = timed([dbt, "run", "--select", "+fct_rollout_coverage", *dbt_args], env)
        print(f"models to the cube {seconds:8.1f} s")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        customers = con.execute("select count(*) from staging.stg_landing__customers").fetchone()[0]
        months = con.execute("select count(*) from intermediate.int_reporting_months").fetchone()[0]
    print(f"warehouse {warehouse}: {customers:,} customers, {months} reporting months")

    for name, models in (("coverage cube", CUBE), ("forecast", FORECAST)):
        seconds, rss, _ = timed([dbt, "run", "--full-refresh", "--select", *models, *dbt_args], env)
        print(f"{name:<14} {seconds:8.1f} s   peak RSS {rss:7.0f} MB   ({' + '.join(models)}, dbt start-up included)")

    with duckdb.connect(str(warehouse), read_only=True) as con:
        con.execute("set search_path = 'marts'")
        rows = con.execute("select count(*) from rollout_forecast").fetchone()[0]
        state = con.execute("select count(*) from intermediate.int_rollout_forecast_state").fetchone()[0]
        print(f"rows: state {state:,}, forecast {rows:,}")
        backtest = con.execute(rollout_pace.BACKTEST_SQL).df()
    print("backtest: mean (largest) absolute error in coverage points, share of cohort-months within the band")
    for _, row in backtest.iterrows():
        print(
            f"  as of {row.as_of_month:%Y-%m} ({row.months_before} months before)  {row['product']:<6}  "
            f"{rollout_pace.DIMENSIONS[row.cohort_dimension]:<10}  {row.mean_error_points:5.1f} "
            f"({row.max_error_points:5.1f})  within {row.share_within_band:4.0%}"
        )


if __name__ == "__main__":
    main()
