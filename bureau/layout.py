"""The 210 message as the bureau's collection client reads it (docs/submission-contract.md): file
names, the header line, the segments and their elements in order. Writer and reader share it."""

from __future__ import annotations

import re

ENCODING = "utf-8"
LINE_END = "\r\n"
RECORD_210 = "210"
HEADER_LENGTH = 50
ORG_CODE = re.compile(r"[0-9A-Z]{14}")
FILE_NAME = re.compile(r"(?P<org>[0-9A-Z]{14})(?P<date>\d{8})(?P<type>\d{3})0(?P<serial>\d{3})0\.txt")

# (segment, its elements in order); AcctBsInfSgmt only in a first report (RptDateCode 10 or 31)
SEGMENTS_210 = (
    (
        "AcctBsSgmt",
        ("InfRecType", "AcctType", "AcctCode", "RptDate", "RptDateCode", "Name", "IDType", "IDNum", "MngmtOrgCode"),
    ),
    ("AcctBsInfSgmt", ("OpenDate", "Cy", "AcctCredLine", "LoanAmt", "DueDate", "RepayFreqcy", "RepayPrd")),
    (
        "AcctMthlyBlgInfSgmt",
        (
            "Month",
            "SettDate",
            "AcctStatus",
            "AcctBal",
            "FiveCate",
            "RpyStatus",
            "OverdPrd",
            "TotOverd",
            "CurRpyAmt",
            "ActRpyAmt",
            "CloseDate",
        ),
    ),
)
FIRST_REPORT_CODES = ("10", "31")
REPORT_CODES = ("10", "30", "31", "32")
PAYMENT_STATUSES = ("N", "M", "*", "1", "2", "3", "4", "5", "6", "7", "C")  # S2
ACCOUNT_STATUS = {"NORMAL": "1", "OVERDUE": "2", "CLOSED": "3"}
FIVE_LEVEL = {"NORMAL": "1", "SPECIAL_MENTION": "2", "SUBSTANDARD": "3", "DOUBTFUL": "4", "LOSS": "5"}
AMOUNTS_SUMMED = ("AcctBal", "TotOverd", "CurRpyAmt", "ActRpyAmt")  # in the sidecar


def file_name(org: str, day: str, record_type: str, serial: int) -> str:
    """`{org}{yyyyMMdd}{type}0{serial}0.txt`; serials run 001..999 per org, day and type."""
    return f"{org}{day}{record_type}0{serial:03d}0.txt"


def header(record_type: str, org: str, generated: str, records: int) -> str:
    """Line 1: `A`, `050`, the type, `2.0.0`, two spaces, org, yyyyMMddHHmmss, `0`, 7-digit count."""
    line = f"A050{record_type}2.0.0  {org}{generated}0{records:07d}"
    assert len(line) == HEADER_LENGTH, line
    return line
