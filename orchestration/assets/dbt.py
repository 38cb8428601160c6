"""The dbt project's models and tests as Dagster assets and asset checks."""

from collections.abc import Mapping
from typing import Any

from dagster import AssetExecutionContext, AssetKey
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from orchestration.assets.raw import raw_asset_key
from orchestration.dbt_project import dbt_project


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


translator = WarehouseTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


@dbt_assets(manifest=dbt_project.manifest_path, project=dbt_project, dagster_dbt_translator=translator)
def warehouse_models(context: AssetExecutionContext, dbt: DbtCliResource):
    """dbt build: models, then their tests as asset checks (error severity blocks downstream)."""
    yield from dbt.cli(["build"], context=context).stream()
