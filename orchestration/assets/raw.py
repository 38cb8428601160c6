"""One asset per landing file, materialized together: a batch loads whole or not at all."""

from pathlib import Path

from dagster import AssetExecutionContext, AssetKey, AssetSpec, Failure, MaterializeResult, multi_asset

from ingestion.contract import LANDING_FILES
from ingestion.errors import BatchNotReady, BatchRejected
from ingestion.raw_load import load_batch
from orchestration.partitions import batch_months
from orchestration.resources import Warehouse

RAW_GROUP = "raw"


def raw_asset_key(table: str) -> AssetKey:
    return AssetKey(["raw", table])


@multi_asset(
    name="raw_landing_batch",
    specs=[
        AssetSpec(
            raw_asset_key(spec.name),
            description=f"raw.{spec.name}: {spec.name} rows of every loaded batch, typed, with load metadata.",
            group_name=RAW_GROUP,
            kinds={"duckdb"},
        )
        for spec in LANDING_FILES
    ],
    partitions_def=batch_months,
    can_subset=False,
)
def raw_landing_batch(context: AssetExecutionContext, warehouse: Warehouse):
    """Verify the batch's manifest and files, then load all seven files in one transaction."""
    month = context.partition_key
    batch_dir = Path(warehouse.landing_dir) / month
    try:
        with warehouse.connect() as con:
            result = load_batch(con, batch_dir)
    except (BatchNotReady, BatchRejected) as exc:
        raise Failure(description=str(exc), allow_retries=False) from None
    for check in result.files:
        yield MaterializeResult(
            asset_key=raw_asset_key(check.spec.name),
            metadata={
                "batch_month": month,
                "file": check.file_name,
                "rows_loaded": check.rows_received,
                "checks_evaluated": check.checks_evaluated,
                "manifest_produced_at": result.produced_at,
            },
        )
