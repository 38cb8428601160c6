"""A self-contained HTML validation report per loaded batch (GX Data Docs pull their styles from
CDNs this network cannot reach): every file, every expectation, failing examples, flags."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ingestion.raw_load import BatchLoad

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; }
table { border-collapse: collapse; margin-bottom: 1.5rem; }
td, th { border: 1px solid #ccc; padding: .3rem .6rem; text-align: left; vertical-align: top; }
.ok { color: #1a7f37; } .bad { color: #cf222e; font-weight: 600; } code { font-size: .85em; }
"""


def _cell(value: object) -> str:
    return f"<td>{html.escape(str(value))}</td>"


def render(load: BatchLoad) -> str:
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>Batch {load.batch_month}</title>"
        f"<style>{STYLE}</style></head><body>",
        f"<h1>Landing gate: batch {load.batch_month}</h1>",
        f"<p>Produced {html.escape(load.produced_at)}; validated "
        f"{datetime.now(UTC).isoformat(timespec='seconds')}.</p>",
        "<table><tr><th>file</th><th>received</th><th>loaded</th><th>quarantined</th><th>checks</th>"
        "<th>failed</th></tr>",
    ]
    for f in load.files.values():
        parts.append(
            "<tr>"
            + "".join(
                _cell(v)
                for v in (
                    f.file_name,
                    f.rows_received,
                    f.rows_loaded,
                    f.rows_quarantined,
                    f.staged.checks_evaluated,
                    f.staged.checks_failed,
                )
            )
            + "</tr>"
        )
    parts.append("</table>")
    for f in load.files.values():
        parts.append(
            f"<h2>{html.escape(f.file_name)}</h2><table><tr><th>expectation</th><th>result</th>"
            "<th>failing rows</th><th>examples</th></tr>"
        )
        for o in f.outcomes:
            status = "<td class='ok'>passed</td>" if o.success else "<td class='bad'>failed</td>"
            examples = "<br>".join(html.escape(str(e)) for e in o.examples)
            parts.append(
                f"<tr>{_cell(o.description)}{status}{_cell(o.unexpected_count)}<td><code>{examples}</code></td></tr>"
            )
        parts.append("</table>")
        if f.reason_summary():
            parts.append(f"<p>Quarantined: {html.escape(f.reason_summary() or '')}</p>")
    parts.append("<h2>Flags (rows kept, surfaced)</h2><table><tr><th>rule</th><th>accounts</th><th>examples</th></tr>")
    for flag in load.flags:
        parts.append("<tr>" + _cell(flag.rule) + _cell(flag.count) + _cell(", ".join(flag.examples)) + "</tr>")
    parts.append("</table></body></html>")
    return "\n".join(parts)


def write_report(folder: Path, load: BatchLoad) -> Path:
    """Write (or replace) the batch's report; returns its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{load.batch_month}.html"
    path.write_text(render(load), encoding="utf-8")
    return path
