"""The bureau's side, written from the contract alone: replay files in the order they were given
to it and keep, per (AcctCode, RptDate), the record it holds. Refuses what the bureau refuses."""

from __future__ import annotations

from pathlib import Path

import duckdb

from bureau import layout
from bureau.reader import read_file

SEGMENT_ELEMENTS = {code: elements for code, (_, elements) in layout.MODIFIED_SEGMENTS.items()}


class Refused(AssertionError):
    """A line the bureau would refuse: the writer broke the contract."""


def files_in_order(warehouse: Path, folder: Path) -> list[Path]:
    """The files as the ledger says they were written (the order they go to the bureau)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        names = [
            r[0] for r in con.execute("select file_name from audit.bureau_files order by written_order").fetchall()
        ]
    finally:
        con.close()
    return [folder / name for name in names]


def replay(files: list[Path], refused: set[tuple[str, int]] = frozenset()) -> dict[tuple[str, str], dict]:
    """The bureau's view after these files, less the lines (file name, line) its feedback refused."""
    view: dict[tuple[str, str], dict] = {}
    for path in files:
        parsed = read_file(path)
        if parsed.problems:
            raise Refused(f"{path.name}: {parsed.problems[:3]}")
        for record in parsed.records:
            if (path.name, int(record["_line"])) in refused:
                continue
            apply(view, parsed.record_type, {k: v for k, v in record.items() if not k.startswith("_")}, path.name)
    return view


def apply(view: dict, record_type: str, r: dict, where: str) -> None:
    if record_type == layout.RECORD_210:
        key = (r["AcctCode"], r["RptDate"])
        if key in view:
            raise Refused(f"{where}: 210 for {key}, already held")
        latest = max((d for code, d in view if code == r["AcctCode"]), default="")
        if r["RptDate"] < latest:
            raise Refused(f"{where}: 210 for {key}, before {latest} held")
        view[key] = r
    elif record_type == layout.RECORD_212:
        key = (r["ModRecCode"], r["RptDate"])
        if key not in view:
            raise Refused(f"{where}: 212 for {key}, not held")
        held = view[key]
        if held["AcctType"] != r["AcctType"]:
            raise Refused(f"{where}: 212 for {key} with another AcctType")
        elements = SEGMENT_ELEMENTS[r["MdfcSgmtCode"]]
        kept = {k: v for k, v in held.items() if k not in elements}
        view[key] = {**kept, **{k: r[k] for k in elements if k in r}}
    elif record_type == layout.RECORD_213:
        keys = [(code, d) for code, d in view if code == r["DelRecCode"] and r["DelStartDate"] <= d <= r["DelEndDate"]]
        if not keys:
            raise Refused(f"{where}: 213 for {r['DelRecCode']} deletes nothing")
        for key in keys:
            del view[key]
    elif record_type == layout.RECORD_214:
        keys = [key for key in view if key[0] == r["DelRecCode"]]
        if not keys:
            raise Refused(f"{where}: 214 for {r['DelRecCode']}, nothing held")
        for key in keys:
            del view[key]
    else:
        raise Refused(f"{where}: record type {record_type}")


def elements_in_order(record: dict) -> list[tuple[str, str]]:
    """A held record's elements as a 210 lists them (what two views are compared on)."""
    order = [e for _, elements in layout.SEGMENTS_210 for e in elements]
    return [(e, record[e]) for e in order if e in record]
