"""A submission run: the corrections the bureau needs (bureau/corrections.py), then each month's
records the bureau does not hold yet, checked (S1–S6), as one 210 file with its sidecar, each file
recorded in the ledger with it (bureau/files.py: whole or not at all, a killed run finished by the
next)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import duckdb

from bureau import layout
from bureau.corrections import correct
from bureau.feedback import waiting_refusals
from bureau.files import SubmissionError, Written, check_folder, recover, write_file
from bureau.ledger import ensure_ledger
from bureau.records import RULES, line_sql, mapped_sql, record_md5_sql, segments_sql
from foundation.months import first_day, is_batch_month
from ingestion import rebuild

__all__ = ["Submission", "SubmissionError", "check_org_code", "submit_month", "submit_months", "unsubmitted_months"]

CORRECTION_NAMES = {"212": "a segment replaced", "213": "records deleted", "214": "accounts deleted"}


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
    record_type: str = layout.RECORD_210  # or a correction's: 212, 213, 214


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
    """Submit one month (YYYY-MM), after any corrections; the month's own outcome. SubmissionError
    before anything is written when it cannot be."""
    *_, outcome = submit_months(con, [month], out_dir, org, generated_at, max_held_share)
    return outcome


def submit_months(
    con: duckdb.DuckDBPyConnection,
    months: list[str],
    out_dir: Path,
    org: str,
    generated_at: datetime,
    max_held_share: float,
) -> Iterator[Submission]:
    """Correct what the bureau holds of the months already submitted, then submit these months in
    order, one 210 file each (none: the latest submitted month again, for its corrections), yielding
    each file's outcome as it is written; stops after a month held back whole (the later ones wait).
    SubmissionError before anything is written when the run cannot go."""
    check_org_code(org)
    for month in months:
        if not is_batch_month(month):
            raise SubmissionError(f"{month!r} is not a month YYYY-MM")
    check_folder(out_dir)
    ensure_ledger(con)
    recover(con, out_dir)
    submitted = con.execute("select strftime(max(month), '%Y-%m') from audit.submitted_months").fetchone()[0]
    months = sorted(set(months)) or ([submitted] if submitted else [])
    if not months:
        return
    _check_months_are_ready(con, months, submitted)
    first, last = first_day(months[0]), first_day(months[-1])
    con.execute("delete from audit.submission_holds")  # the holds as they stand after this run
    if submitted and con.execute("select count(*) from audit.bureau_view").fetchone()[0]:
        for written in correct(con, first_day(submitted), months[0], out_dir, org, generated_at):
            yield _correction(months[0], written)
    # per account, the latest month the bureau holds: a 210 can only add months after it
    con.execute(
        "create or replace temp table sent_through as"
        " select account_id, max(report_month) as last_sent from audit.bureau_view group by account_id"
    )
    # the file each record goes out in: a month's own, or the run's first for earlier ones (held
    # before, or sent again after a correction deleted them)
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
    refused = "(account_id, report_month) in (select account_id, report_month from audit.bureau_refused)"
    waiting_refusals(
        con,
        f"""(select account_id, report_month,
                    {record_md5_sql("md5(segment_b)", "md5(segment_c)", "md5(segment_h)")} as record_md5
             from (select *, {segments_sql()} from candidates where {refused}))""",
    )
    con.execute("delete from candidates where (account_id, report_month) in (from waiting)")
    _hold(con, generated_at)
    for month in months:
        result = _submit_one(con, month, out_dir, org, generated_at, max_held_share)
        yield result
        if not result.written:  # the holds as they stand when the run stopped
            con.execute("delete from audit.submission_holds where report_month > ?::date", [first_day(month)])
            return


def _correction(month: str, written: Written) -> Submission:
    what = CORRECTION_NAMES[written.record_type]
    return Submission(
        month,
        file=written.path,
        records=written.records,
        sha256=written.sha256,
        record_type=written.record_type,
        message=f"{month}: {written.records:,} corrections ({written.record_type}, {what})"
        f" written to {written.path.name}",
    )


def _submit_one(con, month, out_dir, org, at, max_held_share) -> Submission:
    first = first_day(month)
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
                   {record_md5_sql("segment_b_md5", "segment_c_md5", "segment_h_md5")} as record_md5
            from (select *, {segments_sql()} from candidates join file_order using (account_id, report_month))"""
    )
    if not con.execute("select count(*) from outgoing").fetchone()[0]:
        _mark_submitted(con, first, at)
        return Submission(month, None, 0, held_per_rule=held, message=_nothing_to_submit(con, month))
    per_code = dict(con.execute('select "RptDateCode", count(*) from outgoing group by 1 order by 1').fetchall())
    sums = con.execute("select " + ", ".join(f'sum("{a}")::bigint' for a in layout.AMOUNTS_SUMMED) + " from outgoing")
    sidecar = {
        "records_per_rpt_date_code": per_code,
        "amounts_written": dict(zip(layout.AMOUNTS_SUMMED, sums.fetchone(), strict=True)),
        "held_per_rule": held,
    }

    def record_in_ledger(con: duckdb.DuckDBPyConnection, name: str) -> None:
        con.execute(
            """insert into audit.bureau_records
               select ?, line_no, '210', account_id, report_month, last_day(report_month), "RptDateCode", null, null,
                      record_md5, segment_b_md5, segment_c_md5, segment_h_md5,
                      consent_agreement_id, repayment_history_24m
               from outgoing""",
            [name],
        )
        con.execute(
            """insert into audit.bureau_view
               select account_id, report_month, "RptDateCode", record_md5, segment_b_md5, segment_c_md5,
                      segment_h_md5, ?, line_no
               from outgoing""",
            [name],
        )
        _mark_submitted(con, first, at)

    written = write_file(con, layout.RECORD_210, "outgoing", month, out_dir, org, at, sidecar, record_in_ledger)
    return Submission(
        month,
        file=written.path,
        records=written.records,
        records_per_code=per_code,
        held_per_rule=held,
        sha256=written.sha256,
        message=f"{month}: {written.records:,} records written to {written.path.name}",
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


def _check_months_are_ready(con: duckdb.DuckDBPyConnection, months: list[str], submitted: str | None) -> None:
    """The months are built and their build passed, and so did the submitted ones' (corrections
    compare them); every built month before them was submitted."""
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
    if queued and queued <= max(months[-1], submitted or ""):
        raise SubmissionError(
            f"{max(queued, months[0])} is not built: its build has not passed since a batch changed it"
            f" (rebuild queued from {queued}): run the pipeline first"
        )
    done = {r[0] for r in con.execute("select strftime(month, '%Y-%m') from audit.submitted_months").fetchall()}
    missing = [m for m in built if m < months[-1] and m not in done and m not in months]
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


def _mark_submitted(con, first: date, at: datetime) -> None:
    con.execute("insert or ignore into audit.submitted_months values (?::date, ?)", [first, at])


def _nothing_to_submit(con, month: str) -> str:
    sent, files = con.execute(
        """select count(*), string_agg(distinct file_name, ', ' order by file_name)
           from audit.bureau_view where report_month = ?::date""",
        [first_day(month)],
    ).fetchone()
    return f"nothing to submit for {month}: {sent:,} records already sent in {files or 'no file'}"
