"""marts.credit_report_monthly end to end: hand-written scenarios for the rules, and the
generated data reconciled with an independent computation in Python."""

from __future__ import annotations

from collections import defaultdict

import pytest
from conftest import dbt_build, failure_message, load_all, query
from landing_builder import customer, write_batch
from reference_model import expected_reportable

MART_ROW = (
    "select strftime(report_month, '%Y-%m'), account_id, month_status, report_reason_code, days_past_due,"
    " overdue_periods, overdue_amount, repayment_history_24m, is_final_report, consent_agreement_id"
    " from marts.credit_report_monthly order by account_id, report_month"
)


def huabei(account_id: str, customer_id: str, opened_at: str = "2024-01-05T10:00:00+08:00", **extra) -> dict:
    return {
        "account_id": account_id,
        "customer_id": customer_id,
        "product": "HUABEI",
        "opened_at": opened_at,
        "updated_at": opened_at,
        **extra,
    }


def auth(agreement_id: str, customer_id: str, signed_at: str, product: str = "HUABEI") -> dict:
    return {
        "agreement_id": agreement_id,
        "customer_id": customer_id,
        "product": product,
        "document_code": "CREDIT_REPORTING_AUTH",
        "document_version": "2025.06",
        "signed_at": signed_at,
        "channel": "SERVICE_UPGRADE",
    }


def snapshot(account_id: str, month: str, balance: str = "0.00", limit: str = "1000.00") -> dict:
    return {"account_id": account_id, "snapshot_month": month, "credit_limit": limit, "outstanding_balance": balance}


@pytest.fixture(scope="module")
def scenario(instance, tmp_path_factory):
    """Batches 2025-03 .. 2025-07 with one account per rule (each described where it is built)."""
    landing = tmp_path_factory.mktemp("scenario") / "landing"
    months = ["2025-03", "2025-04", "2025-05", "2025-06", "2025-07"]
    customers = [customer(f"C{i}") for i in range(1, 8)]
    accounts = [
        huabei("A1", "C1"),  # delinquent in March, cured in April, consents in June: no trace of March (R5)
        huabei("A2", "C2"),  # delinquent since March, never cured, consents in June: reported as it stands (P5)
        huabei("A3", "C3"),  # consents 2025-07-01T00:30+08:00: July (R1)
        huabei("A4", "C4"),  # consents 2025-06-30T23:30+08:00: June (R1)
        huabei("A5", "C5"),  # consents 2025-06-30T16:30+00:00, which is 1 July in Shanghai (R1)
    ]
    # A JIEBEI loan opened in April without its authorization (R4), which arrives in June (P7: code 31)
    loan_april = {
        "account_id": "A6",
        "customer_id": "C6",
        "product": "JIEBEI",
        "opened_at": "2025-04-10T10:00:00+08:00",
        "loan_amount": "1000.00",
        "term_months": 12,
        "updated_at": "2025-04-10T10:00:00+08:00",
    }
    # Opened and closed in May with its authorization at opening: one record, code 32 (R7, R19)
    loan_may = {
        "account_id": "A7",
        "customer_id": "C7",
        "product": "JIEBEI",
        "opened_at": "2025-05-03T10:00:00+08:00",
        "closed_at": "2025-05-28T10:00:00+08:00",
        "loan_amount": "500.00",
        "term_months": 3,
        "updated_at": "2025-05-28T10:00:00+08:00",
    }
    bill = {"statement_date": "2025-03-01", "bill_month": "2025-03", "due_date": "2025-03-10", "amount_due": "100.00"}
    batches = {
        "2025-03": {
            "customers": customers,
            "accounts": accounts,
            "bills": [{"bill_id": "B1", "account_id": "A1", **bill}, {"bill_id": "B2", "account_id": "A2", **bill}],
        },
        "2025-04": {
            "accounts": [loan_april],
            "repayments": [
                {"repayment_id": "R1", "account_id": "A1", "paid_at": "2025-04-05T10:00:00+08:00", "amount": "100.00"}
            ],
        },
        "2025-05": {
            "accounts": [loan_may],
            "agreements": [auth("G7", "C7", "2025-05-03T09:59:00+08:00", "JIEBEI")],
        },
        "2025-06": {
            "agreements": [
                auth("G1", "C1", "2025-06-15T10:00:00+08:00"),
                auth("G2", "C2", "2025-06-15T10:00:00+08:00"),
                auth("G4", "C4", "2025-06-30T23:30:00+08:00"),
                auth("G6", "C6", "2025-06-02T10:00:00+08:00", "ALL"),
            ]
        },
        # 16:30 UTC on 30 June is 1 July in Shanghai: the source exports it with July (R1)
        "2025-07": {
            "agreements": [
                auth("G3", "C3", "2025-07-01T00:30:00+08:00"),
                auth("G5", "C5", "2025-06-30T16:30:00+00:00"),
            ]
        },
    }
    for month in months:
        tables = batches[month]
        balances = {"A1": "100.00" if month == "2025-03" else "0.00", "A2": "100.00", "A6": "1000.00"}
        open_accounts = ["A1", "A2", "A3", "A4", "A5"] + (["A6"] if month >= "2025-04" else [])
        open_accounts += ["A7"] if month == "2025-05" else []
        tables["account_snapshots"] = [snapshot(a, month, balances.get(a, "0.00")) for a in open_accounts]
        write_batch(landing, month, tables)
    warehouse = landing.parent / "w.duckdb"
    load_all(instance, warehouse, landing)
    result = dbt_build(instance, warehouse)
    rows = defaultdict(list)
    for row in query(warehouse, MART_ROW):
        rows[row[1]].append(row)
    return warehouse, result, rows


