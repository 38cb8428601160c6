"""Benchmark: deduplicated staging as a view (every read ranks every raw row) against the table kept
as batches load (stg_landing__bills, __repayments), on a built warehouse. Prints, per table, one read
of the view's query (the latest version of every key, as the view computed it at each read) and one
read of the kept table, each as the FIFO reads it (joined to the consented accounts). The monthly
run's upkeep of the tables is in bench_vs_baseline.py's slowest nodes. Figures, not pass/fail:

    .venv/bin/python bench/bench_staging_state.py /tmp/bench1m/monthly.duckdb
"""

from __future__ import annotations

import argparse
import time

import duckdb

TABLES = {"bills": "bill_id", "repayments": "repayment_id"}


def timed(con: duckdb.DuckDBPyConnection, sql: str) -> float:
    start = time.perf_counter()
    con.execute(sql).fetchall()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("warehouse")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    con = duckdb.connect(args.warehouse, read_only=True, config={"memory_limit": "8GB", "threads": 2})
    consented = "(select account_id from intermediate.int_bill_coverage)"  # accounts the FIFO covers
    for table, key in TABLES.items():
        raw_rows = con.execute(f"select count(*) from raw.{table}").fetchone()[0]
        ranked = (
            f"from raw.{table} qualify row_number() over "
            f"(partition by {key} order by _batch_month desc, _source_row desc) = 1"
        )
        reads = {
            "view (ranks every raw row)": f"select count(*), sum(account_id is null) from ({ranked}) "
            f"where account_id in {consented}",
            "kept table": f"select count(*), sum(account_id is null) from staging.stg_landing__{table} "
            f"where account_id in {consented}",
        }
        print(f"{table}: {raw_rows:,} raw rows")
        for label, sql in reads.items():
            seconds = sorted(timed(con, sql) for _ in range(args.repeat))
            print(f"  {label:<28} median {seconds[len(seconds) // 2]:6.2f} s  (min {seconds[0]:.2f})")
    con.close()


if __name__ == "__main__":
    main()
