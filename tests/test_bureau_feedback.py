"""The bureau's feedback (bureau/feedback.py): refused lines leave the bureau's view, wait until
what they carried changed, then go again; a feedback file naming anything the ledger does not
hold is refused whole and changes nothing. The invariant is checked by replaying every file less
the refused lines against a fresh submission of what the bureau should hold."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from bureau_feedback_files import write_feedback
from bureau_marts import AT, fresh_view, record, warehouse_with
from bureau_replay import files_in_order, replay
from conftest import cli, query
from test_bureau_corrections import run, three_months

from bureau.feedback import FeedbackError, apply_feedback
from orchestration.settings import SUBMISSION_TIME_ENV, SUBMISSIONS_ENV, WAREHOUSE_ENV

LEDGER = ("bureau_files", "bureau_records", "bureau_view", "bureau_replaced", "bureau_feedback", "bureau_refused")


def sent(tmp_path: Path, records: list[dict]) -> tuple[Path, Path]:
    warehouse, out = warehouse_with(tmp_path / "w.duckdb", records), tmp_path / "out"
    for month in sorted({r["report_month"][:7] for r in records}):
        run(warehouse, out, [month])
    return warehouse, out


def line_of(warehouse: Path, record_type: str, account: str, month: str | None = None) -> tuple[str, int]:
    """The latest line of this type for the account (and month)."""
    return query(
        warehouse,
        """select b.file_name, b.line from audit.bureau_records as b join audit.bureau_files as f using (file_name)
           where b.record_type = ? and b.account_id = ? and (? is null or b.report_month = ?::date)
           order by f.written_order desc limit 1""",
        [record_type, account, month, f"{month}-01" if month else None],
    )[0]


def refuse(warehouse: Path, out: Path, record_type: str, account: str, month: str | None, code: str = "E01"):
    name, line = line_of(warehouse, record_type, account, month)
    path = write_feedback(out / name, warehouse, {line: code})
    con = duckdb.connect(str(warehouse))
    try:
        applied = apply_feedback(con, path, AT)
    finally:
        con.close()
    assert applied.refused == 1 and applied.per_code == {code: 1}
    return name, line


def refused_lines(warehouse: Path) -> set[tuple[str, int]]:
    return set(query(warehouse, "select file_name, line from audit.bureau_refused"))


def bureau(warehouse: Path, out: Path) -> dict:
    return replay(files_in_order(warehouse, out), refused_lines(warehouse))


def written(outcomes) -> list[str]:
    return [o.record_type for o in outcomes if o.file]


def ledger(warehouse: Path) -> dict[str, list]:
    return {t: sorted(query(warehouse, f"select * from audit.{t}"), key=repr) for t in LEDGER}


def test_a_refused_record_waits_until_it_changed_then_goes_again(tmp_path):
    before = [*three_months("A1"), record("A2", "2025-07", report_reason_code="31")]
    warehouse, out = sent(tmp_path, before)
    refuse(warehouse, out, "210", "A1", "2025-09")
    assert query(warehouse, "select count(*) from audit.bureau_view where account_id = 'A1'") == [(2,)]
    without = [r for r in before if (r["account_id"], r["report_month"]) != ("A1", "2025-09-01")]
    assert bureau(warehouse, out) == fresh_view(tmp_path / "fresh-1", without)

    assert written(run(warehouse, out, [])) == []  # unchanged: not sent again
    after = [{**r, "full_name": "测试二"} if r["report_month"] == "2025-09-01" else r for r in before]
    warehouse_with(warehouse, after)
    outcomes = run(warehouse, out, [])
    assert [(o.record_type, o.records) for o in outcomes if o.file] == [("210", 1)]  # the refused record again
    assert bureau(warehouse, out) == fresh_view(tmp_path / "fresh-2", after)


def test_a_refused_record_before_others_held_goes_again_in_date_order(tmp_path):
    before = three_months("A1")
    warehouse, out = sent(tmp_path, before)
    refuse(warehouse, out, "210", "A1", "2025-08")
    assert written(run(warehouse, out, [])) == []
    after = [{**r, "amount_paid": "1.00"} if r["report_month"] == "2025-08-01" else r for r in before]
    warehouse_with(warehouse, after)
    outcomes = run(warehouse, out, [])
    assert written(outcomes) == ["213", "210"]  # 09 deleted, then 08 and 09 sent in date order
    assert bureau(warehouse, out) == fresh_view(tmp_path / "fresh", after)


def test_a_refused_segment_is_given_back_and_waits(tmp_path):
    before = three_months("A1")
    warehouse, out = sent(tmp_path, before)
    changed = [{**r, "amount_paid": "1.00"} if r["report_month"] == "2025-08-01" else r for r in before]
    warehouse_with(warehouse, changed)
    assert written(run(warehouse, out, [])) == ["212"]
    refuse(warehouse, out, "212", "A1", "2025-08")
    assert bureau(warehouse, out) == fresh_view(tmp_path / "fresh-1", before)  # the bureau kept the old values
    assert written(run(warehouse, out, [])) == []
    again = [{**r, "amount_paid": "2.00"} if r["report_month"] == "2025-08-01" else r for r in before]
    warehouse_with(warehouse, again)
    assert written(run(warehouse, out, [])) == ["212"]
    assert bureau(warehouse, out) == fresh_view(tmp_path / "fresh-2", again)


def test_a_refused_deletion_gives_the_records_back(tmp_path):
    before = three_months("A1")
    warehouse, out = sent(tmp_path, before)
    warehouse_with(warehouse, [r for r in before if r["report_month"] != "2025-08-01"])
    assert written(run(warehouse, out, [])) == ["213"]
    refuse(warehouse, out, "213", "A1", "2025-08")
    assert bureau(warehouse, out) == fresh_view(tmp_path / "fresh", before)
    assert query(warehouse, "select count(*) from audit.bureau_view") == [(3,)]
    assert written(run(warehouse, out, [])) == []  # the same deletion waits


def test_a_refused_entire_deletion_gives_the_account_back(tmp_path):
    before = [*three_months("A1"), *three_months("A2")]
    warehouse, out = sent(tmp_path, before)
    warehouse_with(warehouse, three_months("A2"))
    assert written(run(warehouse, out, [])) == ["214"]
    refuse(warehouse, out, "214", "A1", None)
    assert bureau(warehouse, out) == fresh_view(tmp_path / "fresh", before)
    assert written(run(warehouse, out, [])) == []


@pytest.fixture
def feedback(tmp_path) -> tuple[Path, Path, Path]:
    """A month sent, two records; a valid feedback refusing both."""
    opened = {"report_reason_code": "31"}
    warehouse, out = sent(tmp_path, [record("A1", "2025-07", **opened), record("A2", "2025-07", **opened)])
    (name,) = query(warehouse, "select file_name from audit.bureau_files")[0]
    return warehouse, out / name, write_feedback(out / name, warehouse, {2: "E01", 3: "E02"})


def edit(path: Path, change) -> Path:
    path.write_bytes(change(path.read_bytes()))
    return path


BAD = {
    "the file it answers is not in the ledger": (
        lambda p: p.rename(p.with_name("TEST00000000012026120221000090.fbk")),
        "the ledger holds no file TEST00000000012026120221000090.txt",
    ),
    "a line beyond the file": (
        lambda p: edit(p, lambda b: b.replace(b"\r\n3|", b"\r\n4|")),
        "line 3: the line is not one of the file's record lines (2 to 3)",
    ),
    "another account": (
        lambda p: edit(p, lambda b: b.replace(b"0001A2|", b"0001A9|")),
        "line 3: TEST00000000012026120221000010.txt has another AcctCode there",
    ),
    "another report date": (
        lambda p: edit(p, lambda b: b.replace(b"|2025-07-31|E02", b"|2025-08-31|E02")),
        "line 3: TEST00000000012026120221000010.txt has another RptDate there",
    ),
    "a line refused twice": (
        lambda p: edit(p, lambda b: b.replace(b"\r\n3|TEST0000000001A2", b"\r\n2|TEST0000000001A1")),
        "line 3: a record line refused twice",
    ),
    "a header counting other lines": (
        lambda p: edit(p, lambda b: b.replace(b"00000002\r\n", b"00000003\r\n", 1)),
        "line 1: the header is not TEST00000000012026120221000010.txt's",
    ),
    "another generation time": (
        lambda p: edit(p, lambda b: b.replace(b"20261202100000", b"20261202100001", 1)),
        "line 1: the header is not",
    ),
    "a line of four fields": (
        lambda p: edit(p, lambda b: b.replace(b"|E02|refused by the bureau: E02", b"|E02")),
        "line 3: not line|AcctCode|RptDate|code|message",
    ),
    "not UTF-8": (lambda p: edit(p, lambda b: b.replace(b"E02\r\n", b"\xff\r\n")), "is not UTF-8"),
    "cut short": (lambda p: edit(p, lambda b: b[:-5]), "the last line does not end with a line break"),
    "a control character in the message": (
        lambda p: edit(p, lambda b: b.replace(b"bureau: E02", b"bureau:\x07E02")),
        "line 3: the message is empty",
    ),
}


@pytest.mark.parametrize("defect", BAD)
def test_a_bad_feedback_file_is_refused_whole_and_changes_nothing(feedback, defect):
    warehouse, _, path = feedback
    change, message = BAD[defect]
    path = change(path) or path
    before = ledger(warehouse)
    con = duckdb.connect(str(warehouse))
    try:
        with pytest.raises(FeedbackError) as refused:
            apply_feedback(con, path, AT)
    finally:
        con.close()
    assert message in str(refused.value) and "\n" not in str(refused.value)
    assert ledger(warehouse) == before


def test_feedback_applied_twice_is_applied_once(feedback):
    warehouse, _, path = feedback
    con = duckdb.connect(str(warehouse))
    try:
        assert apply_feedback(con, path, AT).refused == 2
        again = apply_feedback(con, path, AT)
        assert again.already and again.message.endswith("applied already, nothing changed")
        assert con.execute("select count(*) from audit.bureau_refused").fetchone() == (2,)
        edit(path, lambda b: b.replace(b"E02", b"E03"))
        with pytest.raises(FeedbackError, match="applied already, with other contents"):
            apply_feedback(con, path, AT)
    finally:
        con.close()


def test_the_feedback_command_says_what_was_refused_and_refuses_a_bad_file_in_one_line(feedback):
    warehouse, submitted, path = feedback
    env = {
        WAREHOUSE_ENV: str(warehouse),
        SUBMISSIONS_ENV: str(submitted.parent),
        SUBMISSION_TIME_ENV: "2026-12-03T10:00:00+08:00",
    }
    bad = path.with_name("TEST00000000012026120221000090.fbk")
    bad.write_bytes(path.read_bytes())
    refused = cli("feedback", str(bad), env=env)
    assert refused.returncode == 2 and len(refused.stderr.splitlines()) == 1
    assert refused.stderr.startswith("error: TEST00000000012026120221000090.fbk: the ledger holds no file")
    done = cli("feedback", str(path), env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout == (
        f"{path.name}: 2 records of {submitted.name} refused (E01: 1, E02: 1); they are sent again once their"
        " data changes\n"
    )
    assert query(warehouse, "select code, account_id from audit.bureau_refused order by 1") == [
        ("E01", "A1"),
        ("E02", "A2"),
    ]
    assert query(warehouse, "select count(*) from audit.bureau_view") == [(0,)]
