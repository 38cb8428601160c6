"""Jobs: load one batch month; build the dbt models on what is loaded."""

from dagster import AssetSelection, define_asset_job, in_process_executor

from orchestration.assets.dbt import warehouse_models
from orchestration.assets.published import published_analytics
from orchestration.assets.raw import raw_landing_batch
from orchestration.partitions import batch_months

# One writer per DuckDB file: steps run in process, one after the other (STACK-TRAPS).
load_batch_job = define_asset_job(
    "load_batch",
    selection=AssetSelection.assets(raw_landing_batch),
    partitions_def=batch_months,
    executor_def=in_process_executor,
    description="Verify and load one landing batch (partition = batch month) into raw.",
)

build_models_job = define_asset_job(
    "build_models",
    selection=AssetSelection.assets(warehouse_models, published_analytics),
    executor_def=in_process_executor,
    description="dbt build of every model and test on the loaded raw tables, then publish the analytics copy.",
)
