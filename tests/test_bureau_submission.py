"""The bureau submission (bureau/): the 210 mapping element by element, the file and its ledger,
the checks before sending (S1–S6), idempotence and order, and the contract's invariant: replaying
the files gives exactly the mart's records."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from bureau_marts import AT, ORG, VALID_ID, fresh_view, record, submit, warehouse_with
from bureau_replay import files_in_order, replay
from conftest import failure_message, query

from bureau.reader import read_file
from bureau.submit import SubmissionError, submit_month, submit_months, unsubmitted_months


def sent(tmp_path: Path, records: list[dict], accounts: list[dict] | None = None) -> dict[str, dict]:
    """Submit the records' one month; the records as read back from the file, by account."""
    warehouse = warehouse_with(tmp_path / "w.duckdb", records, accounts)
    result = submit(warehouse, records[0]["report_month"][:7], tmp_path / "out")
    parsed = read_file(result.file)
    assert parsed.problems == []
    return {r["AcctCode"].removeprefix(ORG): r for r in parsed.records}


# ---- the mapping, one element at a time (contracts: "Record 210") -------------------------------


def test_amounts_are_whole_yuan_rounded_half_up(tmp_path):
    r = sent(tmp_path, [record("A1", "2025-07", balance="1234.50", amount_due="300.49", credit_limit="4999.99")])["A1"]
    assert (r["AcctBal"], r["CurRpyAmt"], r["ActRpyAmt"], r["TotOverd"]) == ("1235", "300", "300", "0")
    assert "AcctCredLine" not in r  # a regular report (30) has no basic-information segment


@pytest.mark.parametrize(
    "status, five_level, code, five",
    [
        ("NORMAL", "NORMAL", "1", "1"),
        ("OVERDUE", "SPECIAL_MENTION", "2", "2"),
        ("OVERDUE", "SUBSTANDARD", "2", "3"),
        ("OVERDUE", "DOUBTFUL", "2", "4"),
        ("OVERDUE", "LOSS", "2", "5"),
    ],
)
def test_account_status_and_five_level_class_codes(tmp_path, status, five_level, code, five):
    overdue = (
        {}
        if status == "NORMAL"
        else {"month_status": "7", "overdue_periods": 9, "overdue_amount": "900.00", "days_past_due": 400}
    )
    r = sent(tmp_path, [record("A1", "2025-07", account_status=status, five_level_class=five_level, **overdue)])["A1"]
    assert (r["AcctStatus"], r["FiveCate"]) == (code, five)


def test_a_first_report_carries_the_basic_information_a_loan_its_terms_and_due_date_clipped(tmp_path):
    records = [
        record("A1", "2025-07", report_reason_code="31"),
        record("A2", "2025-07", report_reason_code="10", account_type="D1", product="JIEBEI", opened_on="2025-01-31"),
        record(
            "A3",
            "2025-07",
            report_reason_code="32",
            month_status="C",
            account_status="CLOSED",
            is_final_report=True,
            balance="0.00",
        ),
    ]
    accounts = [
        {"account_id": "A2", "loan_amount": "12000.50", "term_months": 1},
        {"account_id": "A3", "closed_on": "2025-07-20"},
    ]
    by_account = sent(tmp_path, records, accounts)
    revolving, loan, closed = by_account["A1"], by_account["A2"], by_account["A3"]
    assert (revolving["OpenDate"], revolving["Cy"], revolving["AcctCredLine"], revolving["RepayFreqcy"]) == (
        "2023-05-31",
        "CNY",
        "5000",
        "03",
    )
    assert "LoanAmt" not in revolving and "DueDate" not in revolving and "RepayPrd" not in revolving
    assert (loan["LoanAmt"], loan["RepayPrd"], loan["DueDate"]) == ("12001", "1", "2025-02-28")  # 31 Jan + 1 month
    assert "AcctCredLine" not in loan
    assert "OpenDate" not in closed and closed["CloseDate"] == "2025-07-20" and closed["AcctStatus"] == "3"
    assert "CloseDate" not in revolving


def test_text_is_xml_escaped(tmp_path):
    r = sent(tmp_path, [record("A1", "2025-07", full_name="王&<李>")])["A1"]
    assert r["Name"] == "王&<李>"  # read back by an XML parser
    assert "<Name>王&amp;&lt;李&gt;</Name>" in (tmp_path / "out").joinpath(
        next(p.name for p in (tmp_path / "out").glob("*.txt"))
    ).read_text(encoding="utf-8")


