"""The dbt project's models and tests as Dagster assets and asset checks."""

import os
import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from dagster import AssetExecutionContext, AssetKey
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from bureau.ledger import ensure_ledger
from ingestion import rebuild
from orchestration.assets.raw import raw_asset_key
from orchestration.dbt_project import dbt_project, prepare_manifest
from orchestration.resources import Warehouse

KEPT_RUN_TARGETS = 20  # dagster-dbt gives each run its own dbt target folder (logs, artifacts)
PARSE_STATE = "partial_parse.msgpack"


class WarehouseTranslator(DagsterDbtTranslator):
    """dbt sources are the raw-load assets (and the tables the loader writes beside them); models
    group by their folder (staging, marts, ...)."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            if dbt_resource_props["source_name"] == "raw":
                return raw_asset_key(dbt_resource_props["name"])
            # quarantine and audit tables: written by the raw-load step beside raw, seen as external
            return AssetKey([dbt_resource_props["source_name"], dbt_resource_props["name"]])
        # schema/relation name, as analysts see it in the warehouse (aliases included)
        relation = dbt_resource_props.get("alias") or dbt_resource_props["name"]
        return AssetKey([dbt_resource_props["config"].get("schema") or "main", relation])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else "dbt"


# The assets are defined from the manifest when this module is imported, whoever imports it first
# (the CLI imports the schedule's module before anything else): a manifest older than a model would
# define the assets without it, and the build would die on its events.
prepare_manifest()

# dbt tests on raw (sources) are checks of the raw-load assets
translator = WarehouseTranslator(
    settings=DagsterDbtTranslatorSettings(enable_asset_checks=True, enable_source_tests_as_checks=True)
)


@dbt_assets(manifest=dbt_project.manifest_path, project=dbt_project, dagster_dbt_translator=translator)
def warehouse_models(context: AssetExecutionContext, dbt: DbtCliResource, warehouse: Warehouse):
    """dbt build: models, then their tests as asset checks (error severity blocks downstream).

    In a monthly run the incremental models rebuild only the months the loaded batches touched
    (queued by the loader); otherwise every table is rebuilt from scratch (--full-refresh, which
    also takes in a model whose columns changed). The queue is cleared once the build passed."""
    with warehouse.connect() as con:
        ensure_ledger(con)  # the analytics models read it, before the first submission too
        queued_from, queued_up_to = rebuild.pending_rebuild_from(con)
    # a run of the monthly job carries its batch months (one, or a backfilled range); the dbt assets have none
    runs_batches = context.has_partition_key or context.has_partition_key_range
    window = rebuild.rebuild_window(queued_from, runs_batches=runs_batches)
    context.log.info(window.describe())
    with _environment(window.dbt_env()):  # read by the dbt subprocess started inside
        invocation = dbt.cli(window.dbt_args(), context=context)
    yield from invocation.stream()
    if queued_up_to is not None:
        with warehouse.connect() as con:
            rebuild.clear_rebuilt(con, queued_up_to)
    keep_parse_state(invocation.target_path)
    prune_run_targets(invocation.target_path)


@contextmanager
def _environment(window_env: dict[str, str]) -> Iterator[None]:
    """The window's variable set for the subprocess, or unset (a full build), and restored after."""
    saved = os.environ.pop(rebuild.WINDOW_ENV, None)
    os.environ.update(window_env)
    try:
        yield
    finally:
        os.environ.pop(rebuild.WINDOW_ENV, None)
        if saved is not None:
            os.environ[rebuild.WINDOW_ENV] = saved


def keep_parse_state(run_target: Path) -> None:
    """Start the next run's parse from this run's. dagster-dbt copies target/partial_parse.msgpack
    into each run's folder but never back, and dbt parses the whole project again whenever the
    profile differs from the one that file was written with (another warehouse path)."""
    state = run_target / PARSE_STATE
    if state.is_file():
        incoming = run_target.parent / f".{PARSE_STATE}.{os.getpid()}"
        shutil.copyfile(state, incoming)
        incoming.replace(run_target.parent / PARSE_STATE)  # atomic: a parse starting now reads a whole file


def prune_run_targets(latest: Path) -> None:
    """Keep the newest KEPT_RUN_TARGETS per-run target folders of this asset; older ones only fill
    the disk (a failed run stops before this, so its folder stays until later runs push it out)."""
    prefix = latest.name.split("-")[0]  # the op's name: "warehouse_models-<run>-<uuid>"
    folders = [path for path in latest.parent.glob(f"{prefix}-*") if path.is_dir()]
    for old in sorted(folders, key=lambda path: path.stat().st_mtime, reverse=True)[KEPT_RUN_TARGETS:]:
        shutil.rmtree(old, ignore_errors=True)
