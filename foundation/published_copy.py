"""The reading contract of the published analytics copy: where the file is and what it holds.

orchestration/analytics_copy.py writes the file; the dashboard and ad-hoc SQL open it read-only and never
the warehouse (DuckDB allows one writer process or many readers, never both). The copy holds the
`analytics` schema only, the R15-safe surface, and one row in `analytics.publication`.
"""

from __future__ import annotations

import os
from pathlib import Path

PUBLISHED_ENV = "CRW_PUBLISHED"  # the file's path; default data/published/analytics_snapshot.duckdb
SCHEMA = "analytics"  # the only schema in the copy
PUBLICATION_TABLE = "publication"  # one row: when, by which run, data as of which month

_DEFAULT = Path(__file__).resolve().parent.parent / "data" / "published" / "analytics_snapshot.duckdb"


def published_path() -> Path:
    return Path(os.environ.get(PUBLISHED_ENV, _DEFAULT)).resolve()
