"""Terminal SQL over the published analytics copy (`credit-reporting-warehouse sql`, `make sql`).

It opens what the dashboard's SQL page opens, the same way (foundation/published_sql.py): read-only,
no file access, configuration locked, a time limit per statement, never the warehouse, which a
running pipeline holds. The DuckDB shell sold on PyPI (duckdb-cli 1.5) cannot read files written
by duckdb 2.0; this one is the pinned duckdb itself.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TextIO

from foundation import published_sql
from foundation.published_copy import published_path

PROMPT, CONTINUED = "crw-sql> ", "   ...> "
SHOWN_ROWS = 40  # a screenful; --csv writes every row kept
TEXT_WIDTH = 90  # a long description is cut on screen; --csv and the SQL page have it whole
HELP = """Statements end with ';'. The analytics tables (no personal data) are in the search path:
  .tables        the tables and what each holds
  .columns NAME  a table's columns, types and descriptions
  .quit          leave (or Ctrl-D)"""


def run_statement(sql: str, out: TextIO, csv: bool = False) -> None:
    """One statement's rows, printed (QueryFailed when DuckDB refuses it or it runs out of time)."""
    result = published_sql.run_adhoc(sql)
    if csv:
        result.frame.to_csv(out, index=False)
        return
    if result.frame.columns.empty:
        print(f"done in {result.seconds:.2f} s", file=out)
        return
    frame = result.frame
    print("  ".join(frame.columns) if frame.empty else _as_text(frame.head(SHOWN_ROWS)), file=out)
    if len(frame) > SHOWN_ROWS:
        print(f"... {len(frame) - SHOWN_ROWS:,} more rows (--csv writes them all)", file=out)
    kept = f"{len(result.frame):,}{'+' if result.truncated else ''}"
    print(f"({kept} row{'' if len(result.frame) == 1 else 's'} in {result.seconds:.2f} s)", file=out)


def _as_text(frame) -> str:
    """Rows under their column names, text left-aligned and cut to a screen's width, numbers right."""
    from pandas.api.types import is_numeric_dtype

    text_columns = [c for c in frame.columns if not is_numeric_dtype(frame[c])]
    shown = frame.copy()
    for column in text_columns:
        values = shown[column].map(lambda v: "NULL" if v is None else str(v))
        values = values.map(lambda v: v if len(v) <= TEXT_WIDTH else v[: TEXT_WIDTH - 1] + "…")
        width = max(len(column), values.map(len).max())
        shown[column] = values.str.ljust(width)
    return shown.to_string(index=False, justify="left")


def run_script(script: str, out: TextIO, csv: bool = False) -> None:
    """Every statement of a script (`-c` or piped in), in order; the first refused one stops it."""
    for statement in published_sql.split_statements(script):
        run_statement(statement, out, csv)


def prompt_loop(read_line: Callable[[str], str], out: TextIO) -> None:
    """The interactive shell: statements until ';', a refused one says why and the session goes on."""
    print(f"{published_path()} (read-only). {HELP}", file=out)
    pending: list[str] = []
    while True:
        try:
            line = read_line(CONTINUED if pending else PROMPT)
        except EOFError:
            print(file=out)
            return
        except KeyboardInterrupt:  # Ctrl-C drops the statement being typed, as in psql
            pending = []
            print(file=out)
            continue
        command = line.strip()
        if not pending and command in (".quit", ".exit"):
            return
        if not pending and command.startswith("."):
            _dot_command(command, out)
            continue
        pending.append(line)
        if command.endswith(";"):
            script, pending = "\n".join(pending), []
            try:
                run_script(script, out)
            except published_sql.QueryFailed as exc:
                print(f"error: {exc}", file=out)


def _dot_command(command: str, out: TextIO) -> None:
    name, _, argument = command.partition(" ")
    if name == ".tables":
        run_statement(published_sql.TABLES_SQL, out)
    elif name == ".columns" and argument.strip():
        table = argument.strip().replace("'", "''")
        run_statement(
            f"""select "column", type, description from ({published_sql.COLUMNS_SQL})
                          where "table" = '{table}'""",
            out,
        )
    else:
        print(HELP, file=out)


def interactive() -> None:
    import readline  # noqa: F401  (line editing and history for input())

    prompt_loop(input, sys.stdout)
