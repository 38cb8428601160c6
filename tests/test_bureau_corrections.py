"""Corrections (bureau/corrections.py): after the mart changed months already sent, the 212, 213
and 214 files, checked record by record, and the contract's invariant after every run: replaying
every file written, in the order written, gives the bureau's view a new bureau would have from
the mart as it is now (the oracle: a fresh submission of the same records)."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import duckdb
import pytest
from bureau_marts import AT, ORG, fresh_view, record, warehouse_with
from bureau_replay import SEGMENT_ELEMENTS, files_in_order, replay
from conftest import SMALL_MONTHS, failure_message, monthly_run, query
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from landing_builder import edit_csv

from bureau.reader import read_file
from bureau.submit import submit_months

MONTHS = ["2025-07", "2025-08", "2025-09"]


def run(warehouse: Path, out: Path, months: list[str]) -> list:
    con = duckdb.connect(str(warehouse))
    try:
        return list(submit_months(con, months, out, ORG, AT, 1.0))
    finally:
        con.close()


def sent_then_changed(tmp_path: Path, before: list[dict], after: list[dict]) -> tuple[Path, Path, dict]:
    """`before` submitted month by month, the mart rebuilt as `after`, the run again: the outcomes
    of that run by record type, after checking the invariant against the oracle."""
    warehouse, out = warehouse_with(tmp_path / "w.duckdb", before), tmp_path / "out"
    for month in sorted({r["report_month"][:7] for r in before}):
        run(warehouse, out, [month])
    warehouse_with(warehouse, after)
    outcomes = {o.record_type: o for o in run(warehouse, out, []) if o.file}
    assert replay(files_in_order(warehouse, out)) == fresh_view(tmp_path / "fresh", after)
    assert [o.file for o in run(warehouse, out, [])] == [None]  # and nothing left to correct
    return warehouse, out, outcomes


def lines(outcome) -> list[dict]:
    parsed = read_file(outcome.file)
    assert parsed.problems == []
    return parsed.records


def three_months(account: str = "A1", **changes) -> list[dict]:
    return [
        record(account, "2025-07", report_reason_code="31"),
        record(account, "2025-08", **changes),
        record(account, "2025-09"),
    ]


def test_changed_monthly_figures_replace_the_monthly_segment(tmp_path):
    before = three_months() + three_months("A2")
    after = three_months(amount_paid="1.00") + three_months("A2")  # a late repayment, seen differently
    warehouse, _, outcomes = sent_then_changed(tmp_path, before, after)
    assert set(outcomes) == {"212"}
    (line,) = lines(outcomes["212"])
    assert (line["ModRecCode"], line["RptDate"], line["MdfcSgmtCode"], line["ActRpyAmt"]) == (
        ORG + "A1",
        "2025-08-31",
        "H",
        "1",
    )
    assert "Name" not in line and "RptDateCode" not in line  # the monthly segment only
    replaced = query(
        warehouse,
        """select r.account_id, strftime(r.report_month, '%Y-%m'), f.record_type, r.replaced_line
           from audit.bureau_replaced as r join audit.bureau_files as f on f.file_name = r.replaced_file_name""",
    )
    assert replaced == [("A1", "2025-08", "210", 2)]


def test_a_corrected_name_replaces_the_identity_of_every_record_held(tmp_path):
    before = three_months() + three_months("A2")
    after = [{**r, "full_name": "王&小明"} if r["account_id"] == "A1" else r for r in before]
    _, _, outcomes = sent_then_changed(tmp_path, before, after)
    assert set(outcomes) == {"212"}
    assert [(r["RptDate"], r["MdfcSgmtCode"], r["Name"]) for r in lines(outcomes["212"])] == [
        (f"{m}-{d}", "B", "王&小明") for m, d in (("2025-07", 31), ("2025-08", 31), ("2025-09", 30))
    ]


def test_two_segments_of_one_record_are_two_lines(tmp_path):
    before = three_months()
    after = [{**r, "full_name": "李四", "balance": "99.00"} if r["report_month"] == "2025-08-01" else r for r in before]
    _, _, outcomes = sent_then_changed(tmp_path, before, after)
    assert [(r["RptDate"], r["MdfcSgmtCode"]) for r in lines(outcomes["212"])] == [
        ("2025-08-31", "B"),
        ("2025-08-31", "H"),
    ]


def test_a_month_no_longer_reportable_is_deleted_alone(tmp_path):
    before = three_months() + three_months("A2")
    after = [r for r in before if (r["account_id"], r["report_month"]) != ("A1", "2025-08-01")]
    _, _, outcomes = sent_then_changed(tmp_path, before, after)
    assert set(outcomes) == {"213"}
    assert [(r["DelRecCode"], r["DelStartDate"], r["DelEndDate"]) for r in lines(outcomes["213"])] == [
        (ORG + "A1", "2025-08-31", "2025-08-31")
    ]


def test_an_account_with_nothing_left_is_deleted_whole(tmp_path):
    before = three_months() + three_months("A2")
    warehouse, _, outcomes = sent_then_changed(tmp_path, before, three_months("A2"))
    assert set(outcomes) == {"214"}
    assert [r["DelRecCode"] for r in lines(outcomes["214"])] == [ORG + "A1"]
    assert query(warehouse, "select count(*) from audit.bureau_replaced where account_id = 'A1'") == [(3,)]
    assert query(warehouse, "select count(*) from audit.bureau_view where account_id = 'A1'") == [(0,)]


def test_a_first_report_moved_later_deletes_from_there_and_sends_again(tmp_path):
    """The consent moved from July to August: July goes, August becomes the first report (31), a
    key element no 212 replaces, so August on is deleted and sent again."""
    before = three_months()
    after = [record("A1", "2025-08", report_reason_code="31"), record("A1", "2025-09")]
    _, _, outcomes = sent_then_changed(tmp_path, before, after)
    assert set(outcomes) == {"213", "210"}
    assert [(r["DelStartDate"], r["DelEndDate"]) for r in lines(outcomes["213"])] == [
        ("2025-07-31", "2025-07-31"),
        ("2025-08-31", "2025-09-30"),
    ]
    assert [(r["RptDate"], r["RptDateCode"]) for r in lines(outcomes["210"])] == [
        ("2025-08-31", "31"),
        ("2025-09-30", "30"),
    ]


def test_a_correction_that_fails_the_checks_is_held_and_the_bureau_keeps_the_old_values(tmp_path):
    before = three_months()
    wrong = {"month_status": "1", "overdue_periods": 1, "overdue_amount": "5000.00", "account_status": "OVERDUE"}
    after = [{**r, **wrong} if r["report_month"] == "2025-08-01" else r for r in before]  # S5: overdue > balance
    warehouse, out = warehouse_with(tmp_path / "w.duckdb", before), tmp_path / "out"
    for month in MONTHS:
        run(warehouse, out, [month])
    warehouse_with(warehouse, after)
    assert [o.file for o in run(warehouse, out, [])] == [None]
    assert query(warehouse, "select account_id, rule, detail from audit.submission_holds") == [
        ("A1", "S5", "correction not sent: TotOverd 5000 > AcctBal 1235")
    ]
    assert replay(files_in_order(warehouse, out)) == fresh_view(tmp_path / "fresh", before)


def test_two_corrections_of_one_month_in_a_row(tmp_path):
    before = three_months()
    warehouse, out = warehouse_with(tmp_path / "w.duckdb", before), tmp_path / "out"
    for month in MONTHS:
        run(warehouse, out, [month])
    for paid in ("1.00", "2.00"):
        now = [{**r, "amount_paid": paid} if r["report_month"] == "2025-08-01" else r for r in before]
        warehouse_with(warehouse, now)
        (outcome,) = run(warehouse, out, [])[:1]
        assert outcome.record_type == "212" and lines(outcome)[0]["ActRpyAmt"] == paid[0]
        assert replay(files_in_order(warehouse, out)) == fresh_view(tmp_path / f"fresh-{paid}", now)
    lineage = query(
        warehouse,
        """select f.record_type from audit.bureau_replaced as r
           join audit.bureau_files as f on f.file_name = r.replaced_file_name order by r.file_name""",
    )
    assert lineage == [("210",), ("212",)]  # the second replaced what the first had sent


# ---- the invariant under random histories ----------------------------------------------------------

ACCOUNTS = ["A1", "A2", "A3"]


@st.composite
def mart_states(draw, through: int) -> list[dict]:
    """A mart for the months up to `through`: per account a run of months from its first report,
    with drawn figures, identity and a month missing here and there."""
    records = []
    for account in ACCOUNTS:
        start = draw(st.integers(0, through + 1))
        months = [m for m in range(start, through + 1) if draw(st.integers(0, 5)) or m == start]
        for position, m in enumerate(months):
            past_due = draw(st.booleans())
            records.append(
                record(
                    account,
                    MONTHS[m],
                    report_reason_code="31" if position == 0 else "30",
                    full_name=draw(st.sampled_from(["测试", "王五"])),
                    amount_paid=draw(st.sampled_from(["0.00", "100.00", "300.49"])),
                    **(
                        {
                            "month_status": "1",
                            "overdue_periods": 1,
                            "overdue_amount": "50.00",
                            "account_status": "OVERDUE",
                        }
                        if past_due
                        else {}
                    ),
                )
            )
    return records


@settings(max_examples=15, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_random_histories_keep_the_bureau_equal_to_the_mart(tmp_path_factory, data):
    work = tmp_path_factory.mktemp("history")
    warehouse, out, submitted = work / "w.duckdb", work / "out", -1
    for step in range(data.draw(st.integers(2, 4))):
        through = min(len(MONTHS) - 1, submitted + data.draw(st.integers(0, 1)))
        records = data.draw(mart_states(max(through, 0)))
        if not records:
            continue
        warehouse_with(warehouse, records)
        months = sorted({r["report_month"][:7] for r in records})
        run(warehouse, out, [m for m in months if MONTHS.index(m) > submitted])
        submitted = max(submitted, MONTHS.index(months[-1]))
        assert replay(files_in_order(warehouse, out)) == fresh_view(work / f"fresh-{step}", records), step
        held = query(warehouse, "select account_id, strftime(report_month, '%Y-%m') from audit.bureau_view")
        assert sorted(held) == sorted((r["account_id"], r["report_month"][:7]) for r in records)


# ---- through the real pipeline: a resent batch, the monthly run, the corrections -------------------


@pytest.fixture
def sent(small_warehouse, tmp_path) -> Path:
    """A copy of the small warehouse with every month submitted, into `submissions/` beside it
    (where the monthly run writes)."""
    warehouse, build = small_warehouse
    assert build.success, failure_message(build)
    copy = tmp_path / "w.duckdb"
    shutil.copy(warehouse, copy)
    run(copy, tmp_path / "submissions", SMALL_MONTHS)
    return copy


def resend_august(instance, landing: Path, warehouse: Path, file_name: str, rows: list[dict]) -> dict[str, list]:
    """The 2024-08 batch sent again with these rows added to one file, then the monthly run; the
    correction files it wrote, by record type, their lines read back. Checks the invariant: the
    files replayed in order equal a new bureau's view of the rebuilt mart."""
    out = warehouse.parent / "submissions"
    before = replay(files_in_order(warehouse, out))

    def add(existing: list[list[str]]) -> list[list[str]]:
        return [*existing, *([row.get(column, "") for column in existing[0]] for row in rows)]

    edit_csv(landing, "2024-08", file_name, add)
    written = {name for (name,) in query(warehouse, "select file_name from audit.bureau_files")}
    monthly_run(instance, warehouse, landing, "2024-08", submit=True)
    after = replay(files_in_order(warehouse, out))
    assert after == oracle(warehouse)
    new = query(warehouse, "select file_name, record_type from audit.bureau_files order by written_order")
    outcomes = {kind: read_file(out / name).records for name, kind in new if name not in written}
    # the 212s are exactly the segments that differ between the bureau's view before and after, in
    # the records no 213 or 214 of the run deleted (those are sent again whole)
    deleted = {
        key
        for key in before
        if any(
            key[0] == r["DelRecCode"] and r["DelStartDate"] <= key[1] <= r["DelEndDate"]
            for r in outcomes.get("213", [])
        )
        or any(key[0] == r["DelRecCode"] for r in outcomes.get("214", []))
    }
    changed = {
        (key, code)
        for key in (before.keys() & after.keys()) - deleted
        for code, elements in SEGMENT_ELEMENTS.items()
        if [before[key].get(e) for e in elements] != [after[key].get(e) for e in elements]
    }
    assert {((r["ModRecCode"], r["RptDate"]), r["MdfcSgmtCode"]) for r in outcomes.get("212", [])} == changed
    return outcomes


