"""The ledger of what was sent: every file and every record line, beside the files themselves.

Created with the warehouse's other schemas (ingestion/raw_load.py), so the analytics views over it
build before anything was sent."""

from __future__ import annotations

import duckdb

DDL = (
    "create schema if not exists audit",
    """create table if not exists audit.bureau_files (
        file_name varchar primary key,
        record_type varchar not null,
        serial integer not null,
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
        report_month date not null,
        rpt_date date not null,
        rpt_date_code varchar not null,      -- R19: 10 opened, 31 first report of an open account, 30, 32 closed
        -- md5 of each segment, and of the three (the record's): what a correction compares; the
        -- file's seal is its sha256
        record_md5 varchar not null,
        segment_b_md5 varchar not null,
        segment_c_md5 varchar,               -- only in a first report
        segment_h_md5 varchar not null,
        consent_agreement_id varchar not null,  -- R6: the authorization behind the record
        repayment_history_24m varchar not null  -- kept beside the record, not sent
        -- no key on (file_name, line): bureau_files' key and the one transaction that records a
        -- file already make its lines unique; the index cost ~3 s of the step's ~70 at 1M
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
    for statement in DDL:
        con.execute(statement)
