"""The DuckDB warehouse as a Dagster resource: one short-lived read-write connection per step."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
from dagster import ConfigurableResource

from orchestration import settings
from orchestration.warehouse_file import connect_warehouse


class Warehouse(ConfigurableResource):
    database_path: str
    landing_dir: str
    memory_limit: str = "8GB"

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        Path(self.database_path).parent.mkdir(parents=True, exist_ok=True)
        con = connect_warehouse(self.database_path, config={"memory_limit": self.memory_limit})
        try:
            yield con
        finally:
            con.close()  # release the single-writer file lock at once


def warehouse_from_env() -> Warehouse:
    return Warehouse(
        database_path=str(settings.warehouse_path()),
        landing_dir=str(settings.landing_dir()),
        memory_limit=settings.duckdb_memory_limit(),
    )