def test_the_file_name_header_and_line_ends(tmp_path):
    warehouse = warehouse_with(tmp_path / "w.duckdb", [record("A2", "2025-07"), record("A1", "2025-07")])
    result = submit(warehouse, "2025-07", tmp_path / "out")
    assert result.file.name == "TEST00000000012026120221000010.txt"
    data = result.file.read_bytes()
    assert data.startswith(b"A0502102.0.0  TEST0000000001" + b"20261202100000" + b"0" + b"0000002" + b"\r\n")
    assert data.endswith(b"</Document>\r\n") and data.count(b"\r\n") == 3 and b"\n" not in data.replace(b"\r\n", b"")
    assert [r["AcctCode"] for r in read_file(result.file).records] == [ORG + "A1", ORG + "A2"]  # byte order
    assert (tmp_path / "out" / (result.file.name + ".json")).is_file()
    assert query(warehouse, "select file_name, records, sha256 from audit.bureau_files") == [
        (result.file.name, 2, result.sha256)
    ]
    assert query(warehouse, "select line, account_id from audit.bureau_records order by line") == [(2, "A1"), (3, "A2")]


# ---- checks before sending (S1–S6) ------------------------------------------------------------


def test_failing_records_are_held_with_their_account_s_later_records_and_sent_once_fixed(tmp_path):
    bad_id = VALID_ID[:-1] + "1"  # wrong check character
    records = [
        record("A1", "2025-07", id_number=bad_id),  # S1
        record(
            "A2",
            "2025-07",
            month_status="1",
            overdue_periods=1,
            overdue_amount="900.00",
            balance="100.00",
            account_status="OVERDUE",
            five_level_class="SPECIAL_MENTION",
            days_past_due=5,
        ),  # S5
        record("A3", "2025-07"),
        record("A1", "2025-08"),
        record("A2", "2025-08"),
        record("A3", "2025-08"),
    ]
    warehouse = warehouse_with(tmp_path / "w.duckdb", records)
    out = tmp_path / "out"
    july = submit(warehouse, "2025-07", out)
    assert july.records == 1 and july.held_per_rule == {"S1": 1, "S5": 1}
    holds = query(warehouse, "select account_id, rule, detail from audit.submission_holds order by 1")
    assert holds == [
        ("A1", "S1", "IDNum fails GB 11643 (check character or birth date), or Name is empty"),
        ("A2", "S5", "TotOverd 900 > AcctBal 100"),
    ]
    with pytest.raises(SubmissionError, match="not built"):
        submit(warehouse, "2025-09", out)
    con = duckdb.connect(str(warehouse))  # the fixes arrive (a corrected identity number, a balance)
    con.execute("update marts.credit_report_monthly set id_number = ? where account_id = 'A1'", [VALID_ID])
    con.execute("update marts.credit_report_monthly set balance = 1000 where account_id = 'A2'")
    con.close()
    august = submit(warehouse, "2025-08", out)
    assert august.records == 5 and august.held_per_rule == {}
    lines = [(r["AcctCode"].removeprefix(ORG), r["Month"]) for r in read_file(august.file).records]
    assert lines == [("A1", "2025-07"), ("A1", "2025-08"), ("A2", "2025-07"), ("A2", "2025-08"), ("A3", "2025-08")]


