"""The Dagster definitions load, validate, and wire dbt sources onto the raw-load assets."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from dagster import AssetKey

from foundation.landing import LANDING_FILES
from orchestration.dbt_project import dbt_project, manifest_is_current, prepare_manifest
from orchestration.definitions import defs
from orchestration.settings import DBT_PROJECT_DIR, PROJECT_ROOT


def test_definitions_hold_one_raw_asset_per_landing_file_and_the_dbt_models():
    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    assert {f"raw/{spec.name}" for spec in LANDING_FILES} <= keys
    assert {"staging/stg_landing__bills", "intermediate/int_customer_history"} <= keys
    # dbt sources are the raw-load assets: staging depends on them, not on separate source assets.
    parents = graph.get(AssetKey(["staging", "stg_landing__bills"])).parent_keys
    assert parents == {AssetKey(["raw", "bills"])}
    assert graph.get(AssetKey(["raw", "bills"])).partitions_def is not None
    assert {job.name for job in defs.resolve_all_job_defs()} >= {
        "monthly_batch",
        "load_batch",
        "build_models",
        "bureau_feedback",
    }


def test_the_published_copy_follows_every_analytics_model():
    graph = defs.resolve_asset_graph()
    analytics = {key for key in graph.get_all_asset_keys() if key.path[0] == "analytics"}
    assert len(analytics) == 23
    assert graph.get(AssetKey(["published", "analytics"])).parent_keys == analytics
    # held rows are counted from the quarantine tables the loader writes beside raw
    quarantine = graph.get(AssetKey(["analytics", "quarantine_summary"])).parent_keys
    assert quarantine == {AssetKey(["quarantine", spec.name]) for spec in LANDING_FILES}
    # the Submissions page's views read the ledger the submission writes
    files = graph.get(AssetKey(["analytics", "submission_files"])).parent_keys
    assert files == {AssetKey(["audit", "bureau_files"]), AssetKey(["audit", "bureau_records"])}
    build = defs.resolve_job_def("build_models")
    assert AssetKey(["published", "analytics"]) in build.asset_layer.selected_asset_keys


def test_dagster_definitions_validate_passes():
    dagster = Path(sys.executable).parent / "dagster"
    result = subprocess.run(
        [str(dagster), "definitions", "validate", "-m", "orchestration.definitions"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Validation successful" in result.stdout + result.stderr


def test_the_manifest_is_parsed_again_only_after_a_project_file_changed():
    manifest = dbt_project.manifest_path
    prepare_manifest()
    written = manifest.stat().st_mtime_ns
    prepare_manifest()
    assert manifest.stat().st_mtime_ns == written, "parsed again with nothing changed"
    macro = DBT_PROJECT_DIR / "macros" / "rebuild_window.sql"
    os.utime(macro)  # edited now
    assert not manifest_is_current()
    prepare_manifest()
    assert manifest.stat().st_mtime_ns > written
    assert manifest_is_current()


def test_a_command_never_defines_the_dbt_assets_from_a_stale_manifest(tmp_path):
    """A model added since the last parse: `run` imported the schedule's module (and with it the dbt
    assets, from the old manifest) before preparing the manifest, and its build died on the new node."""
    import json

    target = tmp_path / "target"
    target.mkdir()
    stale = json.loads(dbt_project.manifest_path.read_text())
    gone = {"model.credit_reporting_warehouse.rollout_forecast"}
    while dependents := {
        key
        for key, node in stale["nodes"].items()
        if key not in gone and gone & set(node.get("depends_on", {}).get("nodes", []))
    }:
        gone |= dependents  # its tests and the analytics view over it were not there either
    for section in ("nodes", "unit_tests"):
        stale[section] = {k: v for k, v in stale[section].items() if k not in gone}
    for exposure in stale["exposures"].values():
        exposure["depends_on"]["nodes"] = [n for n in exposure["depends_on"]["nodes"] if n not in gone]
    for section in ("parent_map", "child_map"):
        stale[section] = {k: [n for n in v if n not in gone] for k, v in stale[section].items() if k not in gone}
    (target / "manifest.json").write_text(json.dumps(stale))
    os.utime(target / "manifest.json", (0, 0))  # older than every project file
    code = (
        "from orchestration.automation import batch_tag\n"  # what `run` and `backfill` import first
        "from orchestration.cli import _monthly_definitions\n"
        "from dagster import AssetKey\n"
        "defs, _ = _monthly_definitions()\n"
        "print(AssetKey(['marts', 'rollout_forecast']) in defs.resolve_asset_graph().get_all_asset_keys())\n"
    )
    env = {**os.environ, "DBT_TARGET_PATH": str(target), "CRW_WAREHOUSE": str(tmp_path / "w.duckdb")}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "True"


def test_the_definitions_load_without_great_expectations_which_the_first_validation_imports():
    """GX costs seconds to import: a run or a command that loads no batch does not pay for it."""
    probe = (
        "import sys; import orchestration.definitions; print('great_expectations' in sys.modules); "
        "import data_quality.gate as gate; gate._gate(); print('great_expectations' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=PROJECT_ROOT)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["False", "True"]