def test_scenario_builds_with_every_outgoing_check_passing(scenario):
    _, result, rows = scenario
    assert result.success, failure_message(result)
    failed = [e.check_name for e in result.get_asset_check_evaluations() if not e.passed]
    assert failed == ["row_count_is_zero_int_jiebei_accounts_missing_authorization_"]  # R4 surfaced (warn)
    assert sum(len(r) for r in rows.values()) == 11


def test_delinquency_cured_before_consent_leaves_no_trace(scenario):
    _, _, rows = scenario
    assert [(r[0], r[2], r[3], r[7]) for r in rows["A1"]] == [
        ("2025-06", "*", "31", "/" * 23 + "*"),
        ("2025-07", "*", "30", "/" * 22 + "**"),
    ]


def test_delinquency_open_at_consent_is_reported_as_it_stands(scenario):
    _, _, rows = scenario
    # Due 10 March: 112 days past due at 30 June (status 4), 143 at 31 July (status 5).
    assert [(r[0], r[2], r[4], r[5], r[6], r[7][-3:]) for r in rows["A2"]] == [
        ("2025-06", "4", 112, 1, 100, "//4"),
        ("2025-07", "5", 143, 1, 100, "/45"),
    ]


def test_consent_month_is_the_local_month_r1(scenario):
    _, _, rows = scenario
    assert [r[0] for r in rows["A3"]] == ["2025-07"]
    assert [r[0] for r in rows["A4"]] == ["2025-06", "2025-07"]
    assert [r[0] for r in rows["A5"]] == ["2025-07"]


def test_jiebei_without_authorization_is_surfaced_and_reported_from_its_authorization(scenario):
    warehouse, _, rows = scenario
    assert query(
        warehouse, "select account_id, consent_agreement_id from intermediate.int_jiebei_accounts_missing_authorization"
    ) == [("A6", "G6")]
    assert [(r[0], r[3], r[9]) for r in rows["A6"]] == [("2025-06", "31", "G6"), ("2025-07", "30", "G6")]


def test_account_opened_and_closed_in_one_month_has_one_final_record(scenario):
    _, _, rows = scenario
    assert [(r[0], r[2], r[3], r[8]) for r in rows["A7"]] == [("2025-05", "C", "32", True)]