def test_an_earlier_month_that_became_reportable_deletes_the_later_ones_then_sends_them_in_date_order(tmp_path):
    """The bureau refuses a 210 dated before what it holds for the account: a 213 deletes from the
    late month on, then the 210 sends the account's records again, in date order."""
    before = [record("A1", "2025-07"), record("A1", "2025-08"), record("A2", "2025-08", report_reason_code="31")]
    warehouse = warehouse_with(tmp_path / "w.duckdb", before)
    out = tmp_path / "out"
    submit(warehouse, "2025-07", out)
    submit(warehouse, "2025-08", out)
    # a late batch: A2's authorization was signed in July (its first report moves there)
    after = [*before[:2], record("A2", "2025-07", report_reason_code="31"), record("A2", "2025-08")]
    warehouse_with(warehouse, after)
    con = duckdb.connect(str(warehouse))
    outcomes = list(submit_months(con, ["2025-08"], out, ORG, AT, 1.0))
    con.close()
    assert [(o.record_type, o.records) for o in outcomes] == [("213", 1), ("210", 2)]
    deleted, sent = (read_file(o.file).records for o in outcomes)
    assert [(r["DelRecCode"], r["DelStartDate"], r["DelEndDate"]) for r in deleted] == [
        (ORG + "A2", "2025-08-31", "2025-08-31")
    ]
    assert [(r["AcctCode"], r["RptDate"], r["RptDateCode"]) for r in sent] == [
        (ORG + "A2", "2025-07-31", "31"),
        (ORG + "A2", "2025-08-31", "30"),
    ]
    assert outcomes[0].message == f"2025-08: 1 corrections (213, records deleted) written to {outcomes[0].file.name}"
    assert replay(files_in_order(warehouse, out)) == fresh_view(tmp_path / "fresh", after)
    again = list(submit_months(duckdb.connect(str(warehouse)), ["2025-08"], out, ORG, AT, 1.0))
    assert [o.file for o in again] == [None]  # nothing left to correct


def test_a_month_with_too_many_holds_writes_nothing_and_says_so(tmp_path):
    warehouse = warehouse_with(tmp_path / "w.duckdb", [record("A1", "2025-07", full_name=" "), record("A2", "2025-07")])
    result = submit(warehouse, "2025-07", tmp_path / "out", share=0.01)
    assert not result.written and result.file is None and not list((tmp_path / "out").iterdir())
    assert result.message == (
        "2025-07: nothing written: 1 of 2 records held (50.0%, more than 1%): see audit.submission_holds"
    )
    assert unsubmitted_months(duckdb.connect(str(warehouse))) == ["2025-07"]


@pytest.mark.parametrize(
    "org, month, message",
    [
        ("TEST000000001", "2025-07", "data-provider code 'TEST000000001' is not 14"),
        (ORG, "2025-13", "'2025-13' is not a month YYYY-MM"),
        (ORG, "2025-06", "2025-06 is not built: the reporting mart holds the months 2025-07 .. 2025-08"),
        (ORG, "2025-08", "submit 2025-07 first: months are submitted in order"),
    ],
)
def test_a_submission_that_cannot_run_says_why_and_writes_nothing(tmp_path, org, month, message):
    warehouse = warehouse_with(tmp_path / "w.duckdb", [record("A1", "2025-07"), record("A1", "2025-08")])
    con = duckdb.connect(str(warehouse))
    try:
        with pytest.raises(SubmissionError) as error:
            submit_month(con, month, tmp_path / "out", org, AT, 1.0)
    finally:
        con.close()
    assert message in str(error.value) and len(str(error.value).splitlines()) == 1
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_an_unwritable_submissions_folder_is_one_clear_line(tmp_path):
    warehouse = warehouse_with(tmp_path / "w.duckdb", [record("A1", "2025-07")])
    with pytest.raises(SubmissionError, match="is not writable|cannot create the submissions folder"):
        submit(warehouse, "2025-07", Path("/proc/crw-submissions"))


# ---- on the generated data: every month, the invariant, same bytes ------------------------------


def bureau_view(files: list[Path]) -> dict[tuple[str, str], dict]:
    """The bureau's view built from the files alone: per (AcctCode, RptDate), the last record sent."""
    view = {}
    for path in sorted(files):  # names carry the day and the serial: the order written
        for r in read_file(path).records:
            view[(r["AcctCode"], r["RptDate"])] = {k: v for k, v in r.items() if k != "_line"}
    return view


