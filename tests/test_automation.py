"""The sensor and the schedule that start the monthly job, evaluated against a real landing zone and
a real Dagster instance holding real runs."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from conftest import SMALL_MONTHS as MONTHS
from conftest import monthly_run
from dagster import (
    DagsterInstance,
    RunRequest,
    SkipReason,
    build_schedule_context,
    build_sensor_context,
    instance_for_test,
)

from foundation.landing import MANIFEST_NAME
from orchestration import settings
from orchestration.automation import batch_manifest_sensor, monthly_batch_schedule
from orchestration.definitions import defs


def requested(instance: DagsterInstance) -> list[RunRequest]:
    result = batch_manifest_sensor(build_sensor_context(instance=instance))
    return result if isinstance(result, list) else []


def resend(landing, month: str) -> None:
    """The source system sends the batch again: a new manifest."""
    path = landing / month / MANIFEST_NAME
    manifest = json.loads(path.read_text())
    manifest["produced_at"] = f"{month}-28T09:30:00+08:00"
    path.write_text(json.dumps(manifest))


def test_the_sensor_starts_each_ready_batch_once_and_a_resent_batch_again(landing, tmp_path, monkeypatch):
    monkeypatch.setenv(settings.LANDING_ENV, str(landing))
    instance = DagsterInstance.ephemeral()
    (landing / MONTHS[-1] / MANIFEST_NAME).unlink()  # the last batch is still being written
    first = requested(instance)
    assert [r.partition_key for r in first] == MONTHS[:-1]
    assert all(r.run_key == next(iter(r.tags.values())) and r.run_key.startswith(r.partition_key) for r in first)

    monthly_run(instance, tmp_path / "w.duckdb", landing, MONTHS[0], tags=first[0].tags)
    assert [r.partition_key for r in requested(instance)] == MONTHS[1:-1]  # January has its run

    resend(landing, MONTHS[0])
    again = requested(instance)
    assert [r.partition_key for r in again] == MONTHS[:-1]
    assert again[0].run_key != first[0].run_key


def test_the_sensor_says_why_it_starts_nothing(landing, tmp_path, monkeypatch):
    monkeypatch.setenv(settings.LANDING_ENV, str(landing))
    for month in MONTHS:
        (landing / month / MANIFEST_NAME).unlink()
    skip = batch_manifest_sensor(build_sensor_context(instance=DagsterInstance.ephemeral()))
    assert isinstance(skip, SkipReason) and f"waiting for {MANIFEST_NAME} in {MONTHS[0]}" in skip.skip_message

    monkeypatch.setenv(settings.LANDING_ENV, str(tmp_path / "nowhere"))
    skip = batch_manifest_sensor(build_sensor_context(instance=DagsterInstance.ephemeral()))
    assert isinstance(skip, SkipReason) and "does not exist" in skip.skip_message


@pytest.mark.parametrize("ready", [True, False])
def test_the_schedule_runs_the_month_just_ended_when_its_batch_is_ready(ready, landing, monkeypatch):
    monkeypatch.setenv(settings.LANDING_ENV, str(landing))
    if not ready:
        (landing / "2024-05" / MANIFEST_NAME).unlink()
    tick = datetime(2024, 6, 2, 6, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    with instance_for_test() as instance:
        result = monthly_batch_schedule(build_schedule_context(instance=instance, scheduled_execution_time=tick))
    if ready:
        assert isinstance(result, RunRequest) and result.partition_key == "2024-05"
    else:
        assert isinstance(result, SkipReason) and "2024-05 is not ready" in result.skip_message


def test_the_monthly_job_is_backfillable_as_one_run_per_range():
    job = defs.resolve_job_def("monthly_batch")
    assert job.partitions_def is not None and "2024-01" in job.partitions_def.get_partition_keys()
    graph = defs.resolve_asset_graph()
    raw = graph.get(next(iter(k for k in graph.get_all_asset_keys() if k.path == ["raw", "bills"])))
    assert raw.backfill_policy is not None and raw.backfill_policy.max_partitions_per_run is None
    selected = {key.path[0] for key in job.asset_layer.selected_asset_keys}
    assert {"raw", "staging", "marts", "analytics", "published"} <= selected


def test_the_range_tags_are_the_ones_dagster_reads_for_a_single_run_backfill():
    from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

    from orchestration.partitions import partition_range_tags

    tags = partition_range_tags("2024-02", "2024-05")
    assert tags == {ASSET_PARTITION_RANGE_START_TAG: "2024-02", ASSET_PARTITION_RANGE_END_TAG: "2024-05"}


def test_the_feedback_sensor_asks_one_run_per_contents_of_each_feedback_file(tmp_path, monkeypatch):
    from orchestration.automation import feedback_sensor

    monkeypatch.setenv(settings.FEEDBACK_ENV, str(tmp_path / "feedback"))
    with instance_for_test() as instance:
        assert isinstance(feedback_sensor(build_sensor_context(instance=instance)), SkipReason)  # no folder yet
        (tmp_path / "feedback").mkdir()
        answer = tmp_path / "feedback" / "TEST00000000012026120221000010.fbk"
        answer.write_bytes(b"first\r\n")
        (tmp_path / "feedback" / "notes.txt").write_text("not feedback")
        (first,) = feedback_sensor(build_sensor_context(instance=instance))
        assert first.run_config == {"ops": {"bureau__feedback": {"config": {"file": str(answer)}}}}
        answer.write_bytes(b"second\r\n")
        (second,) = feedback_sensor(build_sensor_context(instance=instance))
        assert first.run_key.startswith(answer.name) and second.run_key != first.run_key
