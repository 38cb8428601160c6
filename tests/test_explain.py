"""`explain` (compliance/explain.py): its answers equal what the mart and the ledger say, on the
submitted small warehouse (a record held by S5, two refused by the bureau's feedback) and on a
batch resent with a bad row (quarantined)."""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest
from conftest import cli, monthly_run, query
from landing_builder import edit_csv

from compliance.explain import ExplainError, Query, _r4, as_text, explain
from orchestration.settings import WAREHOUSE_ENV


def answer(warehouse: Path, **asked) -> dict:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return explain(con, Query(**asked))
    finally:
        con.close()


@pytest.fixture(scope="module")
def warehouse(small_submitted) -> Path:
    return small_submitted[0]


def test_a_customer_never_reported_has_no_valid_consent_in_any_month(warehouse):
    customer, products = query(
        warehouse,
        """select customer_id, list(distinct product order by product) from staging.stg_landing__accounts
           where customer_id not in (select customer_id from marts.credit_report_monthly)
             and customer_id not in (select customer_id from intermediate.int_consent_windows)
           group by 1 order by 1 limit 1""",
    )[0]
    got = answer(warehouse, customer=customer)
    assert [a["product"] for a in got["accounts"]] == products
    for account in got["accounts"]:
        assert account["consent"] is None and account["first_reportable_month"] is None
        assert account["no_consent_because"] == "no reporting authorization signed"
        assert account["months"] and {m["rule"] for m in account["months"]} <= {"no valid consent", "not open"}
        assert not any(m["reported"] for m in account["months"])


def test_an_authorization_for_the_other_product_is_named_as_the_reason(warehouse):
    customer, account = query(
        warehouse,
        """select a.customer_id, a.account_id from staging.stg_landing__accounts as a
           where a.product = 'HUABEI'
             and a.customer_id not in (select customer_id from intermediate.int_consent_windows
                                       where product = 'HUABEI')
             and a.customer_id in (select customer_id from staging.stg_landing__agreements
                                   where document_code = 'CREDIT_REPORTING_AUTH' and product = 'JIEBEI')
           order by 1 limit 1""",
    )[0]
    got = answer(warehouse, customer=customer)
    (huabei,) = [a for a in got["accounts"] if a["account_id"] == account]
    assert huabei["no_consent_because"] == "the reporting authorizations signed are for JIEBEI, not HUABEI (nor ALL)"


def test_a_customer_reported_from_their_consent_month(warehouse):
    account, month, agreement = query(
        warehouse,
        """select account_id, strftime(report_month, '%Y-%m'), consent_agreement_id from marts.credit_report_monthly
           where report_reason_code = '31' and report_month > '2024-02-01'
             and (account_id, report_month) not in (select account_id, report_month from audit.bureau_refused)
           order by account_id limit 1""",
    )[0]
    got = answer(warehouse, account=account)
    (a,) = got["accounts"]
    assert a["consent"]["agreement_id"] == agreement and a["consent"]["local_month"] == month
    assert a["first_reportable_month"] == month
    before = [m for m in a["months"] if m["month"] < month]
    assert before and {m["rule"] for m in before} == {"not consented yet"}
    mart = query(
        warehouse,
        """select strftime(report_month, '%Y-%m'), month_status, report_reason_code, overdue_amount
           from marts.credit_report_monthly where account_id = ? order by 1""",
        [account],
    )
    reported = [m for m in a["months"] if m["reported"]]
    shown = [
        (m["month"], *(m["record"][k] for k in ("month_status", "report_reason_code", "overdue_amount")))
        for m in reported
    ]
    assert shown == mart
    first = reported[0]
    lines = query(
        warehouse,
        "select file_name, line from audit.bureau_records where account_id = ? and report_month = ?::date",
        [account, f"{month}-01"],
    )
    assert [(s["file_name"], s["line"]) for s in first["sent"]] == lines
    assert first["at_the_bureau"] == f"held by the bureau as set by {lines[0][0]} line {lines[0][1]}"
    text = as_text(got)
    assert f"consent: {agreement} for" in text and f"  {month}: reported, status" in text


def test_each_status_is_explained_by_its_past_due_bills_after_fifo(warehouse):
    delinquent = query(
        warehouse,
        """select account_id, strftime(report_month, '%Y-%m'), overdue_periods, overdue_amount, days_past_due
           from marts.credit_report_monthly where month_status in ('1', '2', '3', '4', '5', '6', '7')
             -- not the record the fixture broke on purpose (its overdue amount raised by 100: S5)
             and (account_id, report_month) not in (select account_id, report_month from audit.submission_holds)
           order by hash(account_id, report_month) limit 12""",
    )
    late = query(
        warehouse,
        """select account_id, strftime(report_month, '%Y-%m') from marts.credit_report_monthly
           where month_status = 'M' order by hash(account_id, report_month) limit 3""",
    )
    assert len(delinquent) == 12 and late
    for account, month, periods, amount, days in delinquent:
        (m,) = answer(warehouse, account=account, month=month)["accounts"][0]["months"]
        bills = m["past_due_bills"]
        assert len(bills) == periods, (account, month)
        assert sum(b["uncovered"] for b in bills) == amount and max(b["days_past_due"] for b in bills) == days
        assert all(Decimal(0) < b["uncovered"] <= b["amount_due"] for b in bills)
    for account, month in late:
        (m,) = answer(warehouse, account=account, month=month)["accounts"][0]["months"]
        bill = m["late_bill"]
        assert (
            m["past_due_bills"] == [] and bill["due_date"] < bill["covered_on"] and f"{bill['due_date']}"[:7] == month
        )


