"""The one handle on the dbt project (its manifest is prepared ahead: `dbt parse` or prepare_manifest())."""

import sys
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject

from orchestration.settings import DBT_PROJECT_DIR, dbt_target_dir, put_interpreter_bin_on_path

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR, target_path=dbt_target_dir())
put_interpreter_bin_on_path()  # under `dagster dev` the next line runs `dbt parse`: this venv's dbt, not PATH's
dbt_project.prepare_if_dev()
DBT_GUARD = Path(sys.executable).parent / "crw-dbt"  # orchestration/dbt_guard.py, installed as a script

# What `dbt parse` reads to write the manifest (the folders too: a deleted file changes its folder).
PROJECT_SOURCES = ("dbt_project.yml", "profiles.yml", "models", "macros", "tests", "seeds")


def manifest_is_current() -> bool:
    """The manifest was written after every file of the project last changed."""
    manifest = dbt_project.manifest_path
    if not manifest.is_file():
        return False
    written = manifest.stat().st_mtime
    for name in PROJECT_SOURCES:
        source = DBT_PROJECT_DIR / name
        paths = [source, *source.rglob("*")] if source.is_dir() else [source]
        if any(path.stat().st_mtime >= written for path in paths):
            return False
    return True


def prepare_manifest() -> None:
    """Parse the project if the manifest is older than its files: a parse is a dbt start-up (~5-10 s),
    paid on every command before, whether or not anything had changed."""
    if not manifest_is_current():
        dbt_project.preparer.prepare(dbt_project)


def dbt_resource() -> DbtCliResource:
    """dbt for the Dagster assets, through the guard that stops it when its run is killed."""
    return DbtCliResource(project_dir=dbt_project, dbt_executable=str(DBT_GUARD))
