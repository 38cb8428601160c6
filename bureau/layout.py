"""The bureau's messages as its collection client reads them (docs/submission-contract.md): file
names, the header line, the segments and their elements in order, for the 210 record and the
corrections 212, 213 and 214. Writer and reader share it."""

from __future__ import annotations

import re

ENCODING = "utf-8"
LINE_END = "\r\n"
RECORD_210 = "210"  # adds a record
RECORD_212 = "212"  # replaces one segment of a held record
RECORD_213 = "213"  # deletes an account's held records in a date range
RECORD_214 = "214"  # deletes every record held for an account
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
# 212: its key, then the one segment it replaces, whole (B: the identity elements only)
MODIFICATION_KEY = ("InfRecType", "ModRecCode", "RptDate", "AcctType", "MdfcSgmtCode")
MODIFIED_SEGMENTS = {
    "B": ("AcctBsSgmt", ("Name", "IDType", "IDNum", "MngmtOrgCode")),
    "C": SEGMENTS_210[1],
    "H": SEGMENTS_210[2],
}
DELETION_213 = ("InfRecType", "DelRecCode", "DelSgmtCode", "DelStartDate", "DelEndDate")
DELETION_214 = ("InfRecType", "DelRecCode")
# the element under <Document> of each record type
RECORD_ELEMENT = {"210": "InAcctInf", "212": "InAcctMdfc", "213": "InAcctDel", "214": "InAcctEntDel"}
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
