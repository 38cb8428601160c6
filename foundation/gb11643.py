"""GB 11643 resident identity numbers (R14): the one definition of their shape and check character,
for the landing gate, the bureau's checks before sending (S1) and the synthetic generator."""

from __future__ import annotations

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"  # ISO 7064 MOD 11-2: the weighted sum mod 11 indexes this
SHAPE = r"\d{6}(19|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])\d{3}[\dX]"


def is_valid_sql(column: str) -> str:
    """DuckDB SQL true when `column` holds a valid number: its shape and its check character."""
    weighted = " + ".join(
        f"(ascii(substr({column}, {position}, 1)) - 48) * {weight}" for position, weight in enumerate(WEIGHTS, 1)
    )
    return (
        f"coalesce(regexp_full_match({column}, '{SHAPE}')"
        f" and substr({column}, 18, 1) = substr('{CHECK_CHARS}', ({weighted}) % 11 + 1, 1), false)"
    )
