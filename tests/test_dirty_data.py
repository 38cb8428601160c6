"""Dirty-data mode: the generator injects each defect class with a known count, and the gate
catches exactly those rows; for random dirty batches nothing is lost and nothing held back
reaches staging."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from conftest import dbt_build, failure_message, load_all, load_month, query
from dagster import AssetCheckSeverity
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bureau.submit import submit_month, unsubmitted_months
from foundation.landing import LANDING_FILES
from ingestion.raw_load import MAX_BAD_SHARE_ENV, load_batch
from source_system import GeneratorConfig, generate_landing
from source_system.dirty import DEFECTS

# Defects of customers cascade to the rows that refer to them (tested in test_bad_input); these
# do not, so each one's count is exact.
INDEPENDENT = [k for k, d in DEFECTS.items() if d.file != "customers"]


def quarantined_by_reason(warehouse: Path, reason: str) -> int:
    return sum(
        query(warehouse, f"select count(*) from quarantine.{spec.name} where reason like ?", [f"%{reason}%"])[0][0]
        for spec in LANDING_FILES
    )


def test_the_gate_catches_exactly_the_injected_defects(instance, tmp_path, monkeypatch):
    monkeypatch.setenv(MAX_BAD_SHARE_ENV, "0.5")
    landing, warehouse = tmp_path / "landing", tmp_path / "w.duckdb"
    generate_landing(GeneratorConfig(customers=500, months=3, dirty_rate=0.01, dirty_kinds=tuple(INDEPENDENT)), landing)
    injected = json.loads((landing / "_injected_defects.json").read_text())
    for month in ("2024-01", "2024-02", "2024-03"):
        result = load_month(instance, warehouse, landing, month)
        assert result.success, failure_message(result)
        gate = {e.asset_key.path[-1]: e for e in result.get_asset_check_evaluations() if e.check_name == "landing_gate"}
        assert not gate["bills"].passed and gate["bills"].metadata["rows_quarantined"].value > 0
        report = Path(gate["bills"].metadata["validation_report"].value)
        assert report.is_file() and "amount_due is not negative" in report.read_text()
    for kind in INDEPENDENT:
        expected = sum(month[kind] for month in injected.values())
        assert expected > 0
        assert quarantined_by_reason(warehouse, DEFECTS[kind].reason) == expected, kind
    totals = query(
        warehouse, "select sum(rows_received), sum(rows_loaded), sum(rows_quarantined) from audit.load_batches"
    )
    assert totals[0][0] == totals[0][1] + totals[0][2]


def submit_every_month(warehouse: Path, folder: Path) -> None:
    """Every built month submitted in order, whatever share of it is held (the holds are the point)."""
    con = duckdb.connect(str(warehouse))
    try:
        for month in unsubmitted_months(con):
            submit_month(con, month, folder, "TEST0000000001", datetime.now(UTC), 1.0)
    finally:
        con.close()


def test_held_back_rows_never_reach_staging_and_hold_the_records_they_leave_wrong(instance, tmp_path, monkeypatch):
    """Bad bills and repayments are held back and never reach staging. A month missing a real
    repayment would report a delinquency the customer does not have: the mart's outgoing check
    (balance covers overdue) warns, and the submission holds exactly those records (S5) with their
    accounts' later ones, until the source resends the rows; the others go out."""
    monkeypatch.setenv(MAX_BAD_SHARE_ENV, "0.5")
    landing, warehouse = tmp_path / "landing", tmp_path / "w.duckdb"
    kinds = tuple(k for k in INDEPENDENT if DEFECTS[k].file in ("bills", "repayments"))
    generate_landing(
        GeneratorConfig(customers=300, months=4, rollout_month=2, dirty_rate=0.01, dirty_kinds=kinds), landing
    )
    load_all(instance, warehouse, landing)
    result = dbt_build(instance, warehouse)
    failed = {e.check_name: e for e in result.get_asset_check_evaluations() if not e.passed}
    assert "credit_report_balance_covers_overdue" in failed
    assert failed["credit_report_balance_covers_overdue"].severity == AssetCheckSeverity.WARN
    wrong = query(
        warehouse, "select distinct account_id from marts.credit_report_monthly where balance < overdue_amount"
    )
    assert wrong
    submit_every_month(warehouse, tmp_path / "submissions")
    held = query(warehouse, "select distinct account_id from audit.submission_holds where rule = 'S5'")
    assert set(held) == set(wrong)
    assert query(warehouse, "select count(*) from audit.bureau_records")[0][0] > 0  # the others went out
    staging_checks = [e for e in result.get_asset_check_evaluations() if e.asset_key.path[0] == "staging"]
    assert staging_checks and all(e.passed for e in staging_checks)
    leaked = query(
        warehouse,
        """select (select count(*) from quarantine.bills q join staging.stg_landing__bills s using (bill_id)
                   where s._batch_month = q.batch_month),
                  (select count(*) from quarantine.repayments q join staging.stg_landing__repayments s
                   using (repayment_id) where s._batch_month = q.batch_month),
                  (select count(*) from quarantine.bills) + (select count(*) from quarantine.repayments)""",
    )
    assert leaked[0][:2] == (0, 0) and leaked[0][2] > 10


