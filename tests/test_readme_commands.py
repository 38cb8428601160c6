"""The README's two commands are real: the main one runs end to end in a scratch copy."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import duckdb

from bureau.reader import read_file
from orchestration.settings import PROJECT_ROOT


def readme_command(marker: str) -> str:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(rf"<!-- {marker} -->\s*```sh\n(.+?)\n```", readme, re.S)
    assert match, f"README has no {marker} block"
    return match.group(1).strip()


def scratch_copy(target: Path) -> Path:
    """The project's files as a clean clone would have them (tracked or new, never ignored)."""
    files = (
        subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=PROJECT_ROOT,
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .split("\0")
    )
    for name in filter(None, files):
        source = PROJECT_ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def test_ci_runs_exactly_the_readme_test_command():
    ci = (PROJECT_ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert readme_command("test-command") in ci.splitlines()


def test_the_readme_main_command_runs_end_to_end_in_a_scratch_directory(tmp_path: Path):
    project = scratch_copy(tmp_path / "project")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CRW_", "DAGSTER_", "DBT_", "VIRTUAL_ENV"))}
    result = subprocess.run(
        readme_command("main-command"),
        shell=True,
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    assert "batches loaded: 24 of 24 attempted (2024-01 .. 2025-12)" in out
    assert f"warehouse: {project / 'data' / 'warehouse.duckdb'}" in out
    assert "2024-01 .. 2025-12: the monthly job (load, gate, dbt on the months touched" in out  # one path
    assert "staging: 7 views (rows not counted" in out and "staging.stg_landing__bills: " in out
    reported = duckdb.connect(str(project / "data" / "warehouse.duckdb"), read_only=True)
    try:
        records = reported.execute("select count(*) from marts.credit_report_monthly").fetchone()[0]
        sent, held = reported.execute(
            "select (select count(*) from audit.bureau_records), (select count(*) from audit.submission_holds)"
        ).fetchone()
    finally:
        reported.close()
    assert records > 0 and f"marts.credit_report_monthly: {records:,}" in out
    # it ends with every month's bureau file written, each as the reader expects it
    files = sorted((project / "data" / "submissions").glob("*.txt"))
    assert len(files) == 24 and all(read_file(f).problems == [] for f in files)
    assert sent + held == records and held < records / 100
    assert (project / "data" / "landing" / "2025-12" / "_manifest.json").is_file()
    # the dashboard's copy is published, up to the last batch, and `make dashboard` would find it
    published = project / "data" / "published" / "analytics_snapshot.duckdb"
    assert f"make dashboard   (reads {published})" in out
    con = duckdb.connect(str(published), read_only=True)
    try:
        assert con.execute("select data_as_of from analytics.publication").fetchone()[0] == "2025-12"
    finally:
        con.close()
