"""Benchmark: dashboard page load times in headless Chromium against `streamlit run`.

Loads every page of the published copy once cold (first visit, caches empty) and then `--rounds`
times warm, timing navigation until the page has run to its footer and drawn its charts. With
`--screenshots DIR` it also saves one PNG per page (the README's screenshots). Figures, not pass/fail:

    .venv/bin/python bench/bench_dashboard.py                      # data/published/analytics_snapshot.duckdb
    .venv/bin/python bench/bench_dashboard.py --screenshots docs/screenshots
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import duckdb

from devtools import browser, dagster_ui
from orchestration import settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--published", type=Path, default=settings.published_path(), help="published copy to serve")
    parser.add_argument("--rounds", type=int, default=3, help="warm loads per page (default %(default)s)")
    parser.add_argument("--screenshots", type=Path, help="save a PNG of every page here")
    args = parser.parse_args()
    if not args.published.is_file():
        raise SystemExit(f"no published copy at {args.published}: run `make run` first")
    con = duckdb.connect(str(args.published), read_only=True)
    cells = con.execute("select count(*) from analytics.rollout_coverage").fetchone()[0]
    as_of = con.execute("select data_as_of from analytics.publication").fetchone()[0]
    # the Compliance page answering for a customer with a month past due (its screenshot shows one)
    customer = con.execute(
        "select min(customer_id) from analytics.compliance_records where month_status in ('2', '3')"
    ).fetchone()[0]
    con.close()
    size = args.published.stat().st_size / 2**20
    print(f"published copy: {args.published} ({size:.1f} MB, {cells:,} coverage cube rows, data as of {as_of})")
    if args.screenshots:
        args.screenshots.mkdir(parents=True, exist_ok=True)
    print(f"{'page':<14}{'cold s':>8}{'warm s (median)':>18}")
    with browser.serve(args.published) as url, browser.chromium() as page:
        for path in browser.PAGES:
            query = f"customer={customer}" if path == "compliance" and customer else ""
            cold = browser.open_page(page, url, path, query)
            warm = [browser.open_page(page, url, path, query) for _ in range(args.rounds)]
            print(f"{path:<14}{cold:>8.2f}{statistics.median(warm):>18.2f}")
            if args.screenshots:
                page.wait_for_timeout(1500)  # tables draw on a canvas after the page has run
                page.screenshot(path=str(args.screenshots / f"{path}.png"))
                if path == "waves":  # the Pace section, below the funnel
                    browser.show_pace(page)
                    page.wait_for_timeout(1500)
                    page.screenshot(path=str(args.screenshots / "waves-pace.png"))
    if args.screenshots:  # the Dagster UI on the same warehouse: the marts' lineage, as `make dagster` shows it
        started = time.perf_counter()
        with dagster_ui.serve({"CRW_LANDING": str(args.published.parent / "no-landing")}) as (url, _):
            loaded = time.perf_counter() - started
            with browser.chromium(height=1000) as page:
                dagster_ui.open_asset_group(page, url, "marts", "credit_report_monthly")
                page.wait_for_timeout(2000)
                page.screenshot(path=str(args.screenshots / "dagster-marts.png"))
        print(f"Dagster UI: code location loaded in {loaded:.1f} s")


if __name__ == "__main__":
    main()