def test_every_generated_month_is_submitted_and_replaying_the_files_gives_the_mart(small_warehouse, tmp_path):
    warehouse, build = small_warehouse
    assert build.success, failure_message(build)
    outcomes = {}
    # the same run in a fresh folder, same generation time: month by month, then all in one call
    for run in ("first", "again"):
        copy = tmp_path / run / "w.duckdb"
        copy.parent.mkdir()
        shutil.copy(warehouse, copy)
        con = duckdb.connect(str(copy))
        months, out = unsubmitted_months(con), tmp_path / run / "out"
        if run == "first":
            results = [submit_month(con, m, out, ORG, AT, 0.01) for m in months]
        else:
            results = list(submit_months(con, months, out, ORG, AT, 0.01))
        con.close()
        outcomes[run] = (copy, months, results)
    copy, months, results = outcomes["first"]
    assert len(months) == 8 and all(r.written and r.file for r in results)
    files = sorted((tmp_path / "first" / "out").glob("*.txt"))
    assert all(read_file(f).problems == [] for f in files)
    assert [f.read_bytes() for f in files] == [
        f.read_bytes() for f in sorted((tmp_path / "again" / "out").glob("*.txt"))
    ]
    ledger = "select * from audit.bureau_records order by file_name, line"
    assert query(copy, ledger) == query(outcomes["again"][0], ledger)
    # the invariant: the bureau's view holds exactly the mart's records, mapped
    view = bureau_view(files)
    mart = query(
        copy,
        "select account_id, strftime(last_day(report_month), '%Y-%m-%d'), month_status,"
        " cast(round(balance, 0) as bigint), report_reason_code from marts.credit_report_monthly",
    )
    assert len(view) == len(mart) == sum(r.records for r in results)
    for account, rpt_date, status, balance, code in mart:
        held = view[(ORG + account, rpt_date)]
        assert (held["RpyStatus"], held["AcctBal"], held["RptDateCode"]) == (status, str(balance), code)
    assert query(copy, "select count(*) from audit.bureau_records") == [(len(mart),)]
    # submitted again: nothing new, and it says where the month went
    con = duckdb.connect(str(copy))
    again = submit_month(con, months[-1], tmp_path / "first" / "out", ORG, AT, 0.01)
    con.close()
    assert again.file is None and again.message.startswith(f"nothing to submit for {months[-1]}: ")
    assert f"records already sent in {results[-1].file.name}" in again.message


# ---- the command ----------------------------------------------------------------------------------


def test_submit_and_check_from_the_command_line(tmp_path):
    from conftest import cli

    from orchestration.settings import ORG_CODE_ENV, SUBMISSION_TIME_ENV, SUBMISSIONS_ENV, WAREHOUSE_ENV

    warehouse = warehouse_with(tmp_path / "w.duckdb", [record("A1", "2025-07"), record("A2", "2025-07")])
    env = {
        WAREHOUSE_ENV: str(warehouse),
        SUBMISSIONS_ENV: str(tmp_path / "out"),
        SUBMISSION_TIME_ENV: "2026-12-02T10:00:00+08:00",
    }
    bad = cli("submit", "--all", env={**env, ORG_CODE_ENV: "lower0000000001"})
    assert bad.returncode == 2 and bad.stderr.startswith("error: data-provider code 'lower0000000001' is not 14")
    assert len(bad.stderr.splitlines()) == 1 and not (tmp_path / "out").exists()

    done = cli("submit", "--all", env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "2025-07: 2 records written to TEST00000000012026120221000010.txt\n"
    written = tmp_path / "out" / "TEST00000000012026120221000010.txt"
    checked = cli("submission", "check", str(written))
    assert checked.returncode == 0 and checked.stdout.endswith("2 records, nothing wrong\n")

    header, first, second = written.read_bytes().split(b"\r\n")[:3]
    written.write_bytes(b"\r\n".join([header, second, first.replace(b"<AcctBal>1235", b"<AcctBal>")]) + b"\r\n")
    checked = cli("submission", "check", str(written))
    assert checked.returncode == 1
    assert f"{written.name}: line 3: not after line 2 by AcctCode, then RptDate (or a duplicate)" in checked.stdout
    assert f"{written.name}: line 3: AcctBal is empty (an empty element is left out)" in checked.stdout


# ---- a run killed at any point, then run again, ends as an uninterrupted one -----------------------


# Run in a child process: `submit --all` with SIGKILL sent to itself at the named point (a real
# kill -9: DuckDB's file and the folder are left as a crash leaves them).
KILLED_AT = """
import os, signal, sys
import bureau.files as files
import bureau.submit as submission
from orchestration.cli import main

point, calls = sys.argv[1], []

def kill_at(module, name, call):
    function = getattr(module, name)
    def wrapped(*args, **kwargs):
        calls.append(name)
        if calls.count(name) == call:
            os.kill(os.getpid(), signal.SIGKILL)
        return function(*args, **kwargs)
    setattr(module, name, wrapped)

if point == "after the file is written":
    kill_at(files, "file_sha256", 1)
elif point == "inside the ledger's transaction":
    kill_at(submission, "_mark_submitted", 1)
elif point == "after the commit, before the renames":
    kill_at(files.os, "replace", 1)
elif point == "between the month's files":
    kill_at(submission, "write_file", 2)
sys.exit(main(["submit", "--all"]))
"""


@pytest.mark.parametrize(
    "point",
    [
        "after the file is written",
        "inside the ledger's transaction",
        "after the commit, before the renames",
        "between the month's files",
    ],
)
def test_a_submission_killed_then_run_again_equals_an_uninterrupted_one(tmp_path, point):
    from conftest import cli

    from orchestration.settings import SUBMISSION_TIME_ENV, SUBMISSIONS_ENV, WAREHOUSE_ENV

    records = [record("A1", "2025-07"), record("A2", "2025-07"), record("A1", "2025-08"), record("A1", "2025-09")]

    def env(run: str) -> dict[str, str]:
        return {
            **os.environ,
            WAREHOUSE_ENV: str(tmp_path / f"{run}.duckdb"),
            SUBMISSIONS_ENV: str(tmp_path / run),
            SUBMISSION_TIME_ENV: "2026-12-02T10:00:00+08:00",
        }

    for run in ("uninterrupted", "killed"):
        warehouse_with(tmp_path / f"{run}.duckdb", records)
    assert cli("submit", "--all", env=env("uninterrupted")).returncode == 0
    killed = subprocess.run([sys.executable, "-c", KILLED_AT, point], env=env("killed"), capture_output=True)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    again = cli("submit", "--all", env=env("killed"))
    assert again.returncode == 0, again.stderr

    def files(folder: Path) -> dict[str, bytes]:
        return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}

    assert len(files(tmp_path / "uninterrupted")) == 6  # three months, a file and its sidecar each
    assert files(tmp_path / "killed") == files(tmp_path / "uninterrupted")
    for table in ("bureau_files", "bureau_records", "submitted_months"):  # times too: the run's, fixed
        ledger = f"select * from audit.{table} order by all"
        assert query(tmp_path / "killed.duckdb", ledger) == query(tmp_path / "uninterrupted.duckdb", ledger)


