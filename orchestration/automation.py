"""Unattended operation: a monthly schedule and a sensor on the landing zone start the monthly job;
a sensor on the feedback folder applies each feedback file the bureau sends back; after a run that
failed, the load audit is published anyway so the Data quality page shows why.

A batch is ready when its `_manifest.json` is there (the source system writes it last). Every
run that loads a batch carries the batch's fingerprint (month + manifest digest) as a tag, so a
sending of a batch is started once, whoever notices it first; a resent batch has a new manifest
and runs again. A batch whose run failed (a rejected batch) waits for a new sending or for an
operator's re-execution, instead of failing again every tick.
"""

from datetime import datetime
from pathlib import Path

from dagster import (
    DagsterInstance,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    RunFailureSensorContext,
    RunRequest,
    RunsFilter,
    ScheduleEvaluationContext,
    SensorEvaluationContext,
    SkipReason,
    run_failure_sensor,
    schedule,
    sensor,
)

from foundation.errors import WarehouseError
from foundation.landing import MANIFEST_NAME, file_sha256
from foundation.months import BUSINESS_TIMEZONE, shift_month
from ingestion.manifest import batch_fingerprint, landing_batches
from orchestration import settings
from orchestration.analytics_copy import publish_after_failure
from orchestration.jobs import build_models_job, bureau_feedback_job, load_batch_job, monthly_batch_job
from orchestration.partitions import batch_months


def batch_tag(batch_dir: Path) -> dict[str, str]:
    """The tag naming a sending of a batch (month and manifest digest) on a run that loads it."""
    return {f"crw/batch.{batch_dir.name}": batch_fingerprint(batch_dir)}


def batch_run_request(month: str, instance: DagsterInstance) -> RunRequest | SkipReason:
    """The run for this month's batch as it lies in the landing zone now, or why there is none."""
    batch_dir = settings.landing_dir() / month
    if not (batch_dir / MANIFEST_NAME).is_file():
        return SkipReason(f"batch {month} is not ready ({MANIFEST_NAME} missing): it waits")
    if month not in batch_months.get_partition_keys():
        return SkipReason(f"batch {month} is outside the partitions from {settings.first_month()}")
    tags = batch_tag(batch_dir)
    (fingerprint,) = tags.values()
    if instance.get_run_records(RunsFilter(tags=tags), limit=1):
        return SkipReason(f"batch {fingerprint} already has a run")
    return RunRequest(run_key=fingerprint, partition_key=month, tags=tags)


@sensor(
    job=monthly_batch_job,
    minimum_interval_seconds=60,
    default_status=DefaultSensorStatus.RUNNING,
    description="Starts the monthly job for each batch whose _manifest.json has landed (oldest first); "
    "an incomplete batch waits.",
)
def batch_manifest_sensor(context: SensorEvaluationContext):
    try:
        ready, waiting = landing_batches(settings.landing_dir())
    except WarehouseError as exc:
        return SkipReason(str(exc))
    requests = []
    for month in ready:
        outcome = batch_run_request(month, context.instance)
        if isinstance(outcome, RunRequest):
            requests.append(outcome)
    if requests:
        return requests
    waits = f"; waiting for {MANIFEST_NAME} in {', '.join(waiting)}" if waiting else ""
    return SkipReason(f"no new batch{waits}")


def previous_month(moment: datetime) -> str:
    return shift_month(f"{moment:%Y-%m}", -1)


@schedule(
    job=monthly_batch_job,
    cron_schedule="0 6 2 * *",
    execution_timezone=BUSINESS_TIMEZONE,
    default_status=DefaultScheduleStatus.RUNNING,
    description="On the 2nd of each month at 06:00 China time, runs the month just ended, if its batch "
    "is ready and not run yet (else the sensor starts it when the manifest lands).",
)
def monthly_batch_schedule(context: ScheduleEvaluationContext):
    return batch_run_request(previous_month(context.scheduled_execution_time), context.instance)


@sensor(
    job=bureau_feedback_job,
    minimum_interval_seconds=60,
    default_status=DefaultSensorStatus.RUNNING,
    description="Applies each .fbk file put in CRW_FEEDBACK (the bureau's answer to a file), once per "
    "contents, oldest name first.",
)
def feedback_sensor(context: SensorEvaluationContext):
    folder = settings.feedback_dir()
    files = sorted(p for p in folder.glob("*.fbk") if p.is_file() and not p.is_symlink()) if folder.is_dir() else []
    requests = [
        RunRequest(
            run_key=f"{path.name}:{file_sha256(path)}",  # the same contents run once; new contents again
            run_config={"ops": {"bureau__feedback": {"config": {"file": str(path)}}}},
            tags={"crw/feedback": path.name},
        )
        for path in files
    ]
    return requests or SkipReason(f"no feedback file in {folder}")


def run_failure_text(context: RunFailureSensorContext) -> str:
    """The failed run's reason in a line: the first failed step's description, else Dagster's message."""
    for event in context.get_step_failure_events():
        data = event.step_failure_data
        if data and data.user_failure_data and data.user_failure_data.description:
            return f"run of {context.dagster_run.job_name} failed: {data.user_failure_data.description}"
        if data and data.error:
            return f"run of {context.dagster_run.job_name} failed in {event.step_key}: {data.error.message.strip()}"
    return context.failure_event.message or f"run of {context.dagster_run.job_name} failed"


@run_failure_sensor(
    monitored_jobs=[monthly_batch_job, load_batch_job, build_models_job],
    default_status=DefaultSensorStatus.RUNNING,
    description="After a run that failed, publishes the load audit and the quarantine anyway, marked with "
    "the failure: the Data quality page shows why while the other pages keep the last passing build.",
)
def publish_after_failed_run(context: RunFailureSensorContext):
    failure = run_failure_text(context).splitlines()[0]
    try:
        published = publish_after_failure(
            settings.warehouse_path(), settings.published_path(), context.dagster_run.run_id, failure
        )
    except WarehouseError as exc:  # the next run already holds the warehouse: its own outcome publishes
        context.log.warning(f"load audit not published after the failure: {exc}")
        return
    context.log.info("no audit view to publish yet" if published is None else f"load audit published: {failure}")