def test_a_held_and_a_refused_record_say_why_the_bureau_lacks_them(warehouse):
    account, month, detail = query(
        warehouse,
        """select account_id, strftime(report_month, '%Y-%m'), detail from audit.submission_holds
           where rule = 'S5' and detail not like 'held since%' limit 1""",
    )[0]
    (m,) = answer(warehouse, account=account, month=month)["accounts"][0]["months"]
    assert m["reported"] and m["at_the_bureau"] == f"held back by S5: {detail}" and m["sent"] == []
    for account, month, code, file_name, line in query(
        warehouse,
        "select account_id, strftime(report_month, '%Y-%m'), code, file_name, line from audit.bureau_refused",
    ):
        (m,) = answer(warehouse, account=account, month=month)["accounts"][0]["months"]
        assert m["at_the_bureau"] == f"refused by the bureau (code {code}): sent again once the record changes"
        assert (m["sent"][-1]["file_name"], m["sent"][-1]["line"], m["sent"][-1]["refused_code"]) == (
            file_name,
            line,
            code,
        )


def test_a_month_not_loaded_and_a_month_before_the_opening(warehouse):
    account, opened = query(
        warehouse,
        """select account_id, strftime(opened_month, '%Y-%m') from staging.stg_landing__accounts
           where opened_month > '2024-02-01' and opened_month <= '2024-08-01' order by 1 limit 1""",
    )[0]
    (m,) = answer(warehouse, account=account, month="2031-01")["accounts"][0]["months"]
    assert (m["reported"], m["rule"]) == (False, "month not loaded")
    (m,) = answer(warehouse, account=account, month="2024-01")["accounts"][0]["months"]
    assert m["rule"] == "not open" and m["detail"].startswith("opened on ")
    assert answer(warehouse, account=account)["accounts"][0]["months"][0]["month"] == opened


def test_r4_names_a_loan_without_its_authorization_by_the_opening():
    opened = datetime(2024, 3, 5, 10, tzinfo=ZoneInfo("Asia/Shanghai"))
    loan = {"product": "JIEBEI", "opened_at": opened}
    assert _r4(loan, None).startswith("R4: a JIEBEI loan without a reporting authorization")
    late = {"signed_at": opened.replace(month=5), "local_month": "2024-05"}
    assert _r4(loan, late) == "R4: the authorization was signed after the loan opened: reported from 2024-05 (P7)"
    assert _r4(loan, {**late, "signed_at": opened}) is None and _r4({**loan, "product": "HUABEI"}, None) is None


def test_the_explain_command_in_text_and_json_and_its_mistakes(warehouse):
    env = {WAREHOUSE_ENV: str(warehouse)}
    customer = query(warehouse, "select min(customer_id) from marts.credit_report_monthly")[0][0]
    text = cli("explain", "--customer", customer, env=env)
    assert text.returncode == 0, text.stderr
    assert text.stdout == as_text(answer(warehouse, customer=customer))
    machine = cli("explain", "--customer", customer, "--json", env=env)
    assert json.loads(machine.stdout) == json.loads(json.dumps(answer(warehouse, customer=customer), default=str))
    for args, message in [
        (("--customer", "C99999999"), "error: no customer C99999999 in the warehouse\n"),
        (("--account", "A1"), "error: explain --account needs --month YYYY-MM\n"),
        (
            ("--account", "A1", "--month", "2024-13"),
            "error: argument --month: '2024-13' is not a month YYYY-MM"
            " (see credit-reporting-warehouse explain --help)\n",
        ),
        (("--account", "NOPE", "--month", "2024-03"), "error: no account NOPE in the warehouse\n"),
    ]:
        wrong = cli("explain", *args, env=env)
        assert (wrong.returncode, wrong.stderr, wrong.stdout) == (2, message, ""), args
    personal = query(
        warehouse, "select id_number, full_name from marts.credit_report_monthly where customer_id = ?", [customer]
    )
    assert not any(value in text.stdout + machine.stdout for row in personal for value in row)


def test_a_row_quarantined_at_load_is_named(instance, landing, small_warehouse, tmp_path):
    warehouse = tmp_path / "w.duckdb"
    shutil.copy(small_warehouse[0], warehouse)
    account, customer = query(
        warehouse, "select account_id, customer_id from marts.credit_report_monthly order by 1 limit 1"
    )[0]
    bad = {
        "repayment_id": "R9900000002",
        "account_id": account,
        "paid_at": "2024-08-12T10:00:00+08:00",
        "amount": "-5.00",
    }

    data_rows = []

    def add(rows: list[list[str]]) -> list[list[str]]:
        data_rows.append(len(rows))  # the header and the data rows: the new row's 1-based position
        return [*rows, [bad.get(column, "") for column in rows[0]]]

    edit_csv(landing, "2024-08", "repayments.csv", add)
    monthly_run(instance, warehouse, landing, "2024-08")
    got = answer(warehouse, customer=customer)
    quarantined = query(
        warehouse, "select strftime(batch_month, '%Y-%m'), _source_row, reason from quarantine.repayments"
    )
    assert len(quarantined) == 1
    assert [(q["batch_month"], q["source_row"], q["reason"]) for q in got["quarantined"]] == quarantined
    assert got["quarantined"][0]["file"] == "repayments" and "-5.00" not in got["quarantined"][0]["reason"]
    assert quarantined[0][1] == data_rows[0]
    with pytest.raises(ExplainError):
        answer(warehouse, customer="C99999999")