# ---- in the monthly job ---------------------------------------------------------------------------


def test_the_monthly_job_ends_with_the_month_s_file_and_its_checks(instance, landing, tmp_path):
    from conftest import monthly_run

    warehouse = tmp_path / "w.duckdb"
    for month in ("2024-01", "2024-02", "2024-02"):
        run = monthly_run(instance, warehouse, landing, month, submit=True)
    materialization = next(
        e.materialization
        for e in run.get_asset_materialization_events()
        if e.materialization.asset_key.path == ["bureau", "submission_210"]
    )
    assert materialization.metadata["messages"].text.startswith("nothing to submit for 2024-02: ")
    checks = {
        e.check_name: e.passed
        for e in run.get_asset_check_evaluations()
        if e.asset_key.path == ["bureau", "submission_210"]
    }
    assert checks == {"file_reads_back_clean": True, "held_share_within_limit": True}
    files = sorted((tmp_path / "submissions").glob("*.txt"))
    assert len(files) == 2 and all(read_file(f).problems == [] for f in files)
    sent, held, mart = query(
        warehouse,
        "select (select count(*) from audit.bureau_records), (select count(*) from audit.submission_holds),"
        " (select count(*) from marts.credit_report_monthly)",
    )[0]
    assert sent + held == mart > 0
    # published again after the files: the copy's ledger views show them
    copy = warehouse.parent / "published" / "analytics_snapshot.duckdb"
    assert query(copy, "select file_name from analytics.submission_files order by 1") == [(f.name,) for f in files]
    per_month = query(
        warehouse,
        "select strftime(report_month, '%Y-%m'), true, count(*) from marts.credit_report_monthly group by 1 order by 1",
    )
    assert len(per_month) == 2
    assert (
        query(
            copy,
            "select strftime(report_month, '%Y-%m'), submitted, records_sent + records_held"
            " from analytics.submission_months order by 1",
        )
        == per_month
    )
