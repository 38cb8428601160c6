"""What a message may quote of what a feed sent. Rejection and quarantine reasons reach the audit
tables, the analytics surface and Dagster's run history, where personal data may not go (R15):
they name columns, lines and the kind of defect, never a received value. Failing examples in the
validation reports show values, masked where personal."""

from __future__ import annotations

import re

PERSONAL_COLUMNS = frozenset({"id_number", "full_name", "phone"})  # R15
# A name as the contract writes them (columns, files, encodings): lower-case ASCII. No value of a
# landing file reads like one (ids, codes and identity numbers are digits or upper case, names Chinese).
NAME = re.compile(r"[a-z][a-z0-9_.\-]{0,63}")
KEPT = {"id_number": (6, 2), "phone": (3, 2), "full_name": (1, 0)}  # characters kept at each end


def quote_name(text: object) -> str:
    """`'text'` when it reads as a name; otherwise a placeholder, since a "column name" can be a data
    row read as the header line (a file without its header)."""
    if isinstance(text, str) and NAME.fullmatch(text):
        return repr(text)
    return "<not a name>"


def quote_names(texts: list) -> str:
    return "[" + ", ".join(quote_name(t) for t in texts) + "]"


def mask(column: str, value: object) -> str:
    """A received value as a report may show it: personal values keep a few characters at each end."""
    if value is None:
        return "NULL"
    text = str(value)
    if column not in PERSONAL_COLUMNS:
        return text
    head, tail = KEPT[column]
    if len(text) <= head + tail:
        return "*" * len(text)
    return text[:head] + "*" * (len(text) - head - tail) + text[len(text) - tail :]


def mask_row(row: dict) -> dict[str, str]:
    return {str(column): mask(str(column), value) for column, value in row.items()}
