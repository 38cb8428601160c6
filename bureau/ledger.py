"""The ledger of what was sent: every file and every record line, beside the files themselves, and
the bureau's view it leads to (what the bureau holds per account and month).

Created with the warehouse's other schemas (ingestion/raw_load.py), so the analytics views over it
build before anything was sent."""

from __future__ import annotations

import duckdb

DDL = (
    "create schema if not exists audit",
    """create table if not exists audit.bureau_files (
        file_name varchar primary key,
        record_type varchar not null,        -- 210, or a correction: 212, 213, 214
        serial integer not null,
        written_order integer not null,      -- the order the bureau is given the files in
        generated_at timestamptz not null,   -- chosen once: writing the file again gives the same bytes
        submission_month date not null,      -- the month whose submission run wrote it
        report_months varchar not null,      -- the months its records report, comma-separated
        records bigint not null,
        sha256 varchar not null
    )""",
    """create table if not exists audit.bureau_records (
        file_name varchar not null,
        line integer not null,               -- 2 for the first record (line 1 is the header)
        record_type varchar not null,
        account_id varchar not null,
        report_month date,                   -- 210, 212: the record's month; 213: the first deleted; 214: none
        rpt_date date,
        rpt_date_code varchar,               -- 210, R19: 10 opened, 31 first report of an open account, 30, 32 closed
        modified_segment varchar,            -- 212: B, C or H
        deleted_through date,                -- 213: the last month deleted
        -- md5 of each segment, and of the three (the record's): what a correction compares; the
        -- file's seal is its sha256. A 212 carries the record's new md5 and its segment's.
        record_md5 varchar,
        segment_b_md5 varchar,
        segment_c_md5 varchar,               -- only in a first report
        segment_h_md5 varchar,
        consent_agreement_id varchar,        -- 210, 212 (R6): the authorization behind the record
        repayment_history_24m varchar        -- kept beside the record, not sent
        -- no key on (file_name, line): bureau_files' key and the one transaction that records a
        -- file already make its lines unique; the index cost ~3 s of the step's ~70 at 1M
    )""",
    """create table if not exists audit.bureau_view (
        -- what the bureau holds after every file written (less what its feedback refused)
        account_id varchar not null,
        report_month date not null,
        rpt_date_code varchar not null,
        record_md5 varchar not null,
        segment_b_md5 varchar not null,
        segment_c_md5 varchar,
        segment_h_md5 varchar not null,
        file_name varchar not null,          -- the line that last set it: a 210 or a 212
        line integer not null
    )""",
    """create table if not exists audit.bureau_replaced (
        -- what each correction line replaced or deleted: the bureau's view row as it stood (what a
        -- refused correction gives back)
        file_name varchar not null,
        line integer not null,
        account_id varchar not null,
        report_month date not null,
        replaced_file_name varchar not null,
        replaced_line integer not null,
        replaced_rpt_date_code varchar not null,
        replaced_record_md5 varchar not null,
        replaced_segment_b_md5 varchar not null,
        replaced_segment_c_md5 varchar,
        replaced_segment_h_md5 varchar not null
    )""",
    """create table if not exists audit.bureau_feedback (
        feedback_file varchar primary key,   -- the bureau's .fbk, applied once
        file_name varchar not null,          -- the file it answers
        sha256 varchar not null,
        refused bigint not null,
        applied_at timestamptz not null
    )""",
    """create table if not exists audit.bureau_refused (
        -- a line the bureau's feedback refused: it left the bureau's view, and is sent again only
        -- once what it carried changed (refused_md5: the record's, the segment's for a 212)
        feedback_file varchar not null,
        file_name varchar not null,
        line integer not null,
        record_type varchar not null,
        account_id varchar not null,
        report_month date,
        modified_segment varchar,
        deleted_through date,
        refused_md5 varchar,
        code varchar not null,
        message varchar not null,
        refused_at timestamptz not null
    )""",
    """create table if not exists audit.submission_holds (
        report_month date not null,
        account_id varchar not null,
        rule varchar not null,               -- S1..S6
        detail varchar not null,
        held_at timestamptz not null
    )""",
    """create table if not exists audit.submitted_months (
        month date primary key,              -- a month whose submission run ended (file or nothing to send)
        submitted_at timestamptz not null
    )""",
)


def ensure_ledger(con: duckdb.DuckDBPyConnection) -> None:
    _upgrade_ledger_before_corrections(con)
    for statement in DDL:
        con.execute(statement)


def _upgrade_ledger_before_corrections(con: duckdb.DuckDBPyConnection) -> None:
    """A ledger written before corrections existed (no `written_order`): its two tables rebuilt in
    the current layout, the order written from the generation times, and its 210 lines (all the
    bureau was ever sent) as the bureau's view. One transaction: upgraded whole or not at all."""
    columns = {
        r[0]
        for r in con.execute(
            "select column_name from duckdb_columns() where schema_name = 'audit' and table_name = 'bureau_files'"
        ).fetchall()
    }
    if not columns or "written_order" in columns:
        return
    con.execute("begin transaction")
    try:
        con.execute("alter table audit.bureau_files rename to bureau_files_before_corrections")
        con.execute("alter table audit.bureau_records rename to bureau_records_before_corrections")
        for statement in DDL:
            con.execute(statement)
        con.execute(
            """insert into audit.bureau_files
               select file_name, record_type, serial,
                      row_number() over (order by generated_at, submission_month, file_name),
                      generated_at, submission_month, report_months, records, sha256
               from audit.bureau_files_before_corrections"""
        )
        con.execute(
            """insert into audit.bureau_records by name
               select * from audit.bureau_records_before_corrections"""
        )
        con.execute(
            """insert into audit.bureau_view
               select account_id, report_month, rpt_date_code, record_md5, segment_b_md5, segment_c_md5,
                      segment_h_md5, file_name, line
               from audit.bureau_records_before_corrections"""
        )
        con.execute("drop table audit.bureau_files_before_corrections")
        con.execute("drop table audit.bureau_records_before_corrections")
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