def landed_row(landing: Path, file_name: str, key: str, value: str) -> dict[str, str]:
    """The latest row with this key in any batch, as the source sent it."""
    found = {}
    for batch in sorted(p for p in landing.iterdir() if p.is_dir()):
        with open(batch / file_name, encoding="utf-8", newline="") as fh:
            found.update({row[key]: row for row in csv.DictReader(fh) if row[key] == value})
    return found[value]


def oracle(warehouse: Path) -> dict:
    """A new bureau's view of this warehouse's mart: every month submitted afresh, ledger emptied."""
    copy = warehouse.parent / "oracle" / "w.duckdb"
    copy.parent.mkdir()
    shutil.copy(warehouse, copy)
    with duckdb.connect(str(copy)) as con:
        for table in ("bureau_files", "bureau_records", "bureau_view", "bureau_replaced", "submitted_months"):
            con.execute(f"delete from audit.{table}")
    run(copy, copy.parent / "out", SMALL_MONTHS)
    return replay(files_in_order(copy, copy.parent / "out"))


def test_a_late_repayment_that_cures_a_month_sent_replaces_its_monthly_segments(instance, landing, sent):
    account, month, overdue = query(
        sent,
        """select account_id, strftime(report_month, '%Y-%m'), overdue_amount from marts.credit_report_monthly
           where month_status = '1' and report_month <= '2024-06-01' order by report_month, account_id limit 1""",
    )[0]
    paid = {"repayment_id": "R9900000001", "account_id": account, "paid_at": f"{month}-20T10:00:00+08:00"}
    outcomes = resend_august(instance, landing, sent, "repayments.csv", [{**paid, "amount": str(overdue)}])
    assert set(outcomes) == {"212"}
    lines = outcomes["212"]
    assert {r["ModRecCode"] for r in lines} == {ORG + account} and {r["MdfcSgmtCode"] for r in lines} == {"H"}
    first = min(lines, key=lambda r: r["RptDate"])
    assert first["RptDate"].startswith(month) and first["RpyStatus"] in ("N", "M") and first["TotOverd"] == "0"


