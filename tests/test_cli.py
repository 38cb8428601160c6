"""The project command: readable help, one-line errors for user mistakes, a working run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import query

from ingestion.contract import MANIFEST_NAME
from orchestration.settings import LANDING_ENV, PUBLISHED_ENV, WAREHOUSE_ENV


def cli(*args: str, env: dict[str, str] | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "orchestration.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=timeout,
    )


def test_help_lists_the_subcommands():
    result = cli("--help")
    assert result.returncode == 0
    for command in ("generate", "run", "backfill", "status"):
        assert command in result.stdout


def test_user_mistakes_get_one_line_and_no_traceback(tmp_path: Path):
    cases = [
        (("generate", "--first-month", "2024-13", "--out", str(tmp_path / "x")), {}, "first month must be YYYY-MM"),
        (("status",), {WAREHOUSE_ENV: str(tmp_path / "none.duckdb")}, "no warehouse at"),
        (("run",), {LANDING_ENV: str(tmp_path / "nowhere")}, "does not exist: run `generate` first"),
        (("backfill", "--from", "2024-1", "--to", "2024-03"), {}, "'2024-1' is not a month YYYY-MM"),
        (("backfill", "--from", "2024-05", "--to", "2024-03"), {}, "--from 2024-05 is after --to 2024-03"),
        (
            ("backfill", "--from", "2024-01", "--to", "2024-03"),
            {LANDING_ENV: str(tmp_path)},
            "no ready batch for 2024-01, 2024-02, 2024-03",
        ),
    ]
    for args, env, message in cases:
        result = cli(*args, env=env)
        assert result.returncode == 2, result.stderr
        assert message in result.stderr and "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


def test_run_loads_ready_batches_reports_rejections_and_waits_for_incomplete_ones(tmp_path: Path):
    landing, warehouse = tmp_path / "landing", tmp_path / "w.duckdb"
    published = tmp_path / "published" / "analytics_snapshot.duckdb"
    env = {
        LANDING_ENV: str(landing),
        WAREHOUSE_ENV: str(warehouse),
        PUBLISHED_ENV: str(published),
        "DAGSTER_HOME": str(tmp_path / "dh"),
    }
    generated = cli("generate", "--customers", "300", "--months", "4", "--out", str(landing), env=env)
    assert generated.returncode == 0, generated.stderr
    (landing / "2024-04" / MANIFEST_NAME).unlink()  # still being written
    bills = landing / "2024-03" / "bills.csv"
    bills.write_bytes(bills.read_bytes()[:-200])  # truncated in transit

    result = cli("run", env=env)
    assert result.returncode == 1, result.stderr[-2000:]
    out = result.stdout
    assert "2024-03: batch 2024-03 rejected (bills.csv): sha256 differs from the manifest" in out
    assert "2024-04: not ready (_manifest.json missing)" in out
    assert "batches loaded: 2 of 3 attempted (2024-01 .. 2024-02)" in out
    assert "staging.stg_landing__customers" in out
    assert "Traceback" not in result.stdout + result.stderr
    # the loaded months passed dbt build: the dashboard's copy is published up to the last of them
    assert query(published, "select data_as_of from analytics.publication") == [("2024-02",)]

    status = cli("status", env=env)
    assert status.returncode == 0 and "2024-03: REJECTED" in status.stdout


def test_status_counts_a_batch_with_quarantined_rows_as_loaded_and_names_it(tmp_path: Path, monkeypatch):
    import duckdb

    from ingestion.raw_load import MAX_BAD_SHARE_ENV, load_batch
    from orchestration.status import format_status, read_status
    from source_system import GeneratorConfig, generate_landing

    monkeypatch.setenv(MAX_BAD_SHARE_ENV, "0.5")
    generate_landing(
        GeneratorConfig(customers=100, months=2, dirty_rate=0.02, dirty_kinds=("negative_amount",)), tmp_path / "l"
    )
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    for month in ("2024-01", "2024-02"):
        load_batch(con, tmp_path / "l" / month)
    con.close()
    text = format_status(read_status(tmp_path / "w.duckdb"))
    assert "batches loaded: 2 of 2 attempted (2024-01 .. 2024-02)" in text
    assert "2024-01: LOADED_WITH_QUARANTINE (see audit.load_batches)" in text


def test_a_failed_build_publishes_nothing_and_says_so(tmp_path: Path):
    """Held-back repayments leave months incomplete: the mart's blocking check fails the build."""
    landing, published = tmp_path / "landing", tmp_path / "published" / "analytics_snapshot.duckdb"
    env = {
        LANDING_ENV: str(landing),
        WAREHOUSE_ENV: str(tmp_path / "w.duckdb"),
        PUBLISHED_ENV: str(published),
        "DAGSTER_HOME": str(tmp_path / "dh"),
        "CRW_MAX_BAD_ROW_SHARE": "0.5",
    }
    generate = ["generate", "--customers", "300", "--months", "4", "--rollout-month", "2", "--out", str(landing)]
    dirty = ["--dirty-rate", "0.01", "--dirty-kinds", "zero_repayment,negative_balance"]
    assert cli(*generate, *dirty, env=env).returncode == 0
    result = cli("run", env=env)
    assert result.returncode == 1, result.stdout[-2000:]
    assert "dbt build failed" in result.stdout
    assert "nothing published: the dashboard keeps showing the last good copy" in result.stdout
    assert not published.exists()
