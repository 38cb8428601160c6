"""The rollout pace forecast (marts.rollout_forecast): by hand on small cohorts whose answer is known,
then on generated data: it starts where the coverage cube stands, its band holds the central figure,
and a backtest reads nothing after its as-of month (the same forecast from a warehouse that never
saw the later batches). Also its two readers: `credit-reporting-warehouse forecast` and its errors."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from conftest import SMALL_MONTHS, dbt_cli, query

from foundation.published_copy import PUBLISHED_ENV

STATE_COLUMNS = """
    as_of_month date, customer_id varchar, product varchar, sesame_score integer, score_band varchar,
    province_code varchar, limit_band varchar, wave_label varchar, invited_month date, consented_month date,
    opted_out boolean, active_accounts bigint, reported_accounts bigint, total_balance decimal(18,2),
    reported_balance decimal(18,2), open_accounts bigint, reported_open_accounts bigint,
    open_balance decimal(18,2), reported_open_balance decimal(18,2)
"""
CONSTANT, FLAT, FULL = dt.date(2025, 3, 1), dt.date(2030, 3, 1), dt.date(2035, 3, 1)  # one case per as-of month


def customer(as_of, key, *, product="HUABEI", wave=None, invited=None, consented=None, score=650, closing=False):
    """One customer with one account of balance 100, reported when consented."""
    reported = int(consented is not None)
    open_ = int(not closing)
    return (
        as_of, key, product, score, "650-699", "11", "1000-4999", wave or "not invited", invited, consented, False,
        1, reported, 100, 100 * reported, open_, reported * open_, 100 * open_, 100 * reported * open_,
    )  # fmt: skip


def hand_built_state() -> list[tuple]:
    month = dt.date
    rows = []
    # Constant pace and conversion: a wave of one a month for three months, each consenting at once;
    # twelve customers waiting. One more reported account a month: 3/15, 4/15, ... 15/15.
    for n, invited in enumerate([month(2025, 1, 1), month(2025, 2, 1), month(2025, 3, 1)], start=1):
        rows.append(customer(CONSTANT, f"C{n}", wave=f"wave {n}", invited=invited, consented=invited))
    rows += [customer(CONSTANT, f"CW{n:02d}", score=700 - n) for n in range(12)]
    # No invitation left: three waves of two, one of each consenting at once and the other never; the
    # last wave's unconsented customer would convert like the earlier waves did after month 0: not at all.
    for n, invited in enumerate([month(2030, 1, 1), month(2030, 2, 1), month(2030, 3, 1)], start=1):
        rows.append(customer(FLAT, f"F{n}a", wave=f"wave {n}", invited=invited, consented=invited))
        rows.append(customer(FLAT, f"F{n}b", wave=f"wave {n}", invited=invited))
    # Everyone consented before any invitation (one account closing this month): 100% stays 100%.
    rows += [
        customer(FULL, f"P{n}", product="JIEBEI", wave="pre-rollout", consented=month(2034, 1, 1)) for n in range(3)
    ]
    rows.append(customer(FULL, "P3", product="JIEBEI", wave="pre-rollout", consented=month(2034, 1, 1), closing=True))
    return rows


@pytest.fixture(scope="module")
def hand_built(tmp_path_factory) -> Path:
    """The forecast built by the real dbt model on a DuckDB file holding only the hand-built state."""
    warehouse = tmp_path_factory.mktemp("hand-built") / "w.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema intermediate")
        con.execute(f"create table intermediate.int_rollout_forecast_state ({STATE_COLUMNS})")
        con.executemany(
            f"insert into intermediate.int_rollout_forecast_state values ({', '.join(['?'] * 19)})",
            hand_built_state(),
        )
    result = dbt_cli("run", "-s", "rollout_forecast", warehouse=warehouse, target=warehouse.parent / "target")
    assert result.returncode == 0, result.stdout[-3000:]
    return warehouse


def projection(warehouse: Path, as_of: dt.date, dimension="all", value="all") -> list[tuple]:
    return query(
        warehouse,
        """select months_ahead, projected_active_accounts, projected_reported_accounts, account_coverage,
                  account_coverage_low, account_coverage_high, balance_coverage, reaches_90pct_month
           from marts.rollout_forecast
           where as_of_month = ? and cohort_dimension = ? and cohort_value = ? order by months_ahead""",
        [as_of, dimension, value],
    )


def test_a_constant_pace_and_conversion_give_a_straight_line(hand_built):
    rows = projection(hand_built, CONSTANT)
    assert [r[0] for r in rows] == list(range(13))
    for months_ahead, active, reported, coverage, low, high, balance, reaches in rows:
        assert active == 15 and reported == pytest.approx(3 + months_ahead)
        assert coverage == pytest.approx((3 + months_ahead) / 15) == pytest.approx(balance)
        assert low == pytest.approx(coverage) == pytest.approx(high)  # identical waves, one pace: no spread
        assert reaches == dt.date(2026, 2, 1)  # 14/15 is the first month at 90% or more: 11 months ahead
    waiting = projection(hand_built, CONSTANT, "wave_label", "not invited")
    assert [r[2] for r in waiting] == pytest.approx(list(range(13)))  # best score first, one a month


def test_no_invitation_left_gives_a_flat_line(hand_built):
    rows = projection(hand_built, FLAT)
    assert {(r[1], round(r[2], 9), round(r[3], 9)) for r in rows} == {(6, 3, 0.5)}
    assert {r[7] for r in rows} == {None}  # not within 12 months


def test_a_cohort_already_covered_stays_covered(hand_built):
    rows = projection(hand_built, FULL)
    assert rows[0][1:4] == (4, 4, 1.0)  # the month itself: the closing account is still active
    assert all(r[1] == 3 and r[2] == pytest.approx(3) and r[3] == pytest.approx(1.0) for r in rows[1:])
    assert {r[7] for r in rows} == {FULL}  # at 90% from the as-of month on


@pytest.fixture(scope="module")
def warehouse(small_warehouse) -> Path:
    path, build = small_warehouse
    assert build.success
    return path


def test_the_forecast_starts_where_the_coverage_cube_stands(warehouse):
    differing = query(
        warehouse,
        """
        with cube as (
            select month, product, score_band, province_code, limit_band, wave_label,
                   sum(active_accounts) as active, sum(reported_accounts) as reported
            from marts.fct_rollout_coverage group by all),
        by_cohort as (
            select month, product,
                   case when grouping(score_band) = 0 then 'score_band' when grouping(province_code) = 0
                        then 'province_code' when grouping(limit_band) = 0 then 'limit_band'
                        when grouping(wave_label) = 0 then 'wave_label' else 'all' end as dimension,
                   coalesce(score_band, province_code, limit_band, wave_label, 'all') as value,
                   sum(active) as active, sum(reported) as reported
            from cube
            group by grouping sets ((month, product), (month, product, score_band), (month, product, province_code),
                                    (month, product, limit_band), (month, product, wave_label))),
        start as (
            select as_of_month as month, product, cohort_dimension as dimension, cohort_value as value,
                   projected_active_accounts as active, projected_reported_accounts as reported
            from marts.rollout_forecast
            where months_ahead = 0 and as_of_month = (select max(as_of_month) from marts.rollout_forecast))
        select count(*) from (
            (from start except from by_cohort where month = (select max(month) from start))
            union all (from by_cohort where month = (select max(month) from start) except from start))
        """,
    )
    assert differing == [(0,)]
    (starts,) = query(warehouse, "select count(*) from marts.rollout_forecast where months_ahead = 0")
    assert starts[0] > 0


def test_the_band_holds_the_central_figure_and_every_as_of_month_is_kept(warehouse):
    (outside, rows, as_of, horizons) = query(
        warehouse,
        """select count(*) filter (where not (account_coverage_low <= account_coverage + 1e-12
                                             and account_coverage <= account_coverage_high + 1e-12)),
                  count(*), count(distinct as_of_month), count(distinct months_ahead)
           from marts.rollout_forecast""",
    )[0]
    assert outside == 0 and rows > 0 and as_of == 7 and horizons == 13
    backtested = query(
        warehouse,
        """select distinct as_of_month from marts.rollout_forecast
           where coverage_error_points is not null and months_ahead > 0 order by 1""",
    )
    assert [f"{m:%Y-%m}" for (m,) in backtested] == SMALL_MONTHS[1:-1]  # every as-of month but the last


PROJECTED = """select * exclude (actual_active_accounts, actual_reported_accounts, actual_account_coverage,
                                 actual_balance_coverage, coverage_error_points, within_band)
               from marts.rollout_forecast where as_of_month = ?"""


@pytest.mark.parametrize("months_before", [3, 6])
def test_a_backtest_reads_nothing_after_its_as_of_month(warehouse, tmp_path, months_before):
    as_of = dt.date.fromisoformat(SMALL_MONTHS[-1 - months_before] + "-01")
    truncated = tmp_path / "w.duckdb"
    shutil.copy(warehouse, truncated)
    with duckdb.connect(str(truncated)) as con:  # the warehouse as it was at the as-of month's batch
        for (table,) in con.execute(
            "select table_name from duckdb_columns() where schema_name = 'raw' and column_name = '_batch_month'"
        ).fetchall():
            con.execute(f"delete from raw.{table} where _batch_month > ?", [as_of])
        con.execute("delete from audit.load_batches where batch_month > ?", [as_of])
    result = dbt_cli("run", "--full-refresh", "-s", "+rollout_forecast", warehouse=truncated, target=tmp_path / "t")
    assert result.returncode == 0, result.stdout[-3000:]
    seen = query(
        truncated,
        "select max(as_of_month), max(_batch_month) from intermediate.int_rollout_forecast_state, "
        "(select max(_batch_month) as _batch_month from raw.accounts)",
    )
    assert seen == [(as_of, as_of)]
    full, alone = rounded(query(warehouse, PROJECTED, [as_of])), rounded(query(truncated, PROJECTED, [as_of]))
    assert full and full == alone


def rounded(rows: list[tuple]) -> list[tuple]:
    """Sorted rows with doubles to 9 places: a sum's last bits depend on the order DuckDB's threads add."""
    return sorted((tuple(round(v, 9) if isinstance(v, float) else v for v in row) for row in rows), key=repr)


def forecast_cli(*args: str, published: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "forecast", *args],
        env={**os.environ, PUBLISHED_ENV: str(published)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_forecast_command_prints_the_table_and_the_backtest(small_published):
    published = small_published[1]
    latest = forecast_cli(published=published)
    assert latest.returncode == 0, latest.stderr
    out = latest.stdout
    assert out.startswith(f"Rollout pace as of {SMALL_MONTHS[-1]}:")
    (coverage,) = query(
        published,
        """select account_coverage from analytics.rollout_forecast
           where as_of_month = (select max(as_of_month) from analytics.rollout_forecast)
             and product = 'HUABEI' and cohort_dimension = 'all' and months_ahead = 12""",
    )[0]
    all_row = next(line for line in out.splitlines() if line.startswith("All"))
    assert f"{coverage:.1%}" in all_row  # the same figure as the mart, 12 months ahead
    for cohort in ("Score band: 700-950", "Limit band: <1000", "Wave: not invited", "Province: "):
        assert cohort in out
    assert f"as of {SMALL_MONTHS[-4]} (3 months before)" in out and f"as of {SMALL_MONTHS[-7]} (6 months before)" in out

    earlier = forecast_cli("--as-of", SMALL_MONTHS[-4], published=published)
    assert earlier.returncode == 0 and earlier.stdout.startswith(f"Rollout pace as of {SMALL_MONTHS[-4]}:")
    assert earlier.stdout != out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--as-of", "2019-01"], f"error: no forecast as of 2019-01: the forecast is made as of {SMALL_MONTHS[1]} to"),
        (["--as-of", "2025/01"], "error: argument --as-of: '2025/01' is not a month YYYY-MM"),
    ],
)
def test_forecast_mistakes_are_one_line(small_published, args, message):
    result = forecast_cli(*args, published=small_published[1])
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith(message) and len(result.stderr.splitlines()) == 1


def test_forecast_before_anything_is_published_says_so(tmp_path):
    result = forecast_cli(published=tmp_path / "none.duckdb")
    assert result.returncode == 2 and "No analytics copy at" in result.stderr
    assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr


def test_forecast_from_a_copy_published_before_the_forecast_existed_says_to_run_again(tmp_path):
    old_copy = tmp_path / "analytics_snapshot.duckdb"
    with duckdb.connect(str(old_copy)) as con:
        con.execute("create schema analytics")
        con.execute("create table analytics.rollout_coverage (month date)")
    result = forecast_cli(published=old_copy)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == (
        "error: the published copy has no rollout forecast yet: run `credit-reporting-warehouse run` again\n"
    )
