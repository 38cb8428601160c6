"""Why was this customer reported, or not, in month M, and what was sent?

For each of the customer's accounts: the consent that allows reporting (R3, R6) or why there is
none, the opening and closing, the first reportable month (R5), and per month either the record
(its status with the past-due bills behind it after FIFO, its occasion code) with where it went
(the ledger's lines, the bureau's view), or the rule that kept it out. Read from the warehouse's
`analytics.compliance_*` relations (views over staging, the mart and the ledger in the warehouse;
tables in the published copy the dashboard reads), so the command and the Compliance page give the
same answer; no personal data in it (R15): the customer key, account ids and agreement ids only.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import duckdb

from foundation.errors import WarehouseError
from foundation.months import BUSINESS_TIMEZONE, first_day

LOCAL = ZoneInfo(BUSINESS_TIMEZONE)
EXAMPLE_CUSTOMER = "C00000013"  # the key the command's help and the Compliance page show as an example

STATUSES = {
    "N": "normal: nothing past due at the month's end",
    "M": "paid late and cured within the month",
    "*": "no activity: nothing due, nothing paid, zero balance",
    "C": "closed this month: the account's final record",
    **{
        str(n): f"{low}{'+' if high is None else f'-{high}'} days past due"
        for n, (low, high) in enumerate(
            [(1, 30), (31, 60), (61, 90), (91, 120), (121, 150), (151, 180), (181, None)], start=1
        )
    },
}
OCCASIONS = {  # R19
    "10": "first report: opened this month",
    "31": "first report of an account already open: consented this month",
    "30": "regular month",
    "32": "closing month: final report",
}


class ExplainError(WarehouseError):
    """An explanation that cannot be given as asked: one line."""


@dataclass(frozen=True)
class Query:
    customer: str | None = None
    account: str | None = None
    month: str | None = None  # YYYY-MM; None: every loaded month of each account


def explain(con: duckdb.DuckDBPyConnection, query: Query) -> dict:
    customer = query.customer or _customer_of(con, query.account)
    if not _one(con, "select count(*) from analytics.compliance_customers where customer_id = ?", [customer]):
        raise ExplainError(f"no customer {customer} in the warehouse")
    loaded = [
        r[0]
        for r in con.execute(
            "select distinct strftime(batch_month, '%Y-%m') from analytics.load_batches"
            " where status in ('LOADED', 'LOADED_WITH_QUARANTINE') order by 1"
        ).fetchall()
    ]
    accounts = _rows(
        con,
        """select account_id, product, opened_at, opened_on, strftime(opened_month, '%Y-%m') as opened_month,
                  closed_on, strftime(closed_month, '%Y-%m') as closed_month
           from analytics.compliance_accounts where customer_id = ? and (? is null or account_id = ?)
           order by account_id""",
        [customer, query.account, query.account],
    )
    authorizations = _rows(
        con,
        """select agreement_id, signed_for, signed_at, strftime(signed_month, '%Y-%m') as signed_month
           from analytics.compliance_authorizations where customer_id = ? order by signed_at, agreement_id""",
        [customer],
    )
    return {
        "customer": customer,
        "loaded_months": [loaded[0], loaded[-1]] if loaded else [],
        "authorizations": authorizations,
        "quarantined": _quarantined(con, customer, [a["account_id"] for a in accounts]),
        "accounts": [_account(con, a, authorizations, loaded, query.month) for a in accounts],
    }


def _customer_of(con, account: str | None) -> str:
    found = con.execute(
        "select customer_id from analytics.compliance_accounts where account_id = ?", [account]
    ).fetchone()
    if not found:
        raise ExplainError(f"no account {account} in the warehouse")
    return found[0]


def _account(con, account: dict, authorizations: list[dict], loaded: list[str], month: str | None) -> dict:
    consent = _rows(
        con,
        """select consent_agreement_id as agreement_id, consent_signed_at as signed_at,
                  strftime(consent_month, '%Y-%m') as local_month
           from analytics.compliance_consents where customer_id = (
               select customer_id from analytics.compliance_accounts where account_id = ?) and product = ?""",
        [account["account_id"], account["product"]],
    )
    consent = consent[0] if consent else None
    if consent:
        consent["signed_for"] = next(
            a["signed_for"] for a in authorizations if a["agreement_id"] == consent["agreement_id"]
        )
    records = {
        r["report_month"]: r
        for r in _rows(
            con,
            """select strftime(report_month, '%Y-%m') as report_month, report_reason_code, month_status,
                      days_past_due, overdue_periods, overdue_amount, balance, amount_due, amount_paid,
                      account_status, five_level_class, consent_agreement_id
               from analytics.compliance_records where account_id = ? order by report_month""",
            [account["account_id"]],
        )
    }
    account = {
        **account,
        "consent": consent,
        "no_consent_because": None if consent else _why_no_consent(account["product"], authorizations),
        "r4": _r4(account, consent),
        "first_reportable_month": min(records) if records else None,
    }
    months = [month] if month else [m for m in loaded if m >= account["opened_month"]]
    history = _History.read(con, account["account_id"])
    return {**account, "months": [_month(history, account, records.get(m), m, loaded) for m in months]}


def _why_no_consent(product: str, authorizations: list[dict]) -> str:
    others = sorted({a["signed_for"] for a in authorizations})
    if not others:
        return "no reporting authorization signed"
    return f"the reporting authorizations signed are for {', '.join(others)}, not {product} (nor ALL)"


def _r4(account: dict, consent: dict | None) -> str | None:
    """R4, P7: a JIEBEI loan needs its authorization by its opening."""
    if account["product"] != "JIEBEI":
        return None
    if consent is None:
        return "R4: a JIEBEI loan without a reporting authorization (a data-quality failure): not reported until one is"
    if consent["signed_at"] > account["opened_at"]:
        return f"R4: the authorization was signed after the loan opened: reported from {consent['local_month']} (P7)"
    return None


def _month(history: _History, account: dict, record: dict | None, month: str, loaded: list[str]) -> dict:
    consent = account["consent"]

    def out(rule: str, detail: str) -> dict:
        return {"month": month, "reported": False, "rule": rule, "detail": detail}

    if month not in loaded:
        refused = " (its sendings were refused: see `status`)" if month in history.attempted else ""
        return out("month not loaded", f"no batch of the month was loaded{refused} (P1)")
    if month < account["opened_month"]:
        return out("not open", f"opened on {account['opened_on']} (R3)")
    if account["closed_month"] and account["closed_month"] < month:
        return out("not open", f"closed on {account['closed_on']} (R3, R7)")
    if consent is None:
        return out("no valid consent", f"{account['no_consent_because']} (R3)")
    if consent["local_month"] > month:
        return out(
            "not consented yet",
            f"{consent['agreement_id']} was signed in {consent['local_month']} (R3, R5)",
        )
    if record is None:
        return out(
            "not in the mart", "reportable by the rules but not in the reporting mart: build the warehouse again"
        )
    return {
        "month": month,
        "reported": True,
        "record": record,
        "status": STATUSES.get(record["month_status"], record["month_status"]),
        "occasion": OCCASIONS.get(record["report_reason_code"], record["report_reason_code"]),
        "past_due_bills": history.past_due_bills(month),
        "late_bill": history.late_bill(month) if record["month_status"] == "M" else None,
        **history.sent(month),
    }


@dataclass(frozen=True)
class _History:
    """One account's bills, repayments and ledger lines, read once; each month is answered from them."""

    bills: list[dict]
    repayments: list[dict]
    lines: list[dict]
    held: dict[date, dict]  # report month -> the bureau's view row
    holds: dict[date, dict]  # report month -> the check holding it back
    submitted: set[str]
    attempted: set[str]  # months with a load attempt, loaded or refused

    @classmethod
    def read(cls, con, account_id: str) -> _History:
        def rows(sql: str) -> list[dict]:
            return _rows(con, sql, [account_id])

        return cls(
            bills=rows(
                """select bill_id, due_date, due_month, amount_due, cumulative_due, covered_on
                   from analytics.compliance_bills where account_id = ? and amount_due > 0 order by due_date, bill_id"""
            ),
            repayments=rows("select paid_on, amount from analytics.compliance_repayments where account_id = ?"),
            lines=rows(
                """select file_name, line, record_type, modified_segment, report_month, deleted_through, generated_at,
                          refused_code
                   from analytics.compliance_ledger_lines where account_id = ? order by written_order, line"""
            ),
            held={
                r.pop("report_month"): r
                for r in rows(
                    "select report_month, file_name, line from analytics.compliance_bureau_view where account_id = ?"
                )
            },
            holds={
                r.pop("report_month"): r
                for r in rows("select report_month, rule, detail from analytics.compliance_holds where account_id = ?")
            },
            submitted={
                r[0]
                for r in con.execute(
                    "select strftime(report_month, '%Y-%m') from analytics.submission_months where submitted"
                ).fetchall()
            },
            attempted={
                r[0]
                for r in con.execute(
                    "select distinct strftime(batch_month, '%Y-%m') from analytics.load_batches"
                ).fetchall()
            },
        )

    def past_due_bills(self, month: str) -> list[dict]:
        """R8, R9, P3, P4: the bills due before the month's last day that the payments made up to it
        do not cover, each with what FIFO leaves of it uncovered."""
        cut = _month_end(month)
        paid = sum((r["amount"] for r in self.repayments if r["paid_on"] <= cut), Decimal(0))
        return [
            {
                "bill_id": b["bill_id"],
                "due_date": b["due_date"],
                "amount_due": b["amount_due"],
                "uncovered": min(b["amount_due"], b["cumulative_due"] - paid),
                "days_past_due": (cut - b["due_date"]).days,
            }
            for b in self.bills
            if b["due_date"] < cut and (b["covered_on"] is None or b["covered_on"] > cut)
        ]

    def late_bill(self, month: str) -> dict | None:
        """R10 `M`: the first bill due in the month covered after its due date, by the month's end."""
        cut = _month_end(month)
        for b in self.bills:
            if f"{b['due_month']:%Y-%m}" == month and b["covered_on"] and b["due_date"] < b["covered_on"] <= cut:
                return {k: b[k] for k in ("bill_id", "due_date", "amount_due", "covered_on")}
        return None

    def sent(self, month: str) -> dict:
        """The ledger's lines that sent, changed or deleted the month's record, and where it stands."""
        first = first_day(month)
        lines = [
            {k: v for k, v in line.items() if k not in ("report_month", "deleted_through")}
            for line in self.lines
            if (line["record_type"] in ("210", "212") and line["report_month"] == first)
            or (line["record_type"] == "213" and line["report_month"] <= first <= line["deleted_through"])
            or line["record_type"] == "214"
        ]
        if first in self.held:
            row = self.held[first]
            return {
                "sent": lines,
                "at_the_bureau": f"held by the bureau as set by {row['file_name']} line {row['line']}",
            }
        if first in self.holds:
            where = f"held back by {self.holds[first]['rule']}: {self.holds[first]['detail']}"
        elif lines and lines[-1]["refused_code"]:
            where = f"refused by the bureau (code {lines[-1]['refused_code']}): sent again once the record changes"
        elif month not in self.submitted:
            where = f"not sent yet: {month} is not submitted"
        else:
            where = "not held by the bureau: the next submission run sends it"
        return {"sent": lines, "at_the_bureau": where}