def test_a_resent_customer_with_a_corrected_name_replaces_the_identity_sent(instance, landing, sent):
    customer, records = query(
        sent,
        """select customer_id, count(*) from marts.credit_report_monthly group by 1 order by 2 desc, 1 limit 1""",
    )[0]
    corrected = {**landed_row(landing, "customers.csv", "customer_id", customer), "full_name": "王&小明"}
    corrected["updated_at"] = "2024-08-20T10:00:00+08:00"
    outcomes = resend_august(instance, landing, sent, "customers.csv", [corrected])
    assert set(outcomes) == {"212"}
    lines = outcomes["212"]
    assert len(lines) == records and {(r["MdfcSgmtCode"], r["Name"]) for r in lines} == {("B", "王&小明")}


def test_an_authorization_found_late_deletes_the_months_after_it_and_sends_them_again(instance, landing, sent):
    """Consented in May or later, an earlier authorization (March) turns up: the bureau holds the
    months from the consent on, so a 213 deletes them and the 210 sends March on in date order,
    March as the first report."""
    customer, account, consented = query(
        sent,
        """select customer_id, account_id, strftime(last_day(min(report_month)), '%Y-%m-%d')
           from marts.credit_report_monthly
           group by all having min(report_month) >= '2024-05-01' and arg_min(report_reason_code, report_month) = '31'
              and bool_and(product = 'HUABEI') and min(opened_on) < '2024-03-01'
           order by min(report_month), customer_id limit 1""",
    )[0]
    signed = {
        "agreement_id": "G9900000001",
        "customer_id": customer,
        "product": "HUABEI",
        "document_code": "CREDIT_REPORTING_AUTH",
        "document_version": "2024.01",
        "signed_at": "2024-03-15T10:00:00+08:00",
        "channel": "APP",
    }
    outcomes = resend_august(instance, landing, sent, "agreements.csv", [signed])
    assert {r["DelRecCode"]: (r["DelStartDate"], r["DelEndDate"]) for r in outcomes["213"]}[ORG + account] == (
        consented,
        "2024-08-31",
    )
    resent = [(r["RptDate"], r["RptDateCode"]) for r in outcomes["210"] if r["AcctCode"] == ORG + account]
    assert [d[:7] for d, _ in resent] == ["2024-03", "2024-04", "2024-05", "2024-06", "2024-07", "2024-08"]
    assert resent[0][1] == "31" and {code for _, code in resent[1:]} <= {"30", "32"}


