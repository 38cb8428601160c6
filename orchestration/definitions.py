"""The Dagster definitions, assembled from the modules beside this one."""

from dagster import Definitions

from orchestration import settings
from orchestration.assets.bureau import bureau_feedback, bureau_submission_210
from orchestration.assets.dbt import warehouse_models
from orchestration.assets.published import published_analytics
from orchestration.assets.raw import raw_landing_batch
from orchestration.automation import (
    batch_manifest_sensor,
    feedback_sensor,
    monthly_batch_schedule,
    publish_after_failed_run,
)
from orchestration.dbt_project import dbt_resource
from orchestration.jobs import build_models_job, bureau_feedback_job, load_batch_job, monthly_batch_job
from orchestration.resources import warehouse_from_env

settings.export_for_subprocesses()

defs = Definitions(
    assets=[raw_landing_batch, warehouse_models, published_analytics, bureau_submission_210, bureau_feedback],
    jobs=[monthly_batch_job, load_batch_job, build_models_job, bureau_feedback_job],
    schedules=[monthly_batch_schedule],
    sensors=[batch_manifest_sensor, feedback_sensor, publish_after_failed_run],
    resources={
        "warehouse": warehouse_from_env(),
        "dbt": dbt_resource(),
    },
)