def _month_end(month: str) -> date:
    year, number = map(int, month.split("-"))
    return date(year, number, calendar.monthrange(year, number)[1])


def _quarantined(con, customer: str, accounts: list[str]) -> list[dict]:
    """Rows of the customer or their accounts the landing gate held back: file, batch, row, reason."""
    return _rows(
        con,
        """select file, strftime(batch_month, '%Y-%m') as batch_month, source_row, reason
           from analytics.compliance_quarantined
           where customer_id = ? or account_id in (select unnest(?::varchar[]))
           order by batch_month, file, source_row""",
        [customer, accounts],
    )


def _rows(con, sql: str, params: list) -> list[dict]:
    """Rows as dicts, instants in local time (R1) whatever the connection's time zone."""
    cursor = con.execute(sql, params)
    columns = [d[0] for d in cursor.description]
    return [
        {
            c: v.astimezone(LOCAL) if isinstance(v, datetime) and v.tzinfo else v
            for c, v in zip(columns, row, strict=True)
        }
        for row in cursor.fetchall()
    ]


def _one(con, sql: str, params: list):
    return con.execute(sql, params).fetchone()[0]


def as_text(answer: dict) -> str:
    """The answer for people: one block per account, one line per month (more for a record)."""
    out = [f"customer {answer['customer']}: {len(answer['accounts'])} account(s)"]
    if answer["loaded_months"]:
        out.append(f"  months loaded: {answer['loaded_months'][0]} .. {answer['loaded_months'][1]}")
    for q in answer["quarantined"]:
        out.append(
            f"  quarantined at load: {q['file']} row {q['source_row']} of batch {q['batch_month']}: {q['reason']}"
        )
    for a in answer["accounts"]:
        closed = f", closed {a['closed_on']}" if a["closed_on"] else ", open"
        out.append(f"account {a['account_id']} ({a['product']}): opened {a['opened_on']}{closed}")
        c = a["consent"]
        if c:
            signed = f"signed {_instant(c['signed_at'])}, local month {c['local_month']}"
            out.append(f"  consent: {c['agreement_id']} for {c['signed_for']}, {signed}")
        else:
            out.append(f"  consent: none valid: {a['no_consent_because']}")
        if a["r4"]:
            out.append(f"  {a['r4']}")
        out.append(f"  first reportable month: {a['first_reportable_month'] or 'none'}")
        out.extend(line for run in _runs(a["months"]) for line in _month_text(run))
    return "\n".join(out) + "\n"


