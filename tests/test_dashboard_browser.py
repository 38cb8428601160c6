"""End to end in a real headless Chromium against `streamlit run`: every page loads, a cohort choice
redraws the chart, SQL returns rows and refuses writes and file reads, and the dashboard keeps
serving while a pipeline run holds the warehouse and then publishes a new copy."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import query

from devtools import browser
from orchestration import settings
from orchestration.analytics_copy import publish_analytics

EXCEPTION = '[data-testid="stException"]'


@pytest.fixture(scope="module")
def page():
    with browser.chromium() as page:  # one Playwright per process: its sync API runs an event loop
        yield page


@pytest.fixture(scope="module")
def dashboard(small_submitted, page):
    with browser.serve(small_submitted[1]) as url:
        yield url, page


def test_every_page_loads(dashboard):
    url, page = dashboard
    titles = {
        "overview": "Overview",
        "cohorts": "Coverage by cohort",
        "waves": "Invitation waves",
        "reporting": "Reporting months",
        "submissions": "Submissions",
        "compliance": "Compliance",
        "data-quality": "Data quality",
        "sql": "SQL",
    }
    assert set(titles) == set(browser.PAGES)
    for name, title in titles.items():
        browser.open_page(page, url, name)
        assert page.locator(EXCEPTION).count() == 0, name
        assert page.get_by_text("Page not found").count() == 0, name
        assert page.locator("h1").first.inner_text().strip() == title
        body = page.inner_text("body")
        assert "Data as of" in body and "China time" in body  # the publication time as the business reads it


def _choose_and_see_it_redrawn(page, name: str, select, chart, option: str, heading: str) -> None:
    """Pick `option` in the select box, wait for the heading it brings, and see the chart change."""
    before = chart.screenshot()
    select.click()
    page.get_by_role("option", name=option).click()
    page.get_by_text(heading).first.wait_for()
    browser.wait_rendered(page, browser.PAGES[name][1])
    page.wait_for_timeout(500)  # the Vega view redraws after its data arrives
    assert chart.screenshot() != before
    assert page.locator(EXCEPTION).count() == 0


def test_a_cohort_choice_redraws_the_chart(dashboard):
    url, page = dashboard
    browser.open_page(page, url, "cohorts")
    chart = page.locator('[data-testid="stVegaLiteChart"]').first
    select = page.get_by_test_id("stSelectbox").first
    _choose_and_see_it_redrawn(page, "cohorts", select, chart, "Age band", "by age band")


def test_the_pace_section_draws_and_follows_the_cohort_choice(dashboard):
    url, page = dashboard
    browser.open_page(page, url, "waves")
    browser.show_pace(page)
    chart = page.locator('[data-testid="stVegaLiteChart"]').last
    assert chart.bounding_box()["height"] > 200  # drawn, not an empty frame
    for label in ("Invited a month", "Account coverage now", "In 12 months", "90% coverage by"):
        assert page.get_by_test_id("stMetricLabel").filter(has_text=label).count() == 1
    select = page.get_by_test_id("stSelectbox").last
    _choose_and_see_it_redrawn(page, "waves", select, chart, "Limit band", "projected, by limit band")


def _run_sql(page, url: str, sql: str) -> str:
    browser.open_page(page, url, "sql")
    box = page.locator('[data-testid="stTextArea"] textarea')
    box.fill(sql)
    page.get_by_role("button", name="Run").click()
    outcome = page.get_by_test_id("stAlertContentError").or_(page.get_by_text(re.compile(r"^[\d,]+ rows")))
    outcome.first.wait_for()
    return outcome.first.inner_text()


def test_sql_returns_rows_and_refuses_writes_and_file_reads(dashboard, small_submitted):
    url, page = dashboard
    expected = query(small_submitted[0], "select count(distinct month) from marts.fct_rollout_coverage")[0][0]
    assert _run_sql(page, url, "select distinct month from rollout_coverage").startswith(f"{expected} rows")
    assert "read-only" in _run_sql(page, url, "create table t as select 1")
    assert "disabled by configuration" in _run_sql(page, url, "select * from read_csv('/etc/passwd')")


def _holds_open(path: Path) -> bool:
    """Whether any process has the file open (read from /proc, without opening it: a reader would block the writer)."""
    for fd_dir in Path("/proc").glob("[0-9]*/fd"):
        try:
            if any(os.readlink(fd) == str(path) for fd in fd_dir.iterdir()):
                return True
        except OSError:
            continue
    return False


def test_the_dashboard_serves_while_a_run_writes_the_warehouse(small_published, page, small_landing, tmp_path):
    warehouse, _ = small_published
    live = Path(shutil.copy(warehouse, tmp_path / "warehouse.duckdb"))
    published = tmp_path / "published" / "analytics_small_published.duckdb"
    env = {
        **os.environ,
        settings.WAREHOUSE_ENV: str(live),
        settings.LANDING_ENV: str(small_landing),
        settings.PUBLISHED_ENV: str(published),
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
    }
    publish_analytics(live, published, "before")

    with browser.serve(published) as url:
        browser.open_page(page, url, "overview")
        run = subprocess.Popen(
            [sys.executable, "-m", "orchestration.cli", "run", "--month", "2024-08"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        served, served_while_locked = 0, 0
        while run.poll() is None:
            locked = _holds_open(live)
            browser.open_page(page, url, "overview")
            assert page.locator(EXCEPTION).count() == 0
            served += 1
            served_while_locked += locked and _holds_open(live)
            time.sleep(0.2)
        output = run.stdout.read()
        assert run.returncode == 0, output
        assert served_while_locked >= 1, (served, served_while_locked)
        print(f"pages served during the run: {served}, while the warehouse was held: {served_while_locked}")
        run_after = query(published, "select run_id from analytics.publication")[0][0]
        assert run_after != "before"
        browser.open_page(page, url, "overview")
        assert run_after[:8] in page.inner_text("body")


def test_compliance_answers_a_customer_key_typed_in(dashboard, small_submitted):
    url, page = dashboard
    customer, account = query(
        small_submitted[0], "select customer_id, min(account_id) from marts.credit_report_monthly group by 1 limit 1"
    )[0]
    browser.open_page(page, url, "compliance")
    box = page.locator('[data-testid="stTextInput"] input')
    box.fill(customer)
    box.press("Enter")
    page.get_by_text(f"Account {account}").first.wait_for()
    assert page.locator(EXCEPTION).count() == 0
    assert f"Customer {customer}" in page.inner_text("body")
    assert page.url.endswith(f"?customer={customer}")  # the answer can be linked to
    browser.open_page(page, url, "compliance", f"customer={customer}")
    page.get_by_text(f"Account {account}").first.wait_for()
