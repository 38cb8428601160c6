"""The mart's records as 210 lines, and the checks before sending (S1–S6), in SQL: one pass over
the month in DuckDB, no per-record Python (docs/submission-contract.md, "Record 210")."""

from __future__ import annotations

from bureau.layout import (
    ACCOUNT_STATUS,
    FIRST_REPORT_CODES,
    FIVE_LEVEL,
    MODIFIED_SEGMENTS,
    PAYMENT_STATUSES,
    SEGMENTS_210,
)
from foundation import gb11643


def _yuan(amount: str) -> str:
    """Whole yuan, half up (amounts are never negative: the gate holds them back)."""
    return f"cast(round({amount}, 0) as bigint)"


def _case(column: str, mapping: dict[str, str]) -> str:
    return "case " + column + " " + " ".join(f"when '{k}' then '{v}'" for k, v in mapping.items()) + " end"


def _text(value: str) -> str:
    """XML text: & < > escaped."""
    return f"replace(replace(replace(cast({value} as varchar), '&', '&amp;'), '<', '&lt;'), '>', '&gt;')"


def element_values(org: str) -> dict[str, str]:
    """Each element's value as SQL over `mart` (credit_report_monthly) and `account` (its latest
    version); NULL leaves the element out. `org` is a checked data-provider code."""
    first = f"mart.report_reason_code in {FIRST_REPORT_CODES}"
    loan = "mart.account_type = 'D1'"
    rpt_date = "strftime(last_day(mart.report_month), '%Y-%m-%d')"
    return {
        "InfRecType": "'210'",
        "AcctType": "mart.account_type",
        "AcctCode": f"'{org}' || mart.account_id",
        "RptDate": rpt_date,
        "RptDateCode": "mart.report_reason_code",
        "Name": "mart.full_name",
        "IDType": "'10'",
        "IDNum": "mart.id_number",
        "MngmtOrgCode": f"'{org}'",
        "OpenDate": "strftime(mart.opened_on, '%Y-%m-%d')",
        "Cy": "'CNY'",
        "AcctCredLine": f"case when mart.account_type = 'R1' then {_yuan('mart.credit_limit')} end",
        "LoanAmt": f"case when {loan} then {_yuan('account.loan_amount')} end",
        # the day clipped to the month's end (DuckDB's month arithmetic does)
        "DueDate": f"case when {loan} then strftime(mart.opened_on + to_months(account.term_months), '%Y-%m-%d') end",
        "RepayFreqcy": "'03'",
        "RepayPrd": f"case when {loan} then account.term_months end",
        "Month": "strftime(mart.report_month, '%Y-%m')",
        "SettDate": rpt_date,
        "AcctStatus": _case("mart.account_status", ACCOUNT_STATUS),
        "AcctBal": _yuan("mart.balance"),
        "FiveCate": _case("mart.five_level_class", FIVE_LEVEL),
        "RpyStatus": "mart.month_status",
        "OverdPrd": "mart.overdue_periods",
        "TotOverd": _yuan("mart.overdue_amount"),
        "CurRpyAmt": _yuan("mart.amount_due"),
        "ActRpyAmt": _yuan("mart.amount_paid"),
        "CloseDate": "case when mart.report_reason_code = '32' then strftime(account.closed_on, '%Y-%m-%d') end",
        "_first_report": first,
    }


# the elements whose values come from received text; the others are codes, dates and numbers
TEXT_ELEMENTS = ("AcctCode", "Name", "IDNum")


def _element(name: str) -> str:
    """`<Name>value</Name>`, NULL when the value is (concat leaves it out)."""
    column = f'"{name}"'
    value = _text(column) if name in TEXT_ELEMENTS else f"cast({column} as varchar)"
    return f"'<{name}>' || {value} || '</{name}>'"


def _segment(name: str, elements: tuple[str, ...]) -> str:
    # one concat of many parts: a chain of || builds every prefix again (25% slower at 1M)
    return f"concat('<{name}>', " + ", ".join(_element(e) for e in elements) + f", '</{name}>')"


def mapped_sql(org: str, where: str) -> str:
    """Per mart record matching `where`: its element values (the checks read these)."""
    values = element_values(org)
    return f"""
    select
        mart.account_id, mart.report_month, mart.consent_agreement_id, mart.repayment_history_24m,
        {", ".join(f'{sql} as "{name}"' for name, sql in values.items())}
    from marts.credit_report_monthly as mart
    left join staging.stg_landing__accounts as account using (account_id)
    where {where}
    """


def record_md5_sql(b: str, c: str, h: str) -> str:
    """The record's md5, over its segments' md5s (B, C or NULL, H): one formula for the ledger, the
    bureau's view and the comparison, or every record would look changed."""
    return f"md5(concat({b}, {c}, {h}))"


def segments_sql() -> str:
    """Over mapped records: each segment as XML (line_sql joins them)."""
    (bs, bs_elements), (inf, inf_elements), (monthly, monthly_elements) = SEGMENTS_210
    return f"""{_segment(bs, bs_elements)} as segment_b,
        case when _first_report then {_segment(inf, inf_elements)} end as segment_c,
        {_segment(monthly, monthly_elements)} as segment_h"""


