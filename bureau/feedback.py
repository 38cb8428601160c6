"""The bureau's feedback on a file (docs/submission-contract.md, "Feedback"): the records it
refused leave the bureau's view, and wait until what they carried changes.

`X.fbk` answers `X.txt`: the same header (its count: the lines that follow), then
`{line}|{AcctCode}|{RptDate}|{code}|{message}` per refused record. Every line is checked against
the ledger before anything changes; one that names a file, line, AcctCode or RptDate the ledger
does not hold refuses the whole file with one line. Applied in one transaction, once.

What a refusal undoes in the view: a refused 210 was never held (its row goes); a refused 212
left the segment it would replace (given back from audit.bureau_replaced); a refused 213 or 214
deleted nothing (the rows it deleted come back).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from bureau import layout
from bureau.files import SubmissionError
from bureau.ledger import ensure_ledger
from bureau.records import record_md5_sql
from foundation.months import BUSINESS_TIMEZONE

SUFFIX = ".fbk"
MAX_BYTES = 256 * 1024 * 1024
CODE = re.compile(r"[0-9A-Za-z_-]{1,20}")
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_MESSAGE = 500


class FeedbackError(SubmissionError):
    """A feedback file refused whole: one line, nothing changed."""


@dataclass(frozen=True)
class Applied:
    feedback_file: str
    file_name: str
    refused: int
    per_code: dict[str, int] = field(default_factory=dict)
    already: bool = False  # applied before, the same bytes: nothing done again

    @property
    def message(self) -> str:
        if self.already:
            return f"{self.feedback_file}: applied already, nothing changed"
        codes = ", ".join(f"{code}: {n:,}" for code, n in self.per_code.items())
        return f"{self.feedback_file}: {self.refused:,} records of {self.file_name} refused" + (
            f" ({codes}); they are sent again once their data changes" if codes else ""
        )


def apply_feedback(con: duckdb.DuckDBPyConnection, path: Path, at: datetime) -> Applied:
    ensure_ledger(con)
    name, data = path.name, _read_bytes(path)
    if not name.endswith(SUFFIX):
        raise FeedbackError(f"{name}: a feedback file's name ends with {SUFFIX}")
    submitted = name.removesuffix(SUFFIX) + ".txt"
    sha = hashlib.sha256(data).hexdigest()
    before = con.execute("select sha256 from audit.bureau_feedback where feedback_file = ?", [name]).fetchone()
    if before:
        if before[0] == sha:
            return Applied(name, submitted, 0, already=True)
        raise FeedbackError(f"{name}: a feedback file of that name was applied already, with other contents")
    known = con.execute(
        f"""select record_type, records, strftime(generated_at at time zone '{BUSINESS_TIMEZONE}', '%Y%m%d%H%M%S')
            from audit.bureau_files where file_name = ?""",
        [submitted],
    ).fetchone()
    if not known:
        raise FeedbackError(f"{name}: the ledger holds no file {submitted}: is it another warehouse's feedback?")
    record_type, records, generated = known
    org = submitted[:14]
    lines = _lines(name, data)
    expected = layout.header(record_type, org, generated, len(lines) - 1)
    if lines[0] != expected:
        raise FeedbackError(f"{name}: line 1: the header is not {submitted}'s with the count of refused lines")
    refused = [_parse(name, number, line, records) for number, line in enumerate(lines[1:], start=2)]
    _check_against_ledger(con, name, submitted, org, refused)
    con.execute("begin transaction")
    try:
        _apply(con, name, submitted, refused, sha, at)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    per_code: dict[str, int] = {}
    for r in refused:
        per_code[r[3]] = per_code.get(r[3], 0) + 1
    return Applied(name, submitted, len(refused), dict(sorted(per_code.items())))


def _read_bytes(path: Path) -> bytes:
    if path.is_symlink() or not path.is_file():
        raise FeedbackError(f"{path.name}: not a regular file")
    if path.stat().st_size > MAX_BYTES:
        raise FeedbackError(f"{path.name}: larger than {MAX_BYTES // 2**20} MB: not a feedback file")
    return path.read_bytes()


def _lines(name: str, data: bytes) -> list[str]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FeedbackError(f"{name}: byte {exc.start + 1} is not UTF-8") from None
    if text.startswith("\ufeff"):
        raise FeedbackError(f"{name}: starts with a byte-order mark")
    if not text.endswith("\n"):
        raise FeedbackError(f"{name}: the last line does not end with a line break (cut short?)")
    return [line.removesuffix("\r") for line in text[:-1].split("\n")]


def _parse(name: str, number: int, line: str, records: int) -> tuple[int, str, str, str, str, int]:
    where = f"{name}: line {number}"
    parts = line.split("|", 4)
    if len(parts) != 5:
        raise FeedbackError(f"{where}: not line|AcctCode|RptDate|code|message")
    line_no, acct_code, rpt_date, code, message = parts
    if not line_no.isascii() or not line_no.isdigit() or not 2 <= int(line_no) <= records + 1:
        raise FeedbackError(f"{where}: the line is not one of the file's record lines (2 to {records + 1})")
    if rpt_date and not DATE.fullmatch(rpt_date):
        raise FeedbackError(f"{where}: the RptDate is not YYYY-MM-DD")
    if not CODE.fullmatch(code):
        raise FeedbackError(f"{where}: the code is not 1 to 20 letters or digits")
    if not message or len(message) > MAX_MESSAGE or CONTROL.search(message):
        raise FeedbackError(f"{where}: the message is empty, longer than {MAX_MESSAGE} or has control characters")
    return int(line_no), acct_code, rpt_date, code, message, number


def _check_against_ledger(con, name: str, submitted: str, org: str, refused: list[tuple]) -> None:
    con.execute(
        "create or replace temp table feedback_lines (line integer, acct_code varchar, rpt_date varchar,"
        " code varchar, message varchar, feedback_line integer)"
    )
    con.executemany("insert into feedback_lines values (?, ?, ?, ?, ?, ?)", refused)
    twice = con.execute(
        """select feedback_line
           from (select feedback_line, row_number() over (partition by line order by feedback_line) as n
                 from feedback_lines)
           where n = 2 order by 1 limit 1"""
    ).fetchone()
    if twice:
        raise FeedbackError(f"{name}: line {twice[0]}: a record line refused twice")
    wrong = con.execute(
        """select f.feedback_line, b.line is null, ? || b.account_id is distinct from f.acct_code
           from feedback_lines as f
           left join audit.bureau_records as b on b.file_name = ? and b.line = f.line
           where b.line is null or ? || b.account_id is distinct from f.acct_code
              or coalesce(strftime(b.rpt_date, '%Y-%m-%d'), '') <> f.rpt_date
           order by 1 limit 1""",
        [org, submitted, org],
    ).fetchone()
    if wrong:
        number, no_line, other_account = wrong
        what = "no such record line" if no_line else "another AcctCode" if other_account else "another RptDate"
        raise FeedbackError(f"{name}: line {number}: {submitted} has {what} there: nothing changed")


def _apply(con, name: str, submitted: str, refused: list[tuple], sha: str, at: datetime) -> None:
    con.execute("insert into audit.bureau_feedback values (?, ?, ?, ?, ?)", [name, submitted, sha, len(refused), at])
    con.execute(
        """insert into audit.bureau_refused
           select ?, b.file_name, b.line, b.record_type, b.account_id, b.report_month, b.modified_segment,
                  b.deleted_through,
                  case b.record_type when '210' then b.record_md5
                       when '212' then coalesce(b.segment_b_md5, b.segment_c_md5, b.segment_h_md5) end,
                  f.code, f.message, ?
           from feedback_lines as f join audit.bureau_records as b on b.file_name = ? and b.line = f.line""",
        [name, at, submitted],
    )
    con.execute(
        "create or replace temp table refused_now as select * from audit.bureau_refused where feedback_file = ?",
        [name],
    )
    # a 210 refused: the bureau holds nothing it set, nor what a later 212 changed in it
    con.execute(
        """delete from audit.bureau_view as v using refused_now as r
           where r.record_type = '210' and v.account_id = r.account_id and v.report_month = r.report_month
             and (v.file_name = r.file_name and v.line = r.line
                  or (select record_type = '212' and written_order
                                > (select written_order from audit.bureau_files where file_name = r.file_name)
                      from audit.bureau_files where file_name = v.file_name))"""
    )
    # a 212 refused: its segment as it was, while the view still holds what the 212 set
    for segment in ("b", "c", "h"):
        con.execute(
            f"""update audit.bureau_view as v
                set segment_{segment}_md5 = p.replaced_segment_{segment}_md5
                from refused_now as r join audit.bureau_replaced as p using (file_name, line)
                where r.record_type = '212' and r.modified_segment = '{segment.upper()}'
                  and v.account_id = r.account_id and v.report_month = r.report_month
                  and v.segment_{segment}_md5 is not distinct from r.refused_md5"""
        )
    con.execute(
        f"""update audit.bureau_view as v
            set record_md5 = {record_md5_sql("v.segment_b_md5", "v.segment_c_md5", "v.segment_h_md5")}
            where (v.account_id, v.report_month) in (
                select account_id, report_month from refused_now where record_type = '212')"""
    )
    # a 213 or 214 refused: what it deleted is still held
    con.execute(
        """insert into audit.bureau_view
            select p.account_id, p.report_month, p.replaced_rpt_date_code, p.replaced_record_md5,
                   p.replaced_segment_b_md5, p.replaced_segment_c_md5, p.replaced_segment_h_md5,
                   p.replaced_file_name, p.replaced_line
            from refused_now as r join audit.bureau_replaced as p using (file_name, line)
            where r.record_type in ('213', '214')
              and (p.account_id, p.report_month) not in (select account_id, report_month from audit.bureau_view)"""
    )


def waiting_refusals(con: duckdb.DuckDBPyConnection, records: str) -> None:
    """Temp table `waiting` (account_id, report_month): the records of `records` (with their
    record_md5) the bureau refused as they are now and does not hold: not sent again until they change."""
    con.execute(
        f"""create or replace temp table waiting as
            select distinct t.account_id, t.report_month
            from {records} as t join audit.bureau_refused as r
              on r.record_type = '210' and r.account_id = t.account_id and r.report_month = t.report_month
                 and r.refused_md5 = t.record_md5
            where (t.account_id, t.report_month) not in (select account_id, report_month from audit.bureau_view)"""
    )
