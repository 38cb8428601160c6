"""Property-based: for random small landing data, the reporting mart holds exactly the consented
account-months, names the earliest authorization, passes its outgoing checks, and FIFO never
allocates more than was paid."""

from __future__ import annotations

import calendar
from datetime import datetime
from zoneinfo import ZoneInfo

import duckdb
from conftest import dbt_cli, query
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from landing_builder import customer, write_batch
from reference_model import earliest_authorizations, expected_reportable

from bureau.ledger import ensure_ledger
from ingestion.raw_load import load_batch

MONTHS = ["2025-01", "2025-02", "2025-03", "2025-04"]
OFFSETS = ["+08:00", "+00:00", "-05:00", "+09:00"]
CST = ZoneInfo("Asia/Shanghai")


def local_index(timestamp: str) -> int:
    """Month index of the timestamp's local time in Shanghai (R1): the batch a source would put it in."""
    local = datetime.fromisoformat(timestamp).astimezone(CST)
    return local.year * 12 + local.month - 1 - 2025 * 12


def month_of(index: int) -> tuple[int, int]:
    """Month index 0 = 2025-01; negative indexes are before the first batch."""
    year, month = divmod(2025 * 12 + index, 12)
    return year, month + 1


@st.composite
def timestamps(draw, first: int = -3, last: int = 3) -> tuple[int, str]:
    """(local month index, ISO timestamp): days near month ends, times near midnight, any offset."""
    index = draw(st.integers(first, last))
    year, month = month_of(index)
    last_day = calendar.monthrange(year, month)[1]
    day = draw(st.sampled_from([1, 2, 9, 10, 15, last_day - 1, last_day]))
    hour = draw(st.sampled_from([0, 7, 12, 15, 16, 23]))
    return index, f"{year}-{month:02d}-{day:02d}T{hour:02d}:30:00{draw(st.sampled_from(OFFSETS))}"


def amount(draw) -> str:
    return f"{draw(st.integers(0, 300))}.{draw(st.integers(0, 99)):02d}"


@st.composite
def landings(draw) -> dict[str, dict[str, list[dict]]]:
    batches = {
        m: {t: [] for t in ("customers", "accounts", "agreements", "bills", "repayments", "account_snapshots")}
        for m in MONTHS
    }

    def batch_of(index: int) -> dict[str, list[dict]]:
        return batches[MONTHS[min(max(index, 0), len(MONTHS) - 1)]]

    for c in range(draw(st.integers(4, 8))):
        cid = f"C{c}"
        batches[MONTHS[0]]["customers"].append(customer(cid))
        for g in range(draw(st.integers(1, 3))):
            _, signed_at = draw(timestamps(-3, 3))
            index = local_index(signed_at)
            if index > 3:  # signed after the last batch's month: not in any batch yet
                continue
            code = draw(st.sampled_from(["CREDIT_REPORTING_AUTH"] * 3 + ["HUABEI_SERVICE"]))
            batch_of(index)["agreements"].append(
                {
                    "agreement_id": f"G{c}{g}",
                    "customer_id": cid,
                    "product": draw(st.sampled_from(["HUABEI", "JIEBEI", "ALL"])),
                    "document_code": code,
                    "document_version": "1",
                    "signed_at": signed_at,
                    "channel": "APP",
                }
            )
        for a in range(draw(st.integers(1, 2))):
            aid = f"A{c}{a}"
            _, opened_at = draw(timestamps(-3, 2))
            open_index = local_index(opened_at)
            product = draw(st.sampled_from(["HUABEI", "JIEBEI"]))
            account = {
                "account_id": aid,
                "customer_id": cid,
                "product": product,
                "opened_at": opened_at,
                "updated_at": opened_at,
                **({"loan_amount": "1000.00", "term_months": 12} if product == "JIEBEI" else {}),
            }
            batch_of(open_index)["accounts"].append(account)
            close_index = draw(st.one_of(st.none(), st.integers(max(open_index, 0), 3)))
            if close_index is not None:
                year, month = month_of(close_index)
                closed_at = f"{year}-{month:02d}-{calendar.monthrange(year, month)[1]}T23:59:00+08:00"
                if close_index == open_index:
                    account.update(closed_at=closed_at, updated_at=closed_at)
                else:
                    batch_of(close_index)["accounts"].append(dict(account, closed_at=closed_at, updated_at=closed_at))
            for index in range(max(open_index, 0), 4 if close_index is None else close_index + 1):
                year, month = month_of(index)
                due_day = draw(st.sampled_from([9, 10, calendar.monthrange(year, month)[1]]))
                batches[MONTHS[index]]["bills"].append(
                    {
                        "bill_id": f"B{aid}{index}",
                        "account_id": aid,
                        "bill_month": f"{year}-{month:02d}",
                        "statement_date": f"{year}-{month:02d}-01",
                        "due_date": f"{year}-{month:02d}-{due_day:02d}",
                        # a cancelled bill is resent at 0.00 (P11)
                        "amount_due": draw(st.sampled_from(["0.00", amount(draw)])),
                    }
                )
                for p in range(draw(st.integers(0, 2))):
                    _, paid_at = draw(timestamps(index, index))
                    if not max(open_index, 0) <= local_index(paid_at) <= 3:  # the account is known by then
                        continue
                    batches[MONTHS[local_index(paid_at)]]["repayments"].append(
                        {
                            "repayment_id": f"R{aid}{index}{p}",
                            "account_id": aid,
                            "paid_at": paid_at,
                            "amount": f"{draw(st.integers(1, 250))}.00",
                        }
                    )
                batches[MONTHS[index]]["account_snapshots"].append(
                    {
                        "account_id": aid,
                        "snapshot_month": MONTHS[index],
                        "credit_limit": "1000.00",
                        "outstanding_balance": "999999.00",
                    }
                )  # covers any overdue amount
    return batches


