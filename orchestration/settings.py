"""Where things live: one environment variable each, with defaults inside the project folder."""

from __future__ import annotations

import os
import sys
from pathlib import Path

# The published copy's place is the readers' contract: its one home is foundation/published_copy.py.
from foundation.published_copy import PUBLISHED_ENV, published_path  # noqa: F401

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"

WAREHOUSE_ENV = "CRW_WAREHOUSE"  # the DuckDB file; dbt's profiles.yml reads the same variable
LANDING_ENV = "CRW_LANDING"  # the landing zone the source systems write batches into
FIRST_MONTH_ENV = "CRW_FIRST_MONTH"  # the first batch month Dagster partitions by
MEMORY_LIMIT_ENV = "CRW_DUCKDB_MEMORY_LIMIT"
SUBMISSIONS_ENV = "CRW_SUBMISSIONS"  # the folder the bureau files are written into
FEEDBACK_ENV = "CRW_FEEDBACK"  # the folder the bureau's feedback files (.fbk) are put in
ORG_CODE_ENV = "CRW_ORG_CODE"  # the 14-character data-provider code the bureau gave the lender
MAX_HELD_SHARE_ENV = "CRW_MAX_HELD_SHARE"  # above this share of a month held (S1-S6), nothing is sent
SUBMISSION_TIME_ENV = "CRW_SUBMISSION_TIME"  # a fixed generation time (ISO, with offset): same run, same bytes
LAKE_ENV = "CRW_LAKE"  # where each loaded batch is also written as Parquet for Spark (unset: nowhere)
DBT_TARGET_ENV = "DBT_TARGET_PATH"  # dbt's own variable, which dagster-dbt reads too
DEFAULT_FIRST_MONTH = "2024-01"


def dbt_target_dir() -> Path:
    """dbt's target folder (manifest, parse state, one folder per Dagster run): dbt's and dagster-dbt's
    own DBT_TARGET_PATH when set, so the three agree; else dbt_project/target."""
    return (DBT_PROJECT_DIR / os.environ.get(DBT_TARGET_ENV, "target")).resolve()


def warehouse_path() -> Path:
    return Path(os.environ.get(WAREHOUSE_ENV, PROJECT_ROOT / "data" / "warehouse.duckdb")).resolve()


def landing_dir() -> Path:
    return Path(os.environ.get(LANDING_ENV, PROJECT_ROOT / "data" / "landing")).resolve()


def lake_dir() -> Path | None:
    """The Parquet lake Spark builds from (ingestion/lake.py, docs/spark.md), when one is set."""
    return Path(os.environ[LAKE_ENV]).resolve() if os.environ.get(LAKE_ENV) else None


def submissions_dir() -> Path:
    """The bureau files, beside the warehouse file by default: a ledger and its files go together."""
    return Path(os.environ.get(SUBMISSIONS_ENV, warehouse_path().parent / "submissions")).resolve()


def feedback_dir() -> Path:
    return Path(os.environ.get(FEEDBACK_ENV, warehouse_path().parent / "feedback")).resolve()


def org_code() -> str:
    return os.environ.get(ORG_CODE_ENV, "TEST0000000001")


def max_held_share() -> float:
    return float(os.environ.get(MAX_HELD_SHARE_ENV, "0.01"))


def validation_reports_dir(warehouse: Path) -> Path:
    """The landing gate's HTML reports, one per batch month, beside the warehouse file."""
    return warehouse.parent / "validation_reports"


def first_month() -> str:
    return os.environ.get(FIRST_MONTH_ENV, DEFAULT_FIRST_MONTH)


def duckdb_memory_limit() -> str:
    return os.environ.get(MEMORY_LIMIT_ENV, "8GB")


def dagster_home() -> Path:
    """Dagster's own DAGSTER_HOME (runs, schedules, sensor cursors); by default beside the warehouse."""
    return Path(os.environ.get("DAGSTER_HOME", warehouse_path().parent / "dagster_home")).resolve()


DAGSTER_INSTANCE_CONFIG = PROJECT_ROOT / "orchestration" / "dagster.yaml"


def write_dagster_instance_config(home: Path) -> None:
    """The project's instance config (one run at a time, telemetry off) in a Dagster home that has none
    (one of the operator's own is left alone): without it Dagster prints its telemetry banner into
    every command's output."""
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").is_file():
        (home / "dagster.yaml").write_bytes(DAGSTER_INSTANCE_CONFIG.read_bytes())


def put_interpreter_bin_on_path() -> None:
    """dbt runs as a subprocess: use the dbt installed beside this interpreter."""
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")


def export_for_subprocesses() -> None:
    """Give the dbt subprocess this process's dbt and warehouse file (absolute)."""
    put_interpreter_bin_on_path()
    os.environ[WAREHOUSE_ENV] = str(warehouse_path())
    os.environ.setdefault("CRW_DUCKDB_TEMP_DIR", str(warehouse_path().parent / "duckdb_tmp"))
