"""`make dagster` on a built warehouse: the real webserver loads the code location with every asset,
check, job, schedule and sensor, shows the asset graph in Chromium, and stops cleanly on SIGTERM even
when started in the background (SIGINT ignored), as `dagster dev` alone did not."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import yaml

from devtools import browser, dagster_ui
from orchestration import settings
from orchestration.definitions import defs


def test_the_dagster_ui_loads_every_definition_and_stops_on_sigterm(small_published, tmp_path: Path):
    warehouse, published = small_published
    env = {
        settings.WAREHOUSE_ENV: str(warehouse),
        settings.PUBLISHED_ENV: str(published),
        settings.LANDING_ENV: str(tmp_path / "landing"),  # no batch: the sensor starts no run on the shared file
        settings.FEEDBACK_ENV: str(tmp_path / "feedback"),
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
        "PATH": "/usr/bin:/bin",  # no virtualenv on PATH, as from a fresh shell
    }
    with dagster_ui.serve(env) as (url, ui):
        (entry,) = dagster_ui.graphql(url, dagster_ui.WORKSPACE)["workspaceOrError"]["locationEntries"]
        assert entry["loadStatus"] == "LOADED"
        assert entry["locationOrLoadError"]["__typename"] == "RepositoryLocation", entry["locationOrLoadError"]
        (repository,) = entry["locationOrLoadError"]["repositories"]
        shown = {"/".join(node["assetKey"]["path"]) for node in repository["assetNodes"]}
        defined = {key.to_user_string() for key in defs.resolve_asset_graph().get_all_asset_keys()}
        assert shown == defined and {"raw/bills", "marts/credit_report_monthly", "bureau/submission_210"} <= shown
        assert {job["name"] for job in repository["jobs"]} >= {"monthly_batch", "bureau_feedback"}
        assert [s["name"] for s in repository["schedules"]] == ["monthly_batch_schedule"]
        assert {s["name"] for s in repository["sensors"]} == {
            "batch_manifest_sensor",
            "feedback_sensor",
            "publish_after_failed_run",
        }
        instance_config = yaml.safe_load((tmp_path / "dagster_home" / "dagster.yaml").read_text())
        assert instance_config["telemetry"] == {"enabled": False}

        with browser.chromium(height=1000) as page:
            dagster_ui.open_asset_group(page, url, "marts", "credit_report_monthly")
            for model in ("fct_rollout_coverage", "rollout_wave_funnel", "dim_provinces"):
                assert page.get_by_text(model, exact=True).count() >= 1
            assert page.get_by_text("Error").count() == 0
            page.screenshot(path=str(tmp_path / "dagster.png"))
        assert (tmp_path / "dagster.png").stat().st_size > 20_000

        started = time.monotonic()
        ui.send_signal(signal.SIGTERM)
        ui.wait(timeout=60)
        while dagster_ui.group_alive(ui.pid) and time.monotonic() - started < 60:
            time.sleep(0.5)  # its webserver, daemon and code servers shut down after it
        stopped_in = time.monotonic() - started
        assert ui.returncode == 0
    assert stopped_in < 30, f"the Dagster UI took {stopped_in:.0f} s to stop on SIGTERM"