def _runs(months: list[dict]) -> list[list[dict]]:
    """Consecutive months kept out by the same rule, for the same reason, as one run."""
    runs: list[list[dict]] = []
    for m in months:
        previous = runs[-1][-1] if runs else None
        if (
            previous
            and not m["reported"]
            and not previous["reported"]
            and (m["rule"], m["detail"])
            == (
                previous["rule"],
                previous["detail"],
            )
        ):
            runs[-1].append(m)
        else:
            runs.append([m])
    return runs


def _month_text(run: list[dict]) -> list[str]:
    m = run[0]
    if not m["reported"]:
        months = m["month"] if len(run) == 1 else f"{m['month']} .. {run[-1]['month']}"
        return [f"  {months}: not reported: {m['rule']}: {m['detail']}"]
    r = m["record"]
    lines = [
        f"  {m['month']}: reported, status {r['month_status']} ({m['status']}),"
        f" code {r['report_reason_code']} ({m['occasion']}), under {r['consent_agreement_id']}",
        f"    balance {r['balance']}, due {r['amount_due']}, paid {r['amount_paid']}, overdue {r['overdue_amount']} "
        f"in {r['overdue_periods']} period(s), {r['days_past_due']} days past due",
    ]
    for b in m["past_due_bills"]:
        lines.append(
            f"    past due: bill {b['bill_id']} due {b['due_date']}, {b['uncovered']} of {b['amount_due']}"
            f" uncovered after FIFO, {b['days_past_due']} days"
        )
    if m["late_bill"]:
        b = m["late_bill"]
        lines.append(f"    paid late: bill {b['bill_id']} due {b['due_date']}, covered on {b['covered_on']}")
    for s in m["sent"]:
        what = s["record_type"] + (f" {s['modified_segment']}" if s["modified_segment"] else "")
        refused = f", refused by the bureau (code {s['refused_code']})" if s["refused_code"] else ""
        lines.append(f"    sent: {s['file_name']} line {s['line']} ({what}){refused}")
    lines.append(f"    at the bureau: {m['at_the_bureau']}")
    return lines


def _instant(value: datetime | date) -> str:
    return value.isoformat(sep=" ") if isinstance(value, datetime) else str(value)
