"""Checks across the files of a batch and the batches already loaded, in SQL.

Orphans are quarantined: an account whose customer is unknown, an event whose account is
unknown. "Known" means in this batch (rows that passed so far) or in any loaded batch. When an
earlier batch is not loaded yet (batches arrive late and out of order), the reference may still
be on its way: the orphan check is left to the dbt relationships tests on staging instead.
Two more rules are flagged, not quarantined, because the rows must still be reported: a JIEBEI
account without its authorization at opening (R4) and a closed account with a balance (P6).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from foundation.landing import FILES_BY_NAME
from foundation.months import BUSINESS_TIMEZONE, first_day, is_batch_month
from ingestion.file_reader import StagedFile

ORPHAN_RULES = (  # (table, column, parent table, parent key)
    ("accounts", "customer_id", "customers", "customer_id"),
    ("agreements", "customer_id", "customers", "customer_id"),
    ("invitations", "customer_id", "customers", "customer_id"),
    ("bills", "account_id", "accounts", "account_id"),
    ("repayments", "account_id", "accounts", "account_id"),
    ("account_snapshots", "account_id", "accounts", "account_id"),
)

FLAGS = {
    "jiebei_without_authorization_at_opening (R4)": """
        select a.account_id from {accounts} a
        where a.product = 'JIEBEI' and not exists (
            select 1 from ({agreements}) g
            where g.customer_id = a.customer_id and g.document_code = 'CREDIT_REPORTING_AUTH'
              and g.product in ('JIEBEI', 'ALL') and g.signed_at <= a.opened_at)
    """,
    "closed_account_with_balance (P6)": """
        select s.account_id from {snapshots} s
        join {accounts} a using (account_id)
        where a.closed_at is not null and s.outstanding_balance <> 0
          and date_trunc('month', timezone('{timezone}', a.closed_at)) <= s.snapshot_month
    """,
}


@dataclass(frozen=True)
class Flag:
    rule: str
    count: int
    examples: list[str]


def earlier_batches_missing(con: duckdb.DuckDBPyConnection, batch_dir: Path) -> bool:
    """True when an earlier batch is not loaded: one in the landing zone, or a gap after the first loaded."""
    month = batch_dir.name
    loaded = {
        r[0]
        for r in con.execute(
            "select distinct strftime(batch_month, '%Y-%m') from audit.load_batches where status <> 'REJECTED'"
        ).fetchall()
    }
    earlier = {p.name for p in batch_dir.parent.iterdir() if p.is_dir() and is_batch_month(p.name) and p.name < month}
    first = min([m for m in loaded if m < month], default=None)
    if first:
        earlier |= {
            m
            for (m,) in con.execute(
                "select strftime(m, '%Y-%m') from range(?::date, ?::date, interval 1 month) t(m)",
                [first_day(first), first_day(month)],
            ).fetchall()
        }
    return bool(earlier - loaded)


def quarantine_orphans(con: duckdb.DuckDBPyConnection, staged: dict[str, StagedFile], month: str) -> None:
    """Parents before children. A child of a row held back in this batch is held back too, with its
    own reason, so that nothing reaches raw whose parent did not."""
    for table, column, parent, key in ORPHAN_RULES:
        child, parent_stage = staged[table], staged[parent]
        child.checks_evaluated += 1
        rows = con.execute(
            f"""
            select c._source_row,
                   exists (select 1 from {parent_stage.stage_table} p where p.{key} = c."{column}"
                           and p.rowid + 1 in ({parent_stage.held_rows_sql})) as parent_held
            from ({child.kept_rows_sql}) c
            where c."{column}" is not null
              and c."{column}" not in (
                  select {key} from ({parent_stage.kept_rows_sql})
                  union all select {key} from raw.{parent} where _batch_month <> ?::date)
            """,
            [first_day(month)],
        ).fetchall()
        unknown = [row for row, parent_held in rows if not parent_held]
        cascaded = [row for row, parent_held in rows if parent_held]
        if unknown:
            child.fail_rows(unknown, f"orphan: {column} unknown in {parent}")
        if cascaded:
            child.fail_rows(cascaded, f"{column} refers to a {parent} row held in quarantine")


def flags(con: duckdb.DuckDBPyConnection, typed: dict[str, str], month: str) -> list[Flag]:
    """Rules to surface without holding rows back; `typed` maps tables to typed good-row selects."""
    columns = ", ".join(FILES_BY_NAME["agreements"].column_names)
    agreements = f"{typed['agreements']} union all select {columns} from raw.agreements where _batch_month <> ?::date"
    out = []
    for rule, sql in FLAGS.items():
        query = sql.format(
            accounts=f"({typed['accounts']})",
            agreements=agreements,
            snapshots=f"({typed['account_snapshots']})",
            timezone=BUSINESS_TIMEZONE,
        )
        ids = [r[0] for r in con.execute(query, [first_day(month)] * query.count("?")).fetchall()]
        out.append(Flag(rule, len(ids), ids[:5]))
    return out