@settings(max_examples=8, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(data=landings())
def test_the_mart_is_exactly_the_consented_account_months(data, tmp_path_factory):
    work = tmp_path_factory.mktemp("property")
    landing, warehouse = work / "landing", work / "w.duckdb"
    for month, tables in data.items():
        write_batch(landing, month, tables)
    con = duckdb.connect(str(warehouse))
    for month in MONTHS:
        loaded = load_batch(con, landing / month)
        assert not [f.reason_summary() for f in loaded.files.values() if f.rows_quarantined]  # valid input
    ensure_ledger(con)  # what the Dagster assets add beside the loads: the analytics models read it
    con.close()
    build = dbt_cli("build", "--exclude", "test_type:unit", warehouse=warehouse, target=work / "target")
    assert "ERROR=0" in build.stdout, build.stdout[-4000:]  # every outgoing check holds

    rows = query(
        warehouse,
        "select report_month, account_id, customer_id, product, consent_agreement_id from marts.credit_report_monthly",
    )
    # No record without consent, and every consented open account-month recorded (R3).
    assert {(r[0], r[1]) for r in rows} == expected_reportable(landing)
    # Each names the earliest authorization (R6, P7).
    earliest = earliest_authorizations(landing)
    assert all(r[4] == earliest[(r[2], r[3])] for r in rows)
    # FIFO never allocates more than was paid, nor more than a bill's amount (R8, P4).
    over = query(
        warehouse,
        """
        with allocated as (select account_id, sum(allocated_amount) as allocated,
                                  bool_and(allocated_amount between 0 and amount_due) as within_bills
                           from intermediate.int_bill_coverage group by 1),
             paid as (select account_id, sum(amount) as paid from staging.stg_landing__repayments group by 1)
        select count(*) from allocated left join paid using (account_id)
        where allocated > coalesce(paid, 0) or not within_bills""",
    )
    assert over == [(0,)]
    # P11: a 0.00 bill is never past due: the past-due periods are the bills with an amount due before
    # the month's last day and not covered by then.
    periods = query(
        warehouse,
        """
        select count(*) from marts.credit_report_monthly as mart
        where overdue_periods <> (
            select count(*) from intermediate.int_bill_coverage as bills
            where bills.account_id = mart.account_id and bills.amount_due > 0
              and bills.due_date < last_day(mart.report_month)
              and (bills.covered_on is null or bills.covered_on > last_day(mart.report_month)))""",
    )
    assert periods == [(0,)]
    event("mart rows: " + ("none" if not rows else "1-9" if len(rows) < 10 else "10+"))
