"""The bureau's side of feedback, from the contract: a `.fbk` answering a file written, refusing
some of its lines."""

from __future__ import annotations

from pathlib import Path

import duckdb

ORG = "TEST0000000001"


def write_feedback(
    submitted: Path, warehouse: Path, refused: dict[int, str], folder: Path | None = None, org: str = ORG
) -> Path:
    """`X.fbk` beside `X.txt` (or in `folder`): the file's header with the count of refused lines,
    then `line|AcctCode|RptDate|code|message` for each line -> code, as the ledger has them."""
    header = submitted.read_bytes().split(b"\r\n", 1)[0].decode()
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        lines = [
            "{}|{}{}|{}|{}|refused by the bureau: {}".format(
                line,
                org,
                *con.execute(
                    "select account_id, coalesce(strftime(rpt_date, '%Y-%m-%d'), '') from audit.bureau_records"
                    " where file_name = ? and line = ?",
                    [submitted.name, line],
                ).fetchone(),
                code,
                code,
            )
            for line, code in sorted(refused.items())
        ]
    finally:
        con.close()
    path = (folder or submitted.parent) / submitted.name.replace(".txt", ".fbk")
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "\r\n".join([header[:-7] + f"{len(lines):07d}", *lines]) + "\r\n"
    path.write_bytes(text.encode())
    return path
