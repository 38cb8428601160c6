"""The monthly job's kept state over two years of batches: twelve months run one by one, then twelve
more as one backfill, equal one full build of the 24, table by table (every mart and intermediate
table, the staging tables kept as batches load and the coverage cube's cells among them)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import dbt_build, differing_rows, failure_message, load_all, mark_kept_month, monthly_run, query

from source_system import GeneratorConfig, generate_landing

TWO_YEARS = GeneratorConfig(customers=250, months=24, rollout_month=8, seed=11)
MONTHS = [f"{year}-{month:02d}" for year in (2024, 2025) for month in range(1, 13)]
KEPT = "2024-06"  # before any window of the second year's batches


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("two-years") / "landing"
    generate_landing(TWO_YEARS, out)
    return out


def first_year_waves(warehouse: Path) -> set[str]:
    sql = "select distinct wave_label from marts.fct_rollout_coverage where month < date '2025-01-01'"
    rows = query(warehouse, sql)
    return {label for (label,) in rows}


def test_twelve_months_one_by_one_then_twelve_more_equal_one_full_build_of_24(instance, landing, tmp_path):
    monthly = tmp_path / "monthly" / "w.duckdb"
    monthly.parent.mkdir()
    for month in MONTHS[:12]:
        monthly_run(instance, monthly, landing, month)
    waves_before = first_year_waves(monthly)
    mark_kept_month(monthly, KEPT)
    monthly_run(instance, monthly, landing, MONTHS[12], last=MONTHS[-1])
    stamped = query(
        monthly,
        "select count(*) from marts.credit_report_monthly where amount_paid < 0 and report_month = ?::date",
        [KEPT + "-01"],
    )[0][0]
    assert stamped > 0  # the first year's months were kept, not rebuilt
    mark_kept_month(monthly, KEPT)

    # the second year's invitations relabelled the first year's months (R16) instead of rebuilding them
    assert first_year_waves(monthly) > waves_before, (waves_before, first_year_waves(monthly))

    full = tmp_path / "full" / "w.duckdb"
    full.parent.mkdir()
    load_all(instance, full, landing)
    build = dbt_build(instance, full)
    assert build.success, failure_message(build)
    differing = differing_rows(full, monthly)
    kept_state = {"staging.stg_landing__bills", "staging.stg_landing__repayments", "intermediate.int_coverage_cells"}
    assert kept_state | {"marts.fct_rollout_coverage", "marts.credit_report_monthly"} <= set(differing)
    assert len(differing) >= 15 and not any(differing.values()), differing
