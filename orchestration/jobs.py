"""Jobs: a month's batch end to end; one batch's load alone; a full build of the models; the
bureau's feedback on a file."""

from dagster import AssetSelection, define_asset_job, in_process_executor

from orchestration.assets.bureau import bureau_feedback, bureau_submission_210
from orchestration.assets.dbt import warehouse_models
from orchestration.assets.published import published_analytics
from orchestration.assets.raw import raw_landing_batch
from orchestration.partitions import batch_months

# What the monthly job does after the load; the CLI's `run` runs them alone on the months loaded before a
# rejected batch of its range.
AFTER_THE_LOAD = (warehouse_models, published_analytics, bureau_submission_210)

# One writer per DuckDB file: steps run in process, one after the other (STACK-TRAPS), and the
# instance runs one run at a time (orchestration/dagster.yaml).
monthly_batch_job = define_asset_job(
    "monthly_batch",
    selection=AssetSelection.assets(raw_landing_batch, *AFTER_THE_LOAD),
    partitions_def=batch_months,
    executor_def=in_process_executor,
    description="A month's batch end to end: verify and load it, rebuild the reporting months it touched "
    "with dbt (tests included), publish the analytics copy, write the bureau's 210 file. A backfill of a "
    "range is one run.",
)

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
    description="dbt build of every model and test on the loaded raw tables, every month rebuilt, then "
    "publish the analytics copy.",
)

bureau_feedback_job = define_asset_job(
    "bureau_feedback",
    selection=AssetSelection.assets(bureau_feedback),
    executor_def=in_process_executor,
    description="Apply one feedback file of the bureau (config: its path) to the ledger, then publish.",
)
