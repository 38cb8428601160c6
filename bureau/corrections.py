"""Corrections: when a rebuild changed months already sent, the 213, 214 and 212 files that bring
the bureau's view back to the mart (docs/submission-contract.md, "Corrections").

The mart's records of the submitted months are compared with `audit.bureau_view`, record by
record and segment by segment (md5s). Per account:
- a record the bureau lacks, dated before the latest it holds (a late authorization), or a held
  record whose RptDateCode changed (a key element no 212 can replace), is a re-add point: a 213
  deletes the held records from there on, and the run's 210 file sends them again in date order
  (the bureau takes an account's records only in date order);
- a held record the mart no longer has, before any re-add point, is deleted alone (213);
- an account none of whose records remain gets a 214;
- a held record whose B (identity), C (basic information) or H (monthly) segment changed gets
  one 212 per changed segment, checked like a 210 (S1-S5): a failing one is held, the bureau
  keeps the old values.
Files are written 213, 214, 212, then the 210: each file is one the bureau accepts on the view
its predecessors leave, and after the 210 the view equals the mart for every submitted month.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import duckdb

from bureau import layout
from bureau.feedback import waiting_refusals
from bureau.files import Written, write_file
from bureau.records import (
    RULES,
    deletion_line_sql,
    entire_deletion_line_sql,
    mapped_sql,
    modification_line_sql,
    record_md5_sql,
    segments_sql,
)

NO_MONTH = "date '9999-12-01'"


def correct(
    con: duckdb.DuckDBPyConnection, through: date, submission_month: str, out_dir: Path, org: str, at: datetime
) -> Iterator[Written]:
    """Write the corrections that make the bureau hold the mart's records of the months up to
    `through` (a first day) except the re-adds the 210 file sends; yields each file written."""
    _plan(con, org, through)
    if con.execute("select count(*) from deletions").fetchone()[0]:
        yield write_file(con, layout.RECORD_213, "deletions", submission_month, out_dir, org, at, {}, _record_213)
    if con.execute("select count(*) from entire_deletions").fetchone()[0]:
        yield write_file(
            con, layout.RECORD_214, "entire_deletions", submission_month, out_dir, org, at, {}, _record_214
        )
    _hold_modifications(con, org, at)
    if con.execute("select count(*) from modifications").fetchone()[0]:
        per_segment = dict(
            con.execute("select modified_segment, count(*) from modifications group by 1 order by 1").fetchall()
        )
        yield write_file(
            con,
            layout.RECORD_212,
            "modifications",
            submission_month,
            out_dir,
            org,
            at,
            {"records_per_segment": per_segment},
            _record_212,
        )


def _plan(con: duckdb.DuckDBPyConnection, org: str, through: date) -> None:
    con.execute(
        f"""create or replace temp table current_records as
            select *, {record_md5_sql("b", "c", "h")} as record_md5
            from (select account_id, report_month, "RptDateCode" as rpt_date_code,
                         md5(segment_b) as b, md5(segment_c) as c, md5(segment_h) as h
                  from (select *, {segments_sql()}
                        from ({mapped_sql(org, f"mart.report_month <= date '{through}'")})))"""
    )
    waiting_refusals(con, "current_records")
    con.execute("delete from current_records where (account_id, report_month) in (from waiting)")
    con.execute(
        """create or replace temp table compared as
           select coalesce(v.account_id, c.account_id) as account_id,
                  coalesce(v.report_month, c.report_month) as report_month,
                  v.account_id is not null as held, c.account_id is not null as wanted,
                  v.rpt_date_code is distinct from c.rpt_date_code as code_changed,
                  v.segment_b_md5 is distinct from c.b as b_changed,
                  v.segment_c_md5 is distinct from c.c as c_changed,
                  v.segment_h_md5 is distinct from c.h as h_changed
           from audit.bureau_view as v
           full join current_records as c on v.account_id = c.account_id and v.report_month = c.report_month"""
    )
    con.execute(
        """create or replace temp table accounts_held as
           select account_id, max(report_month) filter (where held) as last_held, bool_or(wanted) as any_wanted
           from compared group by account_id having bool_or(held)"""
    )
    con.execute(
        """create or replace temp table readd as
           select account_id, min(report_month) as readd_from
           from compared join accounts_held using (account_id)
           where wanted and ((not held and report_month < last_held) or (held and code_changed))
           group by account_id"""
    )
    con.execute(
        f"""create or replace temp table planned_deletions as
            select account_id, report_month, report_month as deleted_through
            from compared join accounts_held using (account_id) left join readd using (account_id)
            where any_wanted and held and not wanted and report_month < coalesce(readd_from, {NO_MONTH})
            union all  -- from the first held record at or after the re-add point
            select account_id, min(report_month), any_value(last_held)
            from compared join readd using (account_id) join accounts_held using (account_id)
            where held and report_month >= readd_from
            group by account_id"""
    )
    con.execute(
        f"""create or replace temp table deletions as
            select *, 1 + row_number() over (order by account_id, report_month) as line_no,
                   {deletion_line_sql(org)} as line
            from planned_deletions
            where (account_id, report_month, deleted_through) not in (  -- refused as it is: it waits
                select account_id, report_month, deleted_through from audit.bureau_refused
                where record_type = '213')"""
    )
    con.execute(
        f"""create or replace temp table entire_deletions as
            select account_id, null::date as report_month,
                   1 + row_number() over (order by account_id) as line_no, {entire_deletion_line_sql(org)} as line
            from accounts_held
            where not any_wanted and account_id not in (  -- refused, nothing of the account sent since: it waits
                select r.account_id from audit.bureau_refused as r
                join audit.bureau_files as f using (file_name)
                where r.record_type = '214' and not exists (
                    select 1 from audit.bureau_records as b join audit.bureau_files as later using (file_name)
                    where b.account_id = r.account_id and later.written_order > f.written_order))"""
    )
    con.execute(
        f"""create or replace temp table segment_changes as
            select account_id, report_month, code as modified_segment
            from compared left join readd using (account_id),
                 (values ('B'), ('C'), ('H')) as segments(code)
            where held and wanted and not code_changed and report_month < coalesce(readd_from, {NO_MONTH})
              and ((code = 'B' and b_changed) or (code = 'C' and c_changed) or (code = 'H' and h_changed))"""
    )
    con.execute(  # a 212 refused, its segment unchanged since: it waits
        """delete from segment_changes as s using audit.bureau_refused as r, current_records as c
           where r.record_type = '212' and r.account_id = s.account_id and r.report_month = s.report_month
             and r.modified_segment = s.modified_segment
             and c.account_id = s.account_id and c.report_month = s.report_month
             and r.refused_md5 = case s.modified_segment when 'B' then c.b when 'C' then c.c else c.h end"""
    )


def _hold_modifications(con: duckdb.DuckDBPyConnection, org: str, at: datetime) -> None:
    """The new values of each changed record, checked (S1-S5); the failing ones are held."""
    changed = "(mart.account_id, mart.report_month) in (select account_id, report_month from segment_changes)"
    con.execute(
        f"""create or replace temp table modified_records as
            select *, {segments_sql()} from ({mapped_sql(org, changed)})"""
    )
    failing = " union all ".join(
        f"select account_id, report_month, '{rule}' as rule, {detail} as detail from modified_records where {condition}"
        for rule, condition, detail in RULES
        if rule != "S6"  # about an account's first record: a 212 replaces part of a held one
    )
    con.execute(
        f"""create or replace temp table modification_failures as
            select account_id, report_month, min(rule) as rule, arg_min(detail, rule) as detail
            from ({failing}) group by account_id, report_month"""
    )
    con.execute(
        """insert into audit.submission_holds
           select report_month, account_id, rule, 'correction not sent: ' || detail, ? from modification_failures""",
        [at],
    )
    con.execute(
        f"""create or replace temp table modifications as
            select account_id, report_month, modified_segment, consent_agreement_id, repayment_history_24m,
                   md5(segment_b) as b, md5(segment_c) as c, md5(segment_h) as h,
                   1 + row_number() over (order by account_id, report_month, modified_segment) as line_no,
                   {modification_line_sql("modified_segment")} as line
            from segment_changes join modified_records using (account_id, report_month)
            anti join modification_failures using (account_id, report_month)"""
    )


def _record_213(con: duckdb.DuckDBPyConnection, name: str) -> None:
    con.execute(
        """insert into audit.bureau_records (file_name, line, record_type, account_id, report_month, rpt_date,
                                              deleted_through)
           select ?, line_no, '213', account_id, report_month, last_day(report_month), deleted_through
           from deletions""",
        [name],
    )
    con.execute(
        """create or replace temp table deleted as
           select d.line_no, v.* from deletions as d join audit.bureau_view as v
             on v.account_id = d.account_id and v.report_month between d.report_month and d.deleted_through"""
    )
    _replace_and_delete(con, name)


def _record_214(con: duckdb.DuckDBPyConnection, name: str) -> None:
    con.execute(
        """insert into audit.bureau_records (file_name, line, record_type, account_id)
           select ?, line_no, '214', account_id from entire_deletions""",
        [name],
    )
    con.execute(
        """create or replace temp table deleted as
           select d.line_no, v.* from entire_deletions as d join audit.bureau_view as v using (account_id)"""
    )
    _replace_and_delete(con, name)


def _replace_and_delete(con: duckdb.DuckDBPyConnection, name: str) -> None:
    con.execute(
        """insert into audit.bureau_replaced
           select ?, line_no, account_id, report_month, file_name, line, rpt_date_code, record_md5,
                  segment_b_md5, segment_c_md5, segment_h_md5
           from deleted""",
        [name],
    )
    con.execute(
        """delete from audit.bureau_view as v using deleted as d
           where v.account_id = d.account_id and v.report_month = d.report_month"""
    )


def _record_212(con: duckdb.DuckDBPyConnection, name: str) -> None:
    con.execute(
        """insert into audit.bureau_replaced
           select ?, m.line_no, m.account_id, m.report_month, v.file_name, v.line, v.rpt_date_code, v.record_md5,
                  v.segment_b_md5, v.segment_c_md5, v.segment_h_md5
           from modifications as m join audit.bureau_view as v using (account_id, report_month)""",
        [name],
    )
    # the held record once its changed segments are replaced: the mart's (a record failing the
    # checks has none of its segments replaced)
    con.execute(
        f"""create or replace temp table modified_view as
            select *, {record_md5_sql("b", "c", "h")} as record_md5
            from (select account_id, report_month, any_value(b) as b, any_value(c) as c, any_value(h) as h,
                         max(line_no) as line
                  from modifications group by account_id, report_month)"""
    )
    con.execute(
        """insert into audit.bureau_records (file_name, line, record_type, account_id, report_month, rpt_date,
                                              modified_segment, record_md5, segment_b_md5, segment_c_md5,
                                              segment_h_md5, consent_agreement_id, repayment_history_24m)
           select ?, m.line_no, '212', m.account_id, m.report_month, last_day(m.report_month), m.modified_segment,
                  u.record_md5,
                  case when m.modified_segment = 'B' then m.b end, case when m.modified_segment = 'C' then m.c end,
                  case when m.modified_segment = 'H' then m.h end, m.consent_agreement_id, m.repayment_history_24m
           from modifications as m join modified_view as u using (account_id, report_month)""",
        [name],
    )
    con.execute(
        """update audit.bureau_view as v
           set segment_b_md5 = u.b, segment_c_md5 = u.c, segment_h_md5 = u.h, record_md5 = u.record_md5,
               file_name = ?, line = u.line
           from modified_view as u
           where v.account_id = u.account_id and v.report_month = u.report_month""",
        [name],
    )
