"""The rebuild window: one decision, from the loader's queue and the run's partitions, passed to dbt one way."""

from __future__ import annotations

from datetime import date

from ingestion.rebuild import AFTER_EVERY_MONTH, WINDOW_ENV, RebuildWindow, rebuild_window
from orchestration.settings import DBT_PROJECT_DIR


def test_a_run_without_batch_months_rebuilds_everything_whatever_is_queued():
    for queued in (None, date(2024, 5, 1)):
        window = rebuild_window(queued, runs_batches=False)
        assert window.full and window.dbt_args() == ["build", "--full-refresh"] and window.dbt_env() == {}


def test_a_monthly_run_rebuilds_from_the_earliest_queued_month():
    window = rebuild_window(date(2024, 5, 1), runs_batches=True)
    assert not window.full and window.dbt_args() == ["build"]
    assert window.dbt_env() == {WINDOW_ENV: "2024-05-01"}
    assert window.describe() == "incremental build: reporting months from 2024-05 on"


def test_a_monthly_run_with_nothing_queued_keeps_every_month():
    window = rebuild_window(None, runs_batches=True)
    assert window == RebuildWindow(AFTER_EVERY_MONTH) and window.dbt_args() == ["build"]
    assert window.dbt_env() == {WINDOW_ENV: "9999-12-01"}
    assert "every month kept" in window.describe()


def test_dbt_reads_the_window_from_that_variable_and_nothing_else():
    macros = (DBT_PROJECT_DIR / "macros" / "rebuild_window.sql").read_text()
    assert f'env_var("{WINDOW_ENV}", "0001-01-01")' in macros
    project = (DBT_PROJECT_DIR / "dbt_project.yml").read_text()
    assert "rebuild_from_month" not in project and 'var("rebuild_from_month")' not in macros
