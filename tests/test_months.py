"""Month arithmetic on batch keys: the year boundary and the local month start (R1)."""

from datetime import UTC, date, datetime

import yaml

from foundation.months import (
    BUSINESS_TIMEZONE,
    consecutive_stretches,
    first_day,
    is_batch_month,
    month_start,
    months_between,
    shift_month,
)
from orchestration.settings import DBT_PROJECT_DIR


def test_shifting_crosses_year_boundaries_both_ways():
    assert shift_month("2024-12", 1) == "2025-01"
    assert shift_month("2025-01", -1) == "2024-12"
    assert shift_month("2024-05", 0) == "2024-05"
    assert shift_month("2024-05", -17) == "2022-12"


def test_a_range_holds_every_month_from_first_to_last():
    assert months_between("2024-11", "2025-02") == ["2024-11", "2024-12", "2025-01", "2025-02"]
    assert months_between("2024-05", "2024-05") == ["2024-05"]
    assert months_between("2024-06", "2024-05") == []


def test_months_cut_into_stretches_where_one_is_missing_the_year_boundary_not_a_cut():
    assert consecutive_stretches(["2024-11", "2024-12", "2025-01", "2025-03"]) == [
        ["2024-11", "2024-12", "2025-01"],
        ["2025-03"],
    ]
    assert consecutive_stretches([]) == []


def test_a_month_starts_at_local_midnight_in_china():
    assert month_start("2025-01").astimezone(UTC) == datetime(2024, 12, 31, 16, 0, tzinfo=UTC)


def test_only_real_months_are_batch_keys():
    assert is_batch_month("2024-12")
    assert not any(is_batch_month(name) for name in ("2024-13", "2024-1", "2024-00", "202412", "2024-12x"))


def test_a_month_is_keyed_by_its_first_day():
    assert first_day("2024-12") == date(2024, 12, 1) and first_day("2025-01") == month_start("2025-01").date()


def test_dbt_reads_the_business_time_zone_python_uses():
    project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())
    assert project["vars"]["business_timezone"] == BUSINESS_TIMEZONE
    macros = (DBT_PROJECT_DIR / "macros" / "local_time.sql").read_text()
    assert BUSINESS_TIMEZONE not in macros  # written once, in the var
