"""Raw loads under Dagster: verified, idempotent, replace-on-resend, whole-or-nothing, audited."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from conftest import failure_message, load_month, query
from landing_builder import edit_csv

import ingestion.raw_load as raw_load
from foundation.landing import LANDING_FILES, MANIFEST_NAME

MONTHS = [f"2024-{m:02d}" for m in range(1, 9)]
CONTENT_HASH = "select count(*), sum(hash(t)) from (select * exclude (_loaded_at) from raw.{table}) t"


def manifest_rows(landing: Path, month: str) -> dict[str, int]:
    files = json.loads((landing / month / MANIFEST_NAME).read_text())["files"]
    return {Path(name).stem: meta["rows"] for name, meta in files.items()}


def raw_rows(warehouse: Path, month: str) -> dict[str, int]:
    return {
        spec.name: query(warehouse, f"select count(*) from raw.{spec.name} where _batch_month = ?", [month + "-01"])[0][
            0
        ]
        for spec in LANDING_FILES
    }


def rewrite(landing: Path, month: str, file_name: str, edit) -> None:
    edit_csv(landing, month, file_name, edit)


def test_every_batch_loads_with_the_manifest_row_counts(instance, small_landing, tmp_path):
    warehouse = tmp_path / "w.duckdb"
    for month in MONTHS:
        result = load_month(instance, warehouse, small_landing, month)
        assert result.success, failure_message(result)
        assert raw_rows(warehouse, month) == manifest_rows(small_landing, month)
    audit = query(
        warehouse,
        "select status, count(*), sum(rows_received), sum(rows_loaded), sum(rows_quarantined) "
        "from audit.load_batches group by 1",
    )
    total = sum(sum(manifest_rows(small_landing, m).values()) for m in MONTHS)
    assert audit == [("LOADED", 8 * 7, total, total, 0)]
    # Load metadata: batch month, source file, row position, load time.
    first = query(
        warehouse,
        "select _source_file, _source_row, bill_id from raw.bills where _batch_month = '2024-02-01' "
        "order by _source_row limit 1",
    )
    with open(small_landing / "2024-02" / "bills.csv", encoding="utf-8") as fh:
        first_bill = list(csv.DictReader(fh))[0]["bill_id"]
    assert first == [("bills.csv", 1, first_bill)]


def test_loading_a_batch_twice_leaves_the_warehouse_as_if_loaded_once(instance, small_landing, tmp_path):
    warehouse = tmp_path / "w.duckdb"
    assert load_month(instance, warehouse, small_landing, "2024-01").success
    before = {s.name: query(warehouse, CONTENT_HASH.format(table=s.name)) for s in LANDING_FILES}
    assert load_month(instance, warehouse, small_landing, "2024-01").success
    after = {s.name: query(warehouse, CONTENT_HASH.format(table=s.name)) for s in LANDING_FILES}
    assert before == after and before["bills"][0][0] > 0
    assert query(warehouse, "select count(*) from audit.load_batches")[0][0] == 2 * 7


def test_a_resent_batch_replaces_the_old_one_whole(instance, landing, tmp_path):
    warehouse = tmp_path / "w.duckdb"
    assert load_month(instance, warehouse, landing, "2024-02").success
    old_ids = {r[0] for r in query(warehouse, "select bill_id from raw.bills")}
    rewrite(landing, "2024-02", "bills.csv", lambda rows: rows[:1] + rows[11:])  # ten bills withdrawn
    assert load_month(instance, warehouse, landing, "2024-02").success
    new_ids = {r[0] for r in query(warehouse, "select bill_id from raw.bills")}
    assert len(new_ids) == len(old_ids) - 10 and new_ids < old_ids
    assert raw_rows(warehouse, "2024-02") == manifest_rows(landing, "2024-02")


def test_a_batch_without_manifest_is_not_ready_and_nothing_is_loaded(instance, landing, tmp_path):
    warehouse = tmp_path / "w.duckdb"
    (landing / "2024-03" / MANIFEST_NAME).unlink()
    result = load_month(instance, warehouse, landing, "2024-03")
    assert not result.success
    assert "batch 2024-03 is not ready: _manifest.json is missing" in failure_message(result)
    assert "Traceback" not in failure_message(result)
    assert set(raw_rows(warehouse, "2024-03").values()) == {0}


def test_a_failure_mid_load_leaves_the_previous_version_intact(instance, landing, tmp_path, monkeypatch):
    warehouse = tmp_path / "w.duckdb"
    assert load_month(instance, warehouse, landing, "2024-02").success
    before = {s.name: query(warehouse, CONTENT_HASH.format(table=s.name)) for s in LANDING_FILES}
    rewrite(landing, "2024-02", "bills.csv", lambda rows: rows[:-5])

    real_insert, inserted = raw_load.insert_file, []

    def crash_on_the_fourth_file(con, spec, *args):
        if len(inserted) == 3:
            raise OSError("disk full (injected)")
        inserted.append(spec.name)
        real_insert(con, spec, *args)

    monkeypatch.setattr(raw_load, "insert_file", crash_on_the_fourth_file)
    result = load_month(instance, warehouse, landing, "2024-02")
    assert not result.success and inserted == ["customers", "accounts", "agreements"]
    after = {s.name: query(warehouse, CONTENT_HASH.format(table=s.name)) for s in LANDING_FILES}
    assert after == before  # nothing of the failed attempt, all of the old version
    attempts = query(warehouse, "select status, count(*) from audit.load_batches group by 1 order by 1")
    assert attempts == [("LOADED", 7), ("REJECTED", 7)]


def test_a_truncated_file_rejects_the_batch_whole(instance, landing, tmp_path):
    warehouse = tmp_path / "w.duckdb"
    path = landing / "2024-04" / "bills.csv"
    path.write_text("".join(path.read_text(encoding="utf-8").splitlines(keepends=True)[:-3]), encoding="utf-8")
    result = load_month(instance, warehouse, landing, "2024-04")
    assert not result.success
    assert "batch 2024-04 rejected (bills.csv): sha256 differs from the manifest" in failure_message(result)
    assert set(raw_rows(warehouse, "2024-04").values()) == {0}
    audit = query(warehouse, "select file_name, status, reason from audit.load_batches order by file_name")
    assert len(audit) == 7 and {a[1] for a in audit} == {"REJECTED"}
    assert dict((a[0], a[2]) for a in audit)["bills.csv"].startswith("sha256 differs")


def test_a_manifest_declaring_the_wrong_row_count_is_rejected(instance, landing, tmp_path):
    manifest_path = landing / "2024-05" / MANIFEST_NAME
    manifest = json.loads(manifest_path.read_text())
    manifest["files"]["invitations.csv"]["rows"] += 1
    manifest_path.write_text(json.dumps(manifest))
    result = load_month(instance, tmp_path / "w.duckdb", landing, "2024-05")
    assert "invitations.csv" in failure_message(result) and "the manifest says" in failure_message(result)


def test_gb18030_and_parquet_batches_load_the_same_rows_as_utf8_csv(instance, tmp_path):
    from source_system import GeneratorConfig, generate_landing

    contents = {}
    for variant, options in {
        "utf8": {},
        "gb18030": {"encoding": "gb18030"},
        "parquet": {"file_format": "parquet"},
    }.items():
        landing = tmp_path / variant
        generate_landing(GeneratorConfig(customers=150, months=2, **options), landing)
        warehouse = tmp_path / f"{variant}.duckdb"
        for month in ("2024-01", "2024-02"):
            result = load_month(instance, warehouse, landing, month)
            assert result.success, failure_message(result)
        contents[variant] = {
            s.name: query(
                warehouse,
                f"select count(*), sum(hash(t)) from (select * exclude (_loaded_at, _source_file) from raw.{s.name}) t",
            )
            for s in LANDING_FILES
        }
    assert contents["utf8"]["customers"][0][0] > 0
    assert contents["gb18030"] == contents["utf8"] == contents["parquet"]


def test_a_gb18030_file_declared_utf8_is_rejected(instance, tmp_path):
    from source_system import GeneratorConfig, generate_landing

    landing = tmp_path / "landing"
    generate_landing(GeneratorConfig(customers=150, months=1, encoding="gb18030"), landing)
    manifest_path = landing / "2024-01" / MANIFEST_NAME
    manifest_path.write_text(manifest_path.read_text().replace('"gb18030"', '"utf-8"'))
    result = load_month(instance, tmp_path / "w.duckdb", landing, "2024-01")
    assert not result.success
    assert "rejected (customers.csv): not valid utf-8" in failure_message(result)


KILLED_MID_LOAD = """
import os, sys, time, duckdb
from pathlib import Path
import ingestion.raw_load as raw_load
real_insert, done = raw_load.insert_file, []
def slow_insert(con, spec, *args):
    real_insert(con, spec, *args)
    done.append(spec.name)
    if len(done) == 3:
        Path(sys.argv[3]).touch()  # three files written inside the open transaction
        time.sleep(600)
