"""The project command: readable help, one-line errors for user mistakes, a working run."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import cli, query

from foundation.landing import MANIFEST_NAME
from orchestration.settings import LANDING_ENV, PUBLISHED_ENV, WAREHOUSE_ENV


def test_help_lists_the_subcommands():
    result = cli("--help")
    assert result.returncode == 0
    for command in ("generate", "run", "backfill", "status"):
        assert command in result.stdout


def test_user_mistakes_get_one_line_and_no_traceback(tmp_path: Path):
    cases = [
        (
            ("generate", "--first-month", "2024-13", "--out", str(tmp_path / "x")),
            {},
            "'2024-13' is not a month YYYY-MM",
        ),
        (("run", "--month", "2025/12"), {}, "argument --month: '2025/12' is not a month YYYY-MM"),
        (("submit", "--month", "12-2025"), {}, "'12-2025' is not a month YYYY-MM"),
        (("explain", "--customer", "C1", "--month", "2025-1"), {}, "'2025-1' is not a month YYYY-MM"),
        (("submit",), {}, "one of the arguments --month --all is required"),
        (("frobnicate",), {}, "invalid choice: 'frobnicate'"),
        (("status",), {WAREHOUSE_ENV: str(tmp_path / "none.duckdb")}, "no warehouse at"),
        (("run",), {LANDING_ENV: str(tmp_path / "nowhere")}, "does not exist: run `generate` first"),
        (("backfill", "--from", "2024-1", "--to", "2024-03"), {}, "argument --from: '2024-1' is not a month YYYY-MM"),
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
    future = landing / "2099-01"  # a batch of a month not ended, its manifest matching
    shutil.copytree(landing / "2024-01", future)
    manifest = json.loads((future / MANIFEST_NAME).read_text())
    (future / MANIFEST_NAME).write_text(json.dumps({**manifest, "batch_month": "2099-01"}))

    result = cli("run", env=env)
    assert result.returncode == 1, result.stderr[-2000:]
    out = result.stdout
    assert "2024-03: batch 2024-03 rejected (bills.csv): sha256 differs from the manifest" in out
    assert "2024-04: not ready (_manifest.json missing)" in out
    assert "2099-01: batch 2099-01 refused: the month has not ended yet" in out  # only that batch
    assert "batches loaded: 2 of 4 attempted (2024-01 .. 2024-02)" in out
    assert "2024-02: " in out and " records written to TEST0000000001" in out  # run ends with the bureau files
    assert out.count(" records written to ") == 2, out  # once per month built: 2024-01 and 2024-02
    assert "marts.credit_report_monthly: " in out  # the status after the run
    assert "Traceback" not in result.stdout + result.stderr
    assert "Stack Trace" not in result.stdout + result.stderr  # user mistakes print their line only
    assert "Telemetry" not in result.stdout + result.stderr  # the instance config the CLI writes turns it off
    assert "dagster.yaml" not in result.stderr
    assert len(result.stdout.splitlines()) < 60, result.stdout  # the lines above and the status, not pages
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
    assert "2024-01: LOADED_WITH_QUARANTINE (the sending produced 2024-02-01T02:00:00+08:00, loaded" in text


def test_status_names_the_sending_loaded_and_a_later_one_refused(tmp_path: Path):
    import duckdb
    import pytest

    from foundation.errors import BatchRejected
    from ingestion.raw_load import load_batch
    from orchestration.status import format_status, read_status
    from source_system import GeneratorConfig, generate_landing

    generate_landing(GeneratorConfig(customers=100, months=2), tmp_path / "l")
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    for month in ("2024-01", "2024-02"):
        load_batch(con, tmp_path / "l" / month)
    bills = tmp_path / "l" / "2024-02" / "bills.csv"
    bills.write_bytes(bills.read_bytes()[:-100])  # the batch sent again, truncated: refused
    with pytest.raises(BatchRejected):
        load_batch(con, tmp_path / "l" / "2024-02")
    con.close()
    text = format_status(read_status(tmp_path / "w.duckdb"))
    assert "batches loaded: 2 of 2 attempted (2024-01 .. 2024-02)" in text
    line = next(line for line in text.splitlines() if line.startswith("  2024-02"))
    assert line.startswith("  2024-02: LOADED (the sending produced 2024-03-01T02:00:00+08:00, loaded ")
    assert "; a later sending was refused " in line
    assert "bills.csv: sha256 differs from the manifest (truncated or changed file), the loaded one stays" in line
    assert not [line for line in text.splitlines() if line.startswith("  2024-01")]  # plainly loaded


def test_a_warehouse_held_by_another_process_is_one_line_naming_it(tmp_path: Path):
    import duckdb

    warehouse = tmp_path / "w.duckdb"
    duckdb.connect(str(warehouse)).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, time; c = duckdb.connect({str(warehouse)!r}); print(1, flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
    )
    try:
        holder.stdout.readline()
        for args in (("status",), ("run",)):
            result = cli(*args, env={WAREHOUSE_ENV: str(warehouse), LANDING_ENV: str(tmp_path)})
            assert result.returncode == 2, result.stderr
            holder_named = f"in use by process {holder.pid} ({Path(sys.executable).name} -c import duckdb"
            assert result.stderr.startswith(f"error: the warehouse {warehouse} is {holder_named}")
            assert f"stop it (kill {holder.pid}), then try again" in result.stderr
            assert len(result.stderr.strip().splitlines()) == 1
    finally:
        holder.kill()
        holder.wait()