def line_sql() -> str:
    return "concat('<Document><InAcctInf>', segment_b, segment_c, segment_h, '</InAcctInf></Document>')"


def _simple(name: str, value: str) -> str:
    return f"'<{name}>', {value}, '</{name}>'"


def modification_line_sql(segment_code: str) -> str:
    """A 212 over mapped records: the key, then the segment named by the column `segment_code`."""
    replaced = " ".join(
        f"when '{code}' then {_segment(name, elements)}" for code, (name, elements) in MODIFIED_SEGMENTS.items()
    )
    return f"""concat('<Document><InAcctMdfc><BsSgmt>', {_simple("InfRecType", "'212'")},
        {_simple("ModRecCode", _text('"AcctCode"'))}, {_simple("RptDate", '"RptDate"')},
        {_simple("AcctType", '"AcctType"')}, {_simple("MdfcSgmtCode", segment_code)}, '</BsSgmt><MdfcSgmt>',
        case {segment_code} {replaced} end, '</MdfcSgmt></InAcctMdfc></Document>')"""


def deletion_line_sql(org: str) -> str:
    """A 213 over (account_id, report_month, deleted_through): the account's records in the range."""
    code = _text(f"'{org}' || account_id")
    start, end = "strftime(last_day(report_month), '%Y-%m-%d')", "strftime(last_day(deleted_through), '%Y-%m-%d')"
    return f"""concat('<Document><InAcctDel>', {_simple("InfRecType", "'213'")}, {_simple("DelRecCode", code)},
        {_simple("DelSgmtCode", "'H'")}, {_simple("DelStartDate", start)}, {_simple("DelEndDate", end)},
        '</InAcctDel></Document>')"""


def entire_deletion_line_sql(org: str) -> str:
    """A 214 over account_id: every record held for the account."""
    code = _text(f"'{org}' || account_id")
    return f"""concat('<Document><InAcctEntDel>', {_simple("InfRecType", "'214'")},
        {_simple("DelRecCode", code)}, '</InAcctEntDel></Document>')"""


# S1–S6 on the values as written: (rule, SQL true when the record fails, detail). S6 needs to know
# whether the bureau holds the account (`bureau_holds_account`) and the first reporting month.
RULES = (
    (
        "S1",
        f"""not {gb11643.is_valid_sql('"IDNum"')}
            or try_strptime(substr("IDNum", 7, 8), '%Y%m%d') is null
            or coalesce(trim("Name"), '') = ''""",
        "'IDNum fails GB 11643 (check character or birth date), or Name is empty'",
    ),
    (
        "S2",
        f"""coalesce("RpyStatus" not in {PAYMENT_STATUSES}, true)""",
        "'RpyStatus ' || coalesce(\"RpyStatus\", 'NULL') || ' is not a reportable status'",
    ),
    (
        "S3",
        """("RpyStatus" in ('N', 'M', '*') and ("OverdPrd" <> 0 or "TotOverd" <> 0))
            or ("RpyStatus" in ('1', '2', '3', '4', '5', '6', '7') and ("OverdPrd" <= 0 or "TotOverd" <= 0))""",
        """'RpyStatus ' || "RpyStatus" || ' with OverdPrd ' || "OverdPrd" || ' and TotOverd ' || "TotOverd\"""",
    ),
    (
        "S4",
        """not (("RptDateCode" = '32') = ("RpyStatus" = 'C') and ("RpyStatus" = 'C') = ("AcctStatus" = '3')
                and ("AcctStatus" = '3') = ("CloseDate" is not null))""",
        """'RptDateCode ' || "RptDateCode" || ', RpyStatus ' || "RpyStatus" || ', AcctStatus ' || "AcctStatus"
            || ', CloseDate ' || coalesce("CloseDate", 'none')""",
    ),
    (
        "S5",
        # unknown when the month-end snapshot (balance and limit) is held in quarantine: not shown to hold
        '"AcctBal" is null or "TotOverd" > "AcctBal"',
        """case when "AcctBal" is null then 'AcctBal missing: the month-end snapshot is held in quarantine'
                else 'TotOverd ' || "TotOverd" || ' > AcctBal ' || "AcctBal" end""",
    ),
    (
        "S6",
        # P8: history before the warehouse: the bureau has the account from the lender's earlier
        # reporting, so its first record here may be a regular one; R19: a closing report (32)
        # wins over an opening one, so an account's only record may be 32.
        """not bureau_holds_account and is_first_candidate and "RptDateCode" not in ('10', '31', '32')
            and not ("RptDateCode" = '30' and report_month = first_reporting_month)""",
        """'first record of the account has RptDateCode ' || "RptDateCode\"""",
    ),
)

RULE_TITLES = {  # for people: the dashboard's Submissions page
    "S1": "S1 identity number or name invalid",
    "S2": "S2 repayment status not reportable",
    "S3": "S3 status and overdue disagree",
    "S4": "S4 closing fields disagree",
    "S5": "S5 overdue above balance, or balance missing",
    "S6": "S6 first record not a first report",
}