raw_load.insert_file = slow_insert
raw_load.load_batch(duckdb.connect(sys.argv[1]), Path(sys.argv[2]))
"""


def test_a_process_killed_mid_load_leaves_the_previous_version(instance, landing, tmp_path):
    import signal
    import subprocess
    import sys
    import time

    warehouse = tmp_path / "w.duckdb"
    assert load_month(instance, warehouse, landing, "2024-02").success
    before = {s.name: query(warehouse, CONTENT_HASH.format(table=s.name)) for s in LANDING_FILES}
    rewrite(landing, "2024-02", "customers.csv", lambda rows: rows[:-7])
    marker = tmp_path / "three-files-in"
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_MID_LOAD, str(warehouse), str(landing / "2024-02"), str(marker)]
    )
    deadline = time.monotonic() + 120
    while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marker.exists(), "the load never reached its third file"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    after = {s.name: query(warehouse, CONTENT_HASH.format(table=s.name)) for s in LANDING_FILES}
    assert after == before


def test_batches_arriving_out_of_order_give_the_same_raw_tables(instance, small_landing, tmp_path):
    contents = []
    for order in (MONTHS[:4], list(reversed(MONTHS[:4]))):
        warehouse = tmp_path / f"{order[0]}.duckdb"
        for month in order:
            assert load_month(instance, warehouse, small_landing, month).success
        contents.append({s.name: query(warehouse, CONTENT_HASH.format(table=s.name)) for s in LANDING_FILES})
    assert contents[0] == contents[1]