def test_a_quarantined_snapshot_holds_its_record_and_never_blocks_the_month(instance, tmp_path, monkeypatch):
    """A month-end snapshot held in quarantine leaves its record without balance and limit: the
    mart's not-null checks warn, the build passes (the month is published), and the submission holds
    exactly those records (S5, "AcctBal missing") with their accounts' later ones; the others go out."""
    monkeypatch.setenv(MAX_BAD_SHARE_ENV, "0.5")
    landing, warehouse = tmp_path / "landing", tmp_path / "w.duckdb"
    generate_landing(
        GeneratorConfig(
            customers=300,
            months=4,
            rollout_month=2,
            dirty_rate=0.01,
            dirty_kinds=("negative_balance", "wrong_snapshot_month"),
        ),
        landing,
    )
    load_all(instance, warehouse, landing)
    result = dbt_build(instance, warehouse)
    assert result.success, failure_message(result)
    warned = {e.check_name for e in result.get_asset_check_evaluations() if not e.passed}
    assert {"not_null_credit_report_monthly_balance", "not_null_credit_report_monthly_credit_limit"} <= warned
    incomplete = set(
        query(warehouse, "select account_id, report_month from marts.credit_report_monthly where balance is null")
    )
    assert incomplete and incomplete == set(
        query(warehouse, "select account_id, report_month from marts.credit_report_monthly where credit_limit is null")
    )
    submit_every_month(warehouse, tmp_path / "submissions")
    held = set(
        query(
            warehouse,
            "select account_id, report_month from audit.submission_holds"
            " where rule = 'S5' and detail like 'AcctBal missing%'",
        )
    )
    assert held == incomplete
    sent = query(warehouse, "select account_id, report_month from audit.bureau_records where record_type = '210'")
    assert sent and not incomplete & set(sent)


@pytest.fixture(scope="module")
def clean_batch(tmp_path_factory):
    landing = tmp_path_factory.mktemp("property") / "landing"
    generate_landing(GeneratorConfig(customers=200, months=1), landing)
    return landing


@settings(max_examples=12, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(
    seed=st.integers(0, 10_000),
    rate=st.sampled_from([0.01, 0.03]),
    kinds=st.lists(st.sampled_from(sorted(DEFECTS)), min_size=1, max_size=6, unique=True),
)
def test_random_dirty_batches_lose_nothing_and_leak_nothing(tmp_path_factory, seed, rate, kinds):
    work = tmp_path_factory.mktemp("dirty")
    generate_landing(
        GeneratorConfig(customers=200, months=1, seed=seed, dirty_rate=rate, dirty_kinds=tuple(kinds)), work / "landing"
    )
    con = duckdb.connect(str(work / "w.duckdb"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(MAX_BAD_SHARE_ENV, "1")  # every bad share loads: the accounting must hold anyway
        result = load_batch(con, work / "landing" / "2024-01")
    for spec in LANDING_FILES:
        load = result.files[spec.name]
        raw = con.execute(f"select count(*) from raw.{spec.name}").fetchone()[0]
        held = con.execute(f"select count(*) from quarantine.{spec.name}").fetchone()[0]
        assert load.rows_received == raw + held == load.rows_loaded + load.rows_quarantined
        # No row is in both: the source rows of raw and of quarantine are disjoint.
        overlap = con.execute(
            f"select count(*) from raw.{spec.name} r join quarantine.{spec.name} q on r._source_row = q._source_row"
        ).fetchone()[0]
        assert overlap == 0
    con.close()