# ---- the generated data, reconciled with an independent computation ------------------------


def test_generated_mart_holds_exactly_the_reportable_account_months(small_warehouse, small_landing):
    warehouse, result = small_warehouse
    assert result.success, failure_message(result)
    actual = set(query(warehouse, "select report_month, account_id from marts.credit_report_monthly"))
    expected = expected_reportable(small_landing)
    assert len(expected) > 1000
    assert actual == expected


def test_generated_mart_shows_the_rollout(small_warehouse):
    warehouse, _ = small_warehouse
    counts = dict(
        query(
            warehouse,
            "select strftime(report_month, '%Y-%m'), count(*) from marts.credit_report_monthly"
            " where product = 'HUABEI' group by 1",
        )
    )
    # Waves start in the 4th month (2024-04): HUABEI records grow every month from then on.
    rollout = [counts.get(f"2024-{m:02d}", 0) for m in range(3, 9)]
    assert all(later > earlier for earlier, later in zip(rollout, rollout[1:], strict=False)), rollout
    assert rollout[-1] > 5 * max(rollout[0], 1)
    codes = dict(query(warehouse, "select report_reason_code, count(*) from marts.credit_report_monthly group by 1"))
    assert {"10", "30", "31", "32"} <= set(codes) and codes["31"] > 100


def test_zero_bills_are_never_past_due_and_agreement_id_ties_compare_as_text(instance, tmp_path):
    """P11 on the smallest input: B1 100.00 due 10 Jan unpaid; B2 0.00 due 10 Feb; B3 0.00 due 10 Mar
    and 100.00 paid 20 Mar. February has one past-due period, not two; March is N, not M.
    P7: two authorizations signed at the same instant, AG5 and AG12: AG12 authorizes (text order)."""
    landing, warehouse = tmp_path / "landing", tmp_path / "w.duckdb"
    signed = "2024-12-01T10:00:00+08:00"

    def bill(bill_id: str, month: str, amount: str) -> dict:
        return {
            "bill_id": bill_id,
            "account_id": "A1",
            "bill_month": month,
            "statement_date": f"{month}-01",
            "due_date": f"{month}-10",
            "amount_due": amount,
        }

    batches = {
        "2025-01": {
            "customers": [customer("C1")],
            "accounts": [huabei("A1", "C1", opened_at="2024-11-05T10:00:00+08:00")],
            "agreements": [auth("AG5", "C1", signed), auth("AG12", "C1", signed)],
            "bills": [bill("B1", "2025-01", "100.00")],
            "account_snapshots": [snapshot("A1", "2025-01", "100.00")],
        },
        "2025-02": {
            "bills": [bill("B2", "2025-02", "0.00")],
            "account_snapshots": [snapshot("A1", "2025-02", "100.00")],
        },
        "2025-03": {
            "bills": [bill("B3", "2025-03", "0.00")],
            "repayments": [
                {"repayment_id": "R1", "account_id": "A1", "paid_at": "2025-03-20T10:00:00+08:00", "amount": "100.00"}
            ],
            "account_snapshots": [snapshot("A1", "2025-03")],
        },
    }
    for month, tables in batches.items():
        write_batch(landing, month, tables)
    load_all(instance, warehouse, landing)
    result = dbt_build(instance, warehouse)
    assert result.success, failure_message(result)
    rows = query(warehouse, MART_ROW)
    assert [(r[0], r[2], r[4], r[5], str(r[6])) for r in rows] == [
        ("2025-01", "1", 21, 1, "100.00"),
        ("2025-02", "2", 49, 1, "100.00"),  # B2 asks for nothing: one period past due
        ("2025-03", "N", 0, 0, "0.00"),  # B3 was never paid late: the cure of B1 is N (P6)
    ]
    assert rows[-1][7].endswith("12N")
    assert {r[9] for r in rows} == {"AG12"}
