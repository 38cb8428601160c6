"""A self-contained HTML validation report for every load attempt, rejected ones included, and an
index of them all (GX Data Docs pull their styles from CDNs this network cannot reach).

A report shows each file's counts, every expectation with its failing rows (masked where personal,
R15: foundation/redaction.py), the cross-file flags and, for a rejected attempt, why. Reports are
named `<batch month>_<attempt, UTC>_<status>.html` so the index is rebuilt from the folder alone.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from foundation.months import BUSINESS_TIMEZONE

if TYPE_CHECKING:
    from ingestion.raw_load import BatchLoad

INDEX = "index.html"
REPORT_NAME = re.compile(r"(?P<month>\d{4}-\d{2})_(?P<at>\d{8}T\d{12}Z)_(?P<status>[A-Z_]+)\.html")
STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; }
table { border-collapse: collapse; margin-bottom: 1.5rem; }
td, th { border: 1px solid #ccc; padding: .3rem .6rem; text-align: left; vertical-align: top; }
.ok { color: #1a7f37; } .bad { color: #cf222e; font-weight: 600; } .REJECTED td { background: #fff0f0; }
table.examples td, table.examples th { font-size: .85em; padding: .15rem .4rem; }
"""


def _cell(value: object) -> str:
    return f"<td>{html.escape('' if value is None else str(value))}</td>"


def _page(title: str, body: list[str]) -> str:
    head = f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
    return "\n".join([f"{head}<style>{STYLE}</style></head><body>", *body, "</body></html>"])


def _local(at: datetime) -> str:
    return f"{at.astimezone(ZoneInfo(BUSINESS_TIMEZONE)):%Y-%m-%d %H:%M:%S} China time"


def _examples(rows: list[dict[str, str]]) -> str:
    """Failing rows as a small table, one column per field (values already masked)."""
    if not rows:
        return "<td></td>"
    columns = list(dict.fromkeys(c for row in rows for c in row))
    header = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(_cell(row.get(c)) for c in columns) + "</tr>" for row in rows)
    return f"<td><table class='examples'><tr>{header}</tr>{body}</table></td>"


def render(load: BatchLoad) -> str:
    verdict = "bad" if load.status == "REJECTED" else "ok"
    parts = [
        f"<h1>Landing gate: batch {load.batch_month}</h1>",
        f"<p>Attempt {_local(load.attempted_at)}; manifest produced {html.escape(load.produced_at or 'unknown')}."
        f" <a href='{INDEX}'>All attempts</a></p>",
        f"<p class='{verdict}'>{load.status}" + (f": {html.escape(load.reason)}" if load.reason else "") + "</p>",
        # a rejected attempt loads nothing: its rows passing are what a fixed resend would load
        "<table><tr><th>file</th><th>rows received</th><th>rows passing</th><th>rows held back</th>"
        "<th>checks</th><th>checks failed</th></tr>",
    ]
    for f in load.files.values():
        counts = (f.rows_received, f.rows_loaded, f.rows_quarantined, f.staged.checks_evaluated, f.staged.checks_failed)
        parts.append("<tr>" + _cell(f.file_name) + "".join(_cell(v) for v in counts) + "</tr>")
    parts.append("</table>")
    for f in load.files.values():
        if not f.outcomes:
            continue
        parts.append(
            f"<h2>{html.escape(f.file_name)}</h2><table><tr><th>expectation</th><th>result</th>"
            "<th>failing rows</th><th>examples (personal values masked)</th></tr>"
        )
        for o in f.outcomes:
            status = "<td class='ok'>passed</td>" if o.success else "<td class='bad'>failed</td>"
            parts.append(f"<tr>{_cell(o.description)}{status}{_cell(o.unexpected_count)}{_examples(o.examples)}</tr>")
        parts.append("</table>")
        if summary := f.reason_summary():
            parts.append(f"<p>Quarantined: {html.escape(summary)}</p>")
    if load.flags:
        parts.append(
            "<h2>Flags (rows kept, surfaced)</h2><table><tr><th>rule</th><th>accounts</th><th>examples</th></tr>"
        )
        for flag in load.flags:
            parts.append("<tr>" + _cell(flag.rule) + _cell(flag.count) + _cell(", ".join(flag.examples)) + "</tr>")
        parts.append("</table>")
    return _page(f"Batch {load.batch_month}: {load.status}", parts)


def write_report(folder: Path, load: BatchLoad) -> Path:
    """Write this attempt's report and the index anew; returns the report's path."""
    folder.mkdir(parents=True, exist_ok=True)
    at = load.attempted_at.astimezone(ZoneInfo("UTC"))
    path = folder / f"{load.batch_month}_{at:%Y%m%dT%H%M%S%fZ}_{load.status}.html"
    path.write_text(render(load), encoding="utf-8")
    write_index(folder)
    return path


@dataclass(frozen=True)
class ReportEntry:
    path: Path
    batch_month: str
    attempted_at: datetime
    status: str


def reports(folder: Path) -> list[ReportEntry]:
    """Every attempt's report in the folder, newest first."""
    found = []
    for path in folder.glob("*.html") if folder.is_dir() else []:
        if match := REPORT_NAME.fullmatch(path.name):
            at = datetime.strptime(match["at"], "%Y%m%dT%H%M%S%fZ").replace(tzinfo=ZoneInfo("UTC"))
            found.append(ReportEntry(path, match["month"], at, match["status"]))
    return sorted(found, key=lambda r: (r.attempted_at, r.batch_month), reverse=True)


def write_index(folder: Path) -> Path:
    rows = [
        f"<tr class='{r.status}'>{_cell(_local(r.attempted_at))}{_cell(r.batch_month)}{_cell(r.status)}"
        f"<td><a href='{html.escape(r.path.name)}'>report</a></td></tr>"
        for r in reports(folder)
    ]
    body = [
        "<h1>Landing gate: every load attempt</h1>",
        "<p>Newest first. A rejected attempt loaded nothing; its report says why.</p>",
        "<table><tr><th>attempt</th><th>batch month</th><th>status</th><th></th></tr>",
        *rows,
        "</table>",
    ]
    path = folder / INDEX
    path.write_text(_page("Validation reports", body), encoding="utf-8")
    return path
