"""A month's submission run: the mart's records the bureau does not hold yet, checked (S1–S6),
written as one 210 file with its sidecar, and recorded in the ledger.

The ledger is the truth of what was sent. A file is written under a `.partial` name and synced;
then one transaction records it in the ledger; then it is renamed into place. A run killed before
the commit leaves nothing (the next run removes the partial file and writes it again); one killed
after it leaves a complete partial file that the next run renames (its sha256 is in the ledger).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

import duckdb

from bureau import layout
from bureau.ledger import ensure_ledger
from bureau.records import RULES, line_sql, mapped_sql, segments_sql
from ingestion import rebuild
from ingestion.errors import WarehouseError
from ingestion.manifest import file_sha256
from ingestion.months import is_batch_month

PARTIAL = ".partial"


class SubmissionError(WarehouseError):
    """A submission that cannot run as asked: one clear line, nothing written."""


@dataclass(frozen=True)
class Submission:
    month: str
    file: Path | None  # None: nothing written
    records: int
    records_per_code: dict[str, int] = field(default_factory=dict)
    held_per_rule: dict[str, int] = field(default_factory=dict)
    sha256: str | None = None
    written: bool = True  # False when the month was held back whole (too many holds)
    message: str = ""
    awaiting_correction: int = 0  # records of months before ones the bureau holds: 210 cannot add them


def check_org_code(org: str) -> str:
    if not layout.ORG_CODE.fullmatch(org or ""):
        raise SubmissionError(f"data-provider code {org!r} is not 14 digits or capital letters (CRW_ORG_CODE)")
    return org


def submit_month(
    con: duckdb.DuckDBPyConnection,
    month: str,
    out_dir: Path,
    org: str,
    generated_at: datetime,
    max_held_share: float,
) -> Submission:
    """Submit one month (YYYY-MM); SubmissionError before anything is written when it cannot be."""
    return next(submit_months(con, [month], out_dir, org, generated_at, max_held_share))


def submit_months(
    con: duckdb.DuckDBPyConnection,
    months: list[str],
    out_dir: Path,
    org: str,
    generated_at: datetime,
    max_held_share: float,
) -> Iterator[Submission]:
    """Submit these months in order, one file each, yielding each month's outcome as it is written;
    stops after a month held back whole (the later ones wait). The records are mapped and checked
    once for all the months; SubmissionError before anything is written when one cannot be sent."""
    check_org_code(org)
    for month in months:
        if not is_batch_month(month):
            raise SubmissionError(f"{month!r} is not a month YYYY-MM")
    months = sorted(set(months))
    _check_folder(out_dir)
    ensure_ledger(con)
    recover(con, out_dir)
    _check_months_are_ready(con, months)
    first, last = f"{months[0]}-01", f"{months[-1]}-01"
    # per account, the latest month the bureau holds: a 210 can only add months after it
    con.execute(
        "create or replace temp table sent_through as"
        " select account_id, max(report_month) as last_sent from audit.bureau_records group by account_id"
    )
    # the file each record goes out in: a month's own, or the run's first for earlier ones held before
    con.execute(
        f"""create or replace temp table candidates as
            select greatest(report_month, date '{first}') as file_month, * from ("""
        + mapped_sql(
            org,
            f"""mart.report_month <= date '{last}'
                and mart.report_month > coalesce((select last_sent from sent_through as s
                                                  where s.account_id = mart.account_id), date '0001-01-01')""",
        )
        + ")"
    )
    _hold(con, generated_at)
    awaiting = _awaiting_correction(con, last)
    for month in months:
        result = _submit_one(con, month, out_dir, org, generated_at, max_held_share, awaiting)
        yield result
        if not result.written:  # the holds as they stand when the run stopped
            con.execute("delete from audit.submission_holds where report_month > ?::date", [f"{month}-01"])
            return


def _submit_one(con, month, out_dir, org, at, max_held_share, awaiting: dict[str, int]) -> Submission:
    first = f"{month}-01"
    held = dict(
        con.execute(
            "select rule, count(*) from audit.submission_holds where report_month <= ?::date"
            " group by rule order by rule",
            [first],
        ).fetchall()
    )
    held_in_month, in_month = con.execute(
        "select (select count(*) from audit.submission_holds where report_month = ?::date),"
        " (select count(*) from marts.credit_report_monthly where report_month = ?::date)",
        [first, first],
    ).fetchone()
    if in_month and held_in_month / in_month > max_held_share:
        return Submission(
            month,
            file=None,
            records=0,
            held_per_rule=held,
            written=False,
            message=f"{month}: nothing written: {held_in_month:,} of {in_month:,} records held"
            f" ({held_in_month / in_month:.1%}, more than {max_held_share:.0%}): see audit.submission_holds",
        )
    # line numbers from a narrow sort: sorting the records with their text is 3x slower at 1M
    con.execute(
        """create or replace temp table file_order as
           select account_id, report_month, 1 + row_number() over (order by account_id, report_month) as line_no
           from candidates anti join audit.submission_holds using (account_id, report_month)
           where file_month = ?::date""",
        [first],
    )
    amounts = ", ".join(f'"{a}"' for a in layout.AMOUNTS_SUMMED)
    con.execute(
        f"""create or replace temp table outgoing as
            select account_id, report_month, line_no, consent_agreement_id, repayment_history_24m, "RptDateCode",
                   {amounts}, {line_sql()} as line,
                   md5(segment_b) as segment_b_md5, md5(segment_c) as segment_c_md5, md5(segment_h) as segment_h_md5,
                   -- the record's: over its segments' (hashing the line again costs 7% of the mart's build at 1M)
                   md5(concat(segment_b_md5, segment_c_md5, segment_h_md5)) as record_md5
            from (select *, {segments_sql()} from candidates join file_order using (account_id, report_month))"""
    )
    records = con.execute("select count(*) from outgoing").fetchone()[0]
    waiting = sum(n for m, n in awaiting.items() if m <= month)
    waits = f"; {waiting:,} records wait for a correction (an earlier month became reportable)" if waiting else ""
    if records == 0:
        _mark_submitted(con, first, at)
        message = _nothing_to_submit(con, month) + waits
        return Submission(month, None, 0, held_per_rule=held, message=message, awaiting_correction=waiting)
    result = _write(con, month, out_dir, org, at, records, held)
    return replace(result, message=result.message + waits, awaiting_correction=waiting)


def _awaiting_correction(con: duckdb.DuckDBPyConnection, last: str) -> dict[str, int]:
    """Per month, the mart's records the bureau lacks but takes only after deleting the account's
    later ones (213, then 210 in date order): corrections, not yet written (a defect until they are)."""
    return dict(
        con.execute(
            """select strftime(mart.report_month, '%Y-%m'), count(*) from marts.credit_report_monthly as mart
               join sent_through using (account_id)
               anti join audit.bureau_records as sent using (account_id, report_month)
               where mart.report_month <= ?::date and mart.report_month < sent_through.last_sent
               group by 1""",
            [last],
        ).fetchall()
    )


def unsubmitted_months(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The built months not submitted yet, oldest first."""
    ensure_ledger(con)
    return [
        r[0]
        for r in con.execute(
            """select distinct strftime(report_month, '%Y-%m') from marts.credit_report_monthly
               where report_month not in (select month from audit.submitted_months) order by 1"""
        ).fetchall()
    ]


def _check_folder(out_dir: Path) -> None:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SubmissionError(f"cannot create the submissions folder {out_dir}: {exc.strerror}") from None
    if not os.access(out_dir, os.W_OK | os.X_OK):
        raise SubmissionError(f"the submissions folder {out_dir} is not writable")


def _check_months_are_ready(con: duckdb.DuckDBPyConnection, months: list[str]) -> None:
    """The months are built and their build passed; every built month before them was submitted."""
    try:
        built = [
            r[0]
            for r in con.execute(
                "select distinct strftime(report_month, '%Y-%m') from marts.credit_report_monthly order by 1"
            ).fetchall()
        ]
    except duckdb.CatalogException:
        raise SubmissionError("no reporting mart in the warehouse: run the pipeline first") from None
    for month in months:
        if month not in built:
            span = f"{built[0]} .. {built[-1]}" if built else "none"
            raise SubmissionError(f"{month} is not built: the reporting mart holds the months {span}")
    queued = (  # a loaded batch changed these months; their build has not passed since
        con.execute(f"select strftime(min(rebuild_from), '%Y-%m') from {rebuild.QUEUE}").fetchone()[0]
        if _table_exists(con, *rebuild.QUEUE.split("."))
        else None
    )
    if queued and queued <= months[-1]:
        raise SubmissionError(
            f"{max(queued, months[0])} is not built: its build has not passed since a batch changed it"
            f" (rebuild queued from {queued}): run the pipeline first"
        )
    submitted = {r[0] for r in con.execute("select strftime(month, '%Y-%m') from audit.submitted_months").fetchall()}
    missing = [m for m in built if m < months[-1] and m not in submitted and m not in months]
    if missing:
        raise SubmissionError(f"submit {missing[0]} first: months are submitted in order")


def _table_exists(con, schema: str, table: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from duckdb_tables() where schema_name = ? and table_name = ?", [schema, table]
        ).fetchone()[0]
    )


def _hold(con: duckdb.DuckDBPyConnection, at: datetime) -> None:
    """S1–S6 on the candidates; a failing record holds back its account's later records too."""
    context = """
        with flagged as (
            select candidates.*,
                   account_id in (select account_id from sent_through) as bureau_holds_account,
                   report_month = min(report_month) over (partition by account_id) as is_first_candidate,
                   (select min(report_month) from marts.credit_report_monthly) as first_reporting_month
            from candidates
        )"""
    failing = " union all ".join(
        f"select account_id, report_month, '{rule}' as rule, {detail} as detail from flagged where {condition}"
        for rule, condition, detail in RULES
    )
    con.execute("delete from audit.submission_holds")  # the holds as they stand now
    con.execute(
        f"""insert into audit.submission_holds
            {context}, failing as ({failing}),
            first_failure as (select account_id, arg_min(rule, report_month) as rule, min(report_month) as since,
                                     arg_min(detail, report_month) as detail
                              from failing group by account_id)
            select c.report_month, c.account_id, f.rule,
                   case when c.report_month = f.since then f.detail
                        else 'held since ' || strftime(f.since, '%Y-%m') || ' (' || f.rule || ')' end,
                   ?::timestamptz
            from candidates as c join first_failure as f
              on c.account_id = f.account_id and c.report_month >= f.since""",
        [at],
    )


def _mark_submitted(con, first: str, at: datetime) -> None:
    con.execute("insert or ignore into audit.submitted_months values (?::date, ?)", [first, at])


def _nothing_to_submit(con, month: str) -> str:
    sent, files = con.execute(
        """select count(*), string_agg(distinct file_name, ', ' order by file_name)
           from audit.bureau_records where report_month = ?::date""",
        [f"{month}-01"],
    ).fetchone()
    return f"nothing to submit for {month}: {sent:,} records already sent in {files or 'no file'}"


def _write(con, month, out_dir: Path, org: str, at: datetime, records: int, held: dict) -> Submission:
    day, stamp = at.strftime("%Y%m%d"), at.strftime("%Y%m%d%H%M%S")
    serial = (
        1
        + con.execute(
            "select coalesce(max(serial), 0) from audit.bureau_files where file_name like ? and record_type = ?",
            [f"{org}{day}{layout.RECORD_210}%", layout.RECORD_210],
        ).fetchone()[0]
    )
    if serial > 999:
        raise SubmissionError(f"a 1000th {layout.RECORD_210} file on {day}: the bureau numbers at most 999 a day")
    name = layout.file_name(org, day, layout.RECORD_210, serial)
    path = out_dir / name
    if path.exists():
        raise SubmissionError(
            f"{path} exists but is not in this warehouse's ledger: is another warehouse writing there?"
        )
    partial = path.with_name(name + PARTIAL)
    _copy_lines(con, layout.header(layout.RECORD_210, org, stamp, records), partial)
    sha = file_sha256(partial)
    per_code = dict(con.execute('select "RptDateCode", count(*) from outgoing group by 1 order by 1').fetchall())
    months = [
        r[0] for r in con.execute("select distinct strftime(report_month, '%Y-%m') from outgoing order by 1").fetchall()
    ]
    sums = dict(
        zip(
            layout.AMOUNTS_SUMMED,
            con.execute(
                "select " + ", ".join(f'sum("{a}")::bigint' for a in layout.AMOUNTS_SUMMED) + " from outgoing"
            ).fetchone(),
            strict=True,
        )
    )
    sidecar = {
        "record_type": layout.RECORD_210,
        "report_months": months,
        "records": records,
        "records_per_rpt_date_code": per_code,
        "amounts_written": sums,
        "held_per_rule": held,
        "sha256": sha,
    }
    side_partial = path.with_name(name + ".json" + PARTIAL)
    side_partial.write_text(json.dumps(sidecar, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    con.execute("begin transaction")
    try:
        con.execute(
            "insert into audit.bureau_files values (?, ?, ?, ?, ?::date, ?, ?, ?)",
            [name, layout.RECORD_210, serial, at, f"{month}-01", ",".join(months), records, sha],
        )
        con.execute(
            """insert into audit.bureau_records
               select ?, line_no, '210', account_id, report_month,
                      last_day(report_month), "RptDateCode", record_md5, segment_b_md5, segment_c_md5, segment_h_md5,
                      consent_agreement_id, repayment_history_24m
               from outgoing""",
            [name],
        )
        _mark_submitted(con, f"{month}-01", at)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    os.replace(side_partial, path.with_name(name + ".json"))
    os.replace(partial, path)
    return Submission(
        month,
        file=path,
        records=records,
        records_per_code=per_code,
        held_per_rule=held,
        sha256=sha,
        message=f"{month}: {records:,} records written to {name}",
    )


def _copy_lines(con: duckdb.DuckDBPyConnection, header: str, path: Path) -> None:
    """The header, then `outgoing`'s lines in file order, CRLF-ended, written by DuckDB (4x faster
    than Python); synced before the ledger records the file. A one-column CSV without quoting is
    the lines as they are: the delimiter never appears and control characters never reach a line."""
    target = str(path).replace("'", "''")
    con.execute(
        f"""copy (select line from (select 1 as line_no, '{header}' as line
                                    union all select line_no, line from outgoing) order by line_no)
            to '{target}' (format csv, header false, quote '', escape '', delimiter '\x1f', new_line '\r\n')"""
    )
    with open(path, "rb+") as fh:
        os.fsync(fh.fileno())


def recover(con: duckdb.DuckDBPyConnection, out_dir: Path) -> None:
    """Finish what a killed run left: rename partial files the ledger holds, remove the others."""
    ledger = dict(con.execute("select file_name, sha256 from audit.bureau_files").fetchall())
    for partial in sorted(out_dir.glob("*" + PARTIAL)):
        final = partial.with_name(partial.name.removesuffix(PARTIAL))
        name = final.name.removesuffix(".json")
        if name not in ledger:
            partial.unlink()  # not committed: never sent; the run writes it again
        elif final.suffix == ".json" or file_sha256(partial) == ledger[name]:
            os.replace(partial, final)
    for name in ledger:
        if not (out_dir / name).is_file():
            raise SubmissionError(f"{name} is in the ledger but not in {out_dir}: restore it before submitting more")
