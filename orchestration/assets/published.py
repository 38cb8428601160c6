"""The read-only analytics copy the dashboard and ad-hoc SQL open (see orchestration/analytics_copy.py)."""

from pathlib import Path

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset

from foundation.published_copy import SCHEMA
from orchestration import settings
from orchestration.analytics_copy import publish_analytics
from orchestration.assets.dbt import warehouse_models
from orchestration.resources import Warehouse
from orchestration.status import run_summary

ANALYTICS_MODELS = sorted(key for key in warehouse_models.keys if key.path[0] == SCHEMA)


@asset(
    key=AssetKey(["published", SCHEMA]),
    deps=ANALYTICS_MODELS,
    group_name="published",
    kinds={"duckdb"},
    description="The analytics schema copied to its own DuckDB file and swapped in atomically once the dbt "
    "build and its blocking tests passed: the dashboard and ad-hoc SQL never touch the warehouse file.",
)
def published_analytics(context: AssetExecutionContext, warehouse: Warehouse) -> MaterializeResult:
    publication = publish_analytics(Path(warehouse.database_path), settings.published_path(), context.run.run_id)
    context.log.info(f"published {len(publication.table_rows)} tables to {publication.path}")
    summary = run_summary(Path(warehouse.database_path))  # the run's outcome, read where the UI shows it
    return MaterializeResult(
        metadata={
            "path": MetadataValue.path(str(publication.path)),
            "data_as_of": publication.data_as_of or "no reporting month yet",
            "rows": MetadataValue.json(publication.table_rows),
            **{f"rows_{layer}": rows for layer, rows in summary.rows_per_layer.items()},
            "records_reported_latest_month": summary.records_reported,
            "account_coverage_latest_month": MetadataValue.float(summary.account_coverage or 0.0),
            "balance_coverage_latest_month": MetadataValue.float(summary.balance_coverage or 0.0),
        }
    )
