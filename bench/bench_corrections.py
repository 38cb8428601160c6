"""Benchmark: what issue 19 adds to a month on a submitted warehouse (e.g. bench_pipeline.py's
`--work-dir` after `--skip-pipeline`: raw_only.duckdb and submissions/).

On a copy: the ledger's upgrade if it predates corrections; a submission run with nothing changed
(the comparison every monthly run pays); one after changing 1,000 records' amount paid, removing
100 records and renaming 10 accounts' customer (corrections written); the compliance views and
`explain` for one customer. Figures, not pass/fail:

    .venv/bin/python bench/bench_corrections.py --warehouse /tmp/b1m/raw_only.duckdb --submissions /tmp/b1m/submissions
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb

from bureau.ledger import ensure_ledger
from bureau.submit import submit_months
from compliance.explain import Query, explain

ORG = "TEST0000000001"
DBT_DIR = Path(__file__).resolve().parent.parent / "dbt_project"
CHANGES = (
    """update marts.credit_report_monthly set amount_paid = amount_paid + 1
       where (account_id, report_month) in (select account_id, report_month from marts.credit_report_monthly
                                            order by hash(account_id, report_month) limit 1000)""",
    """delete from marts.credit_report_monthly
       where (account_id, report_month) in (select account_id, report_month from marts.credit_report_monthly
                                            where report_reason_code = '30' order by hash(report_month, account_id)
                                            limit 100)""",
    """update marts.credit_report_monthly set full_name = full_name || '甲'
       where account_id in (select distinct account_id from marts.credit_report_monthly
                            order by hash(account_id) limit 10)""",
)


def timed(label: str, work):
    start = time.perf_counter()
    result = work()
    print(f"{label:<34}{time.perf_counter() - start:8.1f} s", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, required=True)
    parser.add_argument("--submissions", type=Path, required=True)
    parser.add_argument("--work-dir", type=Path, help="where the copies go (default: beside the warehouse)")
    args = parser.parse_args()
    work = args.work_dir or args.warehouse.parent / "bench-corrections"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    warehouse, out = work / "w.duckdb", work / "submissions"
    shutil.copy(args.warehouse, warehouse)
    shutil.copytree(args.submissions, out)
    con = duckdb.connect(str(warehouse), config={"memory_limit": "8GB"})
    records = con.execute("select count(*) from marts.credit_report_monthly").fetchone()[0]
    print(f"{records:,} records in the mart, {len(list(out.glob('*.txt')))} files")
    timed("ledger upgrade (once, if older)", lambda: ensure_ledger(con))
    at = datetime(2026, 2, 1, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    timed("a run, nothing changed", lambda: list(submit_months(con, [], out, ORG, at, 0.01)))
    for change in CHANGES:
        con.execute(change)
    outcomes = timed("a run with corrections", lambda: list(submit_months(con, [], out, ORG, at.replace(day=2), 0.01)))
    for outcome in outcomes:
        print(f"  {outcome.message}")
    con.close()
    dbt = str(Path(sys.executable).parent / "dbt")
    timed(
        "the compliance views (dbt run)",
        lambda: subprocess.run(
            [dbt, "run", "--quiet", "--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR)]
            + ["--target-path", str(work / "target"), "--select", "analytics__compliance_*"]
            + ["analytics__load_batches", "analytics__submission_months"],
            env={**os.environ, "CRW_WAREHOUSE": str(warehouse)},
            check=True,
        ),
    )
    con = duckdb.connect(str(warehouse), read_only=True)
    customer = con.execute(
        "select min(customer_id) from marts.credit_report_monthly where month_status in ('2', '3')"
    ).fetchone()[0]
    timed(f"explain {customer} (warehouse)", lambda: explain(con, Query(customer=customer)))
    copy = duckdb.connect(str(work / "compliance_copy.duckdb"))
    copy.execute(f"attach '{warehouse}' as warehouse (read_only)")
    copy.execute("create schema analytics")
    con.close()
    names = [
        r[0]
        for r in copy.execute(
            "select table_name from information_schema.tables where table_catalog = 'warehouse'"
            " and table_schema = 'analytics' and (table_name like 'compliance%' or table_name in"
            " ('load_batches', 'submission_months')) order by 1"
        ).fetchall()
    ]
    for name in names:
        timed(
            f"  publish {name}",
            lambda n=name: copy.execute(f"create table analytics.{n} as from warehouse.analytics.{n}"),
        )
    copy.execute("detach warehouse")
    timed(f"explain {customer} (copy)", lambda: explain(copy, Query(customer=customer)))
    copy.close()
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