def test_a_consent_corrected_away_deletes_the_account_whole(instance, landing, sent):
    """The only authorization a customer had is resent as another document: none of the accounts'
    records remain, each gets a 214."""
    (agreement_id,) = query(
        sent,
        """select agreement_id from raw.agreements
           where document_code = 'CREDIT_REPORTING_AUTH' and customer_id in (
               select customer_id from raw.agreements where document_code = 'CREDIT_REPORTING_AUTH'
               group by 1 having count(*) = 1)
             and customer_id in (select customer_id from marts.credit_report_monthly)
           order by agreement_id limit 1""",
    )[0]
    row = {**landed_row(landing, "agreements.csv", "agreement_id", agreement_id), "document_code": "SESAME_SERVICE"}
    accounts = {
        a
        for (a,) in query(
            sent,
            "select distinct account_id from marts.credit_report_monthly where customer_id = ?",
            [row["customer_id"]],
        )
    }
    outcomes = resend_august(instance, landing, sent, "agreements.csv", [row])
    assert {r["DelRecCode"] for r in outcomes["214"]} == {ORG + a for a in accounts}
    assert query(
        sent, "select count(*) from marts.credit_report_monthly where customer_id = ?", [row["customer_id"]]
    ) == [(0,)]


def test_a_jiebei_authorization_moved_after_the_opening_deletes_the_months_before_it(instance, landing, sent):
    """R4: a JIEBEI account is reported once its authorization exists. Resent signed two months
    after the opening, the months before go (213) and the account's first report becomes 31."""
    agreement_id, account, opened = query(
        sent,
        """select g.agreement_id, m.account_id, strftime(min(m.report_month), '%Y-%m')
           from raw.agreements as g join marts.credit_report_monthly as m
             on m.consent_agreement_id = g.agreement_id and m.product = 'JIEBEI'
           where g.product = 'JIEBEI' and g.customer_id in (
               select customer_id from raw.agreements where document_code = 'CREDIT_REPORTING_AUTH'
               group by 1 having count(*) = 1)
           group by all having min(m.report_month) <= '2024-05-01' and count(distinct m.report_month) >= 3
           order by all limit 1""",
    )[0]
    moved = SMALL_MONTHS[SMALL_MONTHS.index(opened) + 2]
    row = {
        **landed_row(landing, "agreements.csv", "agreement_id", agreement_id),
        "signed_at": f"{moved}-10T10:00:00+08:00",
    }
    outcomes = resend_august(instance, landing, sent, "agreements.csv", [row])
    deleted = [
        (r["DelStartDate"][:7], r["DelEndDate"][:7]) for r in outcomes["213"] if r["DelRecCode"] == ORG + account
    ]
    assert deleted[0][0] == opened and any(start == moved for start, _ in deleted)
    resent = [(r["RptDate"][:7], r["RptDateCode"]) for r in outcomes["210"] if r["AcctCode"] == ORG + account]
    assert resent[0] == (moved, "31")
