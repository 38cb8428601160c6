"""Reads a bureau file back (210, or a correction: 212, 213, 214) and says what is wrong with it, by
line: the layout, the header, the order, the count, the codes and S1–S6. The tests read what the
writer wrote with it; a user runs it on a file before uploading (`credit-reporting-warehouse submission check FILE`)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from bureau import layout
from foundation import gb11643

HEADER = re.compile(r"A050(?P<type>\d{3})2\.0\.0  (?P<org>[0-9A-Z]{14})(?P<generated>\d{14})0(?P<count>\d{7})")
ELEMENT_ORDER = {segment: elements for segment, elements in layout.SEGMENTS_210}
# the order of a file's lines, and its key: one line per key
ORDER_KEY = {
    "210": ("AcctCode", "RptDate"),
    "212": ("ModRecCode", "RptDate", "MdfcSgmtCode"),  # a record may have two segments replaced
    "213": ("DelRecCode", "DelStartDate"),
    "214": ("DelRecCode",),
}


@dataclass
class BureauFile:
    path: Path
    record_type: str | None = None
    org: str | None = None
    records: list[dict[str, str]] = field(default_factory=list)  # elements by name, plus "_line"
    problems: list[str] = field(default_factory=list)


def read_file(path: Path) -> BureauFile:
    parsed = BureauFile(path)
    problem = parsed.problems.append
    name = layout.FILE_NAME.fullmatch(path.name)
    if not name:
        problem(f"file name {path.name} is not {{org}}{{yyyyMMdd}}{{type}}0{{serial}}0.txt")
    data = path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        problem("line 1: a byte-order mark (UTF-8 without BOM expected)")
    try:
        text = data.decode(layout.ENCODING)
    except UnicodeDecodeError as exc:
        problem(f"not UTF-8 at byte {exc.start}")
        return parsed
    if not text.endswith(layout.LINE_END):
        problem("the last line does not end with CRLF")
    lines = text.split(layout.LINE_END)
    if lines and lines[-1] == "":
        lines.pop()
    for number, line in enumerate(lines, 1):
        if "\n" in line or "\r" in line:
            problem(f"line {number}: a line break other than CRLF")
    if not lines:
        problem("empty file")
        return parsed
    header = HEADER.fullmatch(lines[0])
    if len(lines[0]) != layout.HEADER_LENGTH or not header:
        problem(f"line 1: the header is not the contract's {layout.HEADER_LENGTH} characters")
    else:
        parsed.record_type, parsed.org = header["type"], header["org"]
        if int(header["count"]) != len(lines) - 1:
            problem(f"line 1: the header counts {int(header['count'])} records, the file has {len(lines) - 1}")
        try:
            datetime.strptime(header["generated"], "%Y%m%d%H%M%S")
        except ValueError:
            problem("line 1: the generation time is not yyyyMMddHHmmss")
        if name and (name["org"], name["type"]) != (parsed.org, parsed.record_type):
            problem("line 1: the header's org or record type differs from the file name's")
        if name and name["date"] != header["generated"][:8]:
            problem("line 1: the generation date differs from the file name's")
    previous = None
    for number, line in enumerate(lines[1:], 2):
        record = _read_record(line, number, parsed)
        if record is None:
            continue
        parsed.records.append(record)
        key = tuple(record.get(element, "") for element in ORDER_KEY.get(parsed.record_type, ORDER_KEY["210"]))
        if previous is not None and key <= previous:
            problem(
                f"line {number}: not after line {number - 1} by {', then '.join(ORDER_KEY[parsed.record_type])}"
                " (or a duplicate)"
            )
        previous = key
    return parsed


def _read_record(line: str, number: int, parsed: BureauFile) -> dict[str, str] | None:
    problem = parsed.problems.append
    try:
        root = ET.fromstring(line)
    except ET.ParseError as exc:
        problem(f"line {number}: not well-formed XML ({exc})")
        return None
    if root.tag != "Document" or len(root) != 1 or line.startswith("<?"):
        problem(f"line {number}: not one <Document> without an XML declaration")
        return None
    for element in root.iter():
        if element.attrib:
            problem(f"line {number}: {element.tag} has attributes")
        if (len(element) and element.text) or element.tail:  # text beside child elements
            problem(f"line {number}: whitespace or text between elements at {element.tag}")
    body = root[0]
    record_type = parsed.record_type if parsed.record_type in layout.RECORD_ELEMENT else layout.RECORD_210
    if body.tag != layout.RECORD_ELEMENT[record_type]:
        problem(f"line {number}: {body.tag} is not a {record_type} record ({layout.RECORD_ELEMENT[record_type]})")
        return None
    if record_type == layout.RECORD_212:
        return _read_212(body, number, parsed)
    if record_type in (layout.RECORD_213, layout.RECORD_214):
        return _read_deletion(body, number, parsed, record_type)
    record: dict[str, str] = {"_line": str(number)}
    segments = [segment.tag for segment in body]
    for segment in body:
        order = ELEMENT_ORDER.get(segment.tag)
        if order is None:
            problem(f"line {number}: unknown segment {segment.tag}")
            continue
        tags = [element.tag for element in segment]
        if [t for t in order if t in tags] != tags:
            problem(f"line {number}: {segment.tag}'s elements are not the contract's, in its order")
        for element in segment:
            if not element.text:
                problem(f"line {number}: {element.tag} is empty (an empty element is left out)")
            record[element.tag] = element.text or ""
    first = record.get("RptDateCode") in layout.FIRST_REPORT_CODES
    expected = ["AcctBsSgmt", *(["AcctBsInfSgmt"] if first else []), "AcctMthlyBlgInfSgmt"]
    if segments != expected:
        problem(
            f"line {number}: segments {segments}, the contract's are {expected} for RptDateCode"
            f" {record.get('RptDateCode')}"
        )
    for rule, message in _rule_failures(record, parsed.org):
        problem(f"line {number}: {rule}: {message}")
    return record


def _elements(parent: ET.Element, order: tuple[str, ...], number: int, record: dict, problem) -> None:
    tags = [element.tag for element in parent]
    if [t for t in order if t in tags] != tags:
        problem(f"line {number}: {parent.tag}'s elements are not the contract's, in its order")
    for element in parent:
        if len(element):
            continue
        if not element.text:
            problem(f"line {number}: {element.tag} is empty (an empty element is left out)")
        record[element.tag] = element.text or ""


def _read_212(body: ET.Element, number: int, parsed: BureauFile) -> dict[str, str] | None:
    problem = parsed.problems.append
    if [part.tag for part in body] != ["BsSgmt", "MdfcSgmt"] or len(body[1]) != 1:
        problem(f"line {number}: a 212 is <BsSgmt> then <MdfcSgmt> holding one segment")
        return None
    record: dict[str, str] = {"_line": str(number)}
    _elements(body[0], layout.MODIFICATION_KEY, number, record, problem)
    missing = [e for e in layout.MODIFICATION_KEY if e not in record]
    if missing:
        problem(f"line {number}: BsSgmt lacks {', '.join(missing)}")
    code, segment = record.get("MdfcSgmtCode"), body[1][0]
    if code not in layout.MODIFIED_SEGMENTS:
        problem(f"line {number}: MdfcSgmtCode {code} is not B, C or H")
        return record
    name, order = layout.MODIFIED_SEGMENTS[code]
    if segment.tag != name:
        problem(f"line {number}: MdfcSgmtCode {code} replaces {name}, not {segment.tag}")
        return record
    record["_segment"] = name
    _elements(segment, order, number, record, problem)
    for rule, message in _modification_failures(record, parsed.org):
        problem(f"line {number}: {rule}: {message}")
    return record


def _read_deletion(body: ET.Element, number: int, parsed: BureauFile, record_type: str) -> dict[str, str]:
    problem = parsed.problems.append
    order = layout.DELETION_213 if record_type == layout.RECORD_213 else layout.DELETION_214
    record: dict[str, str] = {"_line": str(number)}
    _elements(body, order, number, record, problem)
    if [e for e in order if e not in record]:
        problem(f"line {number}: a {record_type} has {', '.join(order)}")
    if record.get("InfRecType") != record_type:
        problem(f"line {number}: layout: InfRecType {record.get('InfRecType')} is not {record_type}")
    if parsed.org and not record.get("DelRecCode", "").startswith(parsed.org):
        problem(f"line {number}: layout: DelRecCode does not start with the data-provider code")
    if record_type == layout.RECORD_213:
        if record.get("DelSgmtCode") != "H":
            problem(f"line {number}: layout: DelSgmtCode {record.get('DelSgmtCode')} is not H")
        start, end = record.get("DelStartDate", ""), record.get("DelEndDate", "")
        if not (_is_month_end(start) and _is_month_end(end)) or start > end:
            problem(f"line {number}: layout: DelStartDate {start} .. DelEndDate {end} is not a range of month ends")
    return record


def _is_month_end(value: str) -> bool:
    try:
        day = datetime.strptime(value, "%Y-%m-%d")
    except ValueError:
        return False
    return (day + timedelta(days=1)).day == 1


def _modification_failures(r: dict[str, str], org: str | None):
    if r.get("InfRecType") != "212":
        yield "layout", f"InfRecType {r.get('InfRecType')} is not 212"
    if org and not r.get("ModRecCode", "").startswith(org):
        yield "layout", "ModRecCode does not start with the data-provider code"
    if not _is_month_end(r.get("RptDate", "")):
        yield "layout", f"RptDate {r.get('RptDate')} is not a month end"
    if r.get("AcctType") not in ("R1", "D1"):
        yield "layout", f"AcctType {r.get('AcctType')} is not R1 or D1"
    # the rules on what the segment carries (RptDateCode is the held record's: a 212 cannot change it)
    carried = {"B": ("S1",), "C": (), "H": ("S2", "S3", "S5")}[r["MdfcSgmtCode"]]
    yield from _rule_failures(r, None, checked=carried)
    if r["MdfcSgmtCode"] == "H":
        facts = (r.get("RpyStatus") == "C", r.get("AcctStatus") == "3", "CloseDate" in r)
        if len(set(facts)) != 1:
            yield "S4", "RpyStatus C, AcctStatus 3 and CloseDate go together"


def _rule_failures(r: dict[str, str], org: str | None, checked: tuple[str, ...] | None = None):
    """The 210 checks; `checked` only these rules, without the layout's (a 212's segment)."""
    if checked is not None:
        for rule, message in _rule_failures(r, org):
            if rule in checked:
                yield rule, message
        return

    def number(name: str) -> int | None:
        return int(r[name]) if re.fullmatch(r"\d+", r.get(name, "")) else None

    if r.get("InfRecType") != "210":
        yield "layout", f"InfRecType {r.get('InfRecType')} is not 210"
    if r.get("AcctType") not in ("R1", "D1"):
        yield "layout", f"AcctType {r.get('AcctType')} is not R1 or D1"
    if org and not r.get("AcctCode", "").startswith(org):
        yield "layout", "AcctCode does not start with the data-provider code"
    if r.get("RptDateCode") not in layout.REPORT_CODES:
        yield "layout", f"RptDateCode {r.get('RptDateCode')} is not one of {', '.join(layout.REPORT_CODES)}"
    for amount in ("AcctBal", "OverdPrd", "TotOverd", "CurRpyAmt", "ActRpyAmt"):
        if number(amount) is None:
            yield "layout", f"{amount} is not a whole number"
    id_number = r.get("IDNum", "")
    if not _valid_id_number(id_number) or not r.get("Name", "").strip():
        yield "S1", "IDNum fails GB 11643 (check character or birth date), or Name is empty"
    status = r.get("RpyStatus")
    if status not in layout.PAYMENT_STATUSES:
        yield "S2", f"RpyStatus {status} is not a reportable status"
    periods, overdue, balance = number("OverdPrd"), number("TotOverd"), number("AcctBal")
    if None not in (periods, overdue):
        if status in ("N", "M", "*") and (periods or overdue):
            yield "S3", f"RpyStatus {status} with OverdPrd {periods} and TotOverd {overdue}"
        if status in tuple("1234567") and not (periods > 0 and overdue > 0):
            yield "S3", f"RpyStatus {status} with OverdPrd {periods} and TotOverd {overdue}"
    facts = (r.get("RptDateCode") == "32", status == "C", r.get("AcctStatus") == "3", "CloseDate" in r)
    if len(set(facts)) != 1:
        yield "S4", "RptDateCode 32, RpyStatus C, AcctStatus 3 and CloseDate go together"
    if None not in (overdue, balance) and overdue > balance:
        yield "S5", f"TotOverd {overdue} > AcctBal {balance}"


def _valid_id_number(value: str) -> bool:
    if not re.fullmatch(gb11643.SHAPE, value):
        return False
    try:
        datetime.strptime(value[6:14], "%Y%m%d")
    except ValueError:
        return False
    weighted = sum(int(d) * w for d, w in zip(value[:17], gb11643.WEIGHTS, strict=True))
    return value[17] == gb11643.CHECK_CHARS[weighted % 11]


def check_file(path: Path) -> list[str]:
    return read_file(path).problems
