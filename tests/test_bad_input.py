"""The bad-input corpus: every defect class a real feed shows, each with its exact outcome.

Batch-level defects reject the batch whole (nothing loaded, the reason audited); row-level ones
hold exactly the bad rows in quarantine with their reason and load the rest; in every case
rows received = rows loaded + rows quarantined, or nothing at all when rejected."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import duckdb
import pytest
from conftest import query
from landing_builder import edit_csv, resign

from ingestion.contract import LANDING_FILES, MANIFEST_NAME
from ingestion.errors import BatchNotReady, BatchRejected
from ingestion.raw_load import MAX_BAD_SHARE_ENV, load_batch
from source_system import GeneratorConfig, generate_landing
from source_system.dirty import DEFECTS

MONTH = "2024-02"  # defects go into the second batch; the first is loaded clean before it


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """A clean two-month landing zone and a warehouse with its first month loaded."""
    root = tmp_path_factory.mktemp("bad-input")
    generate_landing(GeneratorConfig(customers=400, months=2), root / "landing")
    con = duckdb.connect(str(root / "w.duckdb"))
    load_batch(con, root / "landing" / "2024-01")
    con.close()
    return root


@pytest.fixture
def case(base, tmp_path):
    landing = Path(shutil.copytree(base / "landing", tmp_path / "landing"))
    warehouse = tmp_path / "w.duckdb"
    shutil.copy(base / "w.duckdb", warehouse)
    return landing, warehouse


def load(landing: Path, warehouse: Path):
    con = duckdb.connect(str(warehouse))
    try:
        return load_batch(con, landing / MONTH)
    finally:
        con.close()


def first_row_with(rows: list[list[str]], column: str, predicate=lambda v: bool(v)) -> int:
    index = rows[0].index(column)
    return next(i for i, row in enumerate(rows[1:], start=1) if predicate(row[index]))


def ids_in_first_batch(landing: Path, file: str, key: str) -> set[str]:
    with open(landing / "2024-01" / f"{file}.csv", encoding="utf-8", newline="") as fh:
        return {row[key] for row in csv.DictReader(fh)}


def corrupt_one(landing: Path, file: str, column: str, corrupt):
    """Corrupt one row that has a value there; for customers and accounts, a version of a row known
    from the first batch, so that no child row in this batch depends on it."""
    key = {"customers": "customer_id", "accounts": "account_id"}.get(file)
    known = ids_in_first_batch(landing, file, key) if key else None

    def edit(rows):
        c, k = rows[0].index(column), rows[0].index(key) if key else None
        wants_value = column != "term_months"  # loan terms are corrupted where HUABEI has none
        i = next(
            i
            for i, row in enumerate(rows[1:], start=1)
            if bool(row[c]) == wants_value and (known is None or row[k] in known)
        )
        rows[i][c] = corrupt(rows[i][c])
        return rows

    return edit


def assert_reconciles(warehouse: Path) -> None:
    audit = query(
        warehouse,
        "select file_name, rows_received, rows_loaded, rows_quarantined from audit.load_batches"
        " where batch_month = ?::date",
        [MONTH + "-01"],
    )
    assert len(audit) == 7 and all(r[1] == r[2] + r[3] for r in audit), audit
    for spec in LANDING_FILES:
        raw = query(warehouse, f"select count(*) from raw.{spec.name} where _batch_month = ?::date", [MONTH + "-01"])
        held = query(
            warehouse, f"select count(*) from quarantine.{spec.name} where batch_month = ?::date", [MONTH + "-01"]
        )
        audited = next(r for r in audit if r[0] == f"{spec.name}.csv")
        assert (raw[0][0], held[0][0]) == (audited[2], audited[3]), spec.name


# ---- row level: the row is held with its reason, the rest loads ----------------------------

ROW_CASES = {name: (d.file, d.column, d.corrupt, d.reason) for name, d in DEFECTS.items()}
ROW_CASES.update(
    {
        "unknown_product": ("accounts", "product", lambda v: "CREDIT", "product is one of HUABEI, JIEBEI"),
        "huabei_with_loan_terms": ("accounts", "term_months", lambda v: "6", "both empty for HUABEI"),
        "closed_before_opened": (
            "accounts",
            "closed_at",
            lambda v: "2000-01-01T00:00:00+08:00",
            "closed_at is not before",
        ),
        "unknown_document_code": ("agreements", "document_code", lambda v: "FOO", "document_code is one of"),
        "unknown_channel": ("agreements", "channel", lambda v: "FAX", "channel is one of"),
        "bad_gender": ("customers", "gender", lambda v: "X", "gender is one of M, F"),
        "bill_month_not_statement_month": ("bills", "bill_month", lambda v: "2023-12", "bill_month is the month of"),
        "unknown_customer": ("agreements", "customer_id", lambda v: "C99999999", "orphan: customer_id unknown"),
        # beyond the nanosecond range the gate hands GX for fast comparisons
        "statement_in_year_9999": ("bills", "statement_date", lambda v: "9999-12-31", "statement_date is not after"),
        "paid_in_year_9999": ("repayments", "paid_at", lambda v: "9999-12-31T10:00:00+08:00", "paid_at is not after"),
    }
)


@pytest.mark.parametrize("name", sorted(ROW_CASES))
def test_a_bad_row_is_quarantined_with_its_reason(case, name):
    landing, warehouse = case
    file, column, corrupt, reason = ROW_CASES[name]
    edit_csv(landing, MONTH, f"{file}.csv", corrupt_one(landing, file, column, corrupt))
    result = load(landing, warehouse)
    held = query(warehouse, f"select reason from quarantine.{file} where batch_month = ?::date", [MONTH + "-01"])
    assert len(held) == 1 and reason in held[0][0], held
    assert result.files[file].rows_quarantined == 1
    assert sum(f.rows_quarantined for f in result.files.values()) == 1  # nothing else held back
    assert_reconciles(warehouse)


def test_a_duplicate_event_id_holds_both_rows(case):
    landing, warehouse = case
    edit_csv(landing, MONTH, "bills.csv", lambda rows: rows + [rows[1]])
    result = load(landing, warehouse)
    held = query(warehouse, "select bill_id, reason from quarantine.bills")
    assert len(held) == 2 and held[0][0] == held[1][0] and "appears once" in held[0][1]
    assert result.files["bills"].rows_received == result.files["bills"].rows_loaded + 2
    assert_reconciles(warehouse)


@pytest.mark.parametrize(
    "file, reason",
    [("customers", "one row per customer version"), ("account_snapshots", "account_id appears once in the batch")],
)
def test_a_duplicated_key_holds_both_rows(case, file, reason, monkeypatch):
    monkeypatch.setenv(MAX_BAD_SHARE_ENV, "0.5")  # a held customer holds back its rows in other files too
    landing, warehouse = case
    edit_csv(landing, MONTH, f"{file}.csv", lambda rows: rows + [rows[1]])
    load(landing, warehouse)
    held = query(warehouse, f"select reason from quarantine.{file} where reason like ?", [f"%{reason}%"])
    assert len(held) == 2
    assert_reconciles(warehouse)


def test_a_customer_may_change_twice_in_a_batch(case):
    """Two versions of one customer (different updated_at) are not duplicates."""
    landing, warehouse = case

    def second_version(rows):
        version = list(rows[1])
        at = rows[0].index("updated_at")
        version[at] = version[at].replace("+08:00", ".5+08:00")  # half a second later
        assert version[at] != rows[1][at]
        return rows + [version]

    edit_csv(landing, MONTH, "customers.csv", second_version)
    result = load(landing, warehouse)
    assert result.files["customers"].rows_quarantined == 0


def test_a_quarantined_customer_holds_back_its_new_accounts_and_their_events(base, tmp_path):
    landing = Path(shutil.copytree(base / "landing", tmp_path / "landing"))
    warehouse = tmp_path / "w.duckdb"  # the first batch itself, in an empty warehouse
    customer = {}

    def break_a_customer_with_a_huabei_account(rows):
        with open(landing / "2024-01" / "accounts.csv", encoding="utf-8", newline="") as fh:
            customer["id"] = next(csv.DictReader(fh))["customer_id"]
        i = first_row_with(rows, "customer_id", lambda v: v == customer["id"])
        rows[i][rows[0].index("phone")] = "123"
        return rows

    edit_csv(landing, "2024-01", "customers.csv", break_a_customer_with_a_huabei_account)
    con = duckdb.connect(str(warehouse))
    result = load_batch(con, landing / "2024-01")
    con.close()
    assert result.files["customers"].rows_quarantined == 1
    assert result.files["accounts"].rows_quarantined >= 1
    held = query(warehouse, "select reason from quarantine.accounts where customer_id = ?", [customer["id"]])
    assert held and all("refers to a customers row held in quarantine" in r[0] for r in held)
    assert query(warehouse, "select count(*) from raw.accounts where customer_id = ?", [customer["id"]]) == [(0,)]


def test_too_many_bad_rows_reject_the_batch(case):
    landing, warehouse = case

    def negate_a_tenth(rows):
        column = rows[0].index("amount_due")
        for row in rows[1 : len(rows) // 10 + 2]:
            row[column] = "-1.00"
        return rows

    edit_csv(landing, MONTH, "bills.csv", negate_a_tenth)
    with pytest.raises(BatchRejected, match=r"rows failed checks, more than 5%; first: row 1: amount_due is not"):
        load(landing, warehouse)
    assert query(warehouse, "select count(*) from raw.bills where _batch_month = ?::date", [MONTH + "-01"]) == [(0,)]


def test_a_utf8_bom_is_accepted(case):
    landing, warehouse = case
    path = landing / MONTH / "bills.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    resign(
        landing,
        MONTH,
        "bills.csv",
        json.loads((landing / MONTH / MANIFEST_NAME).read_text())["files"]["bills.csv"]["rows"],
    )
    result = load(landing, warehouse)
    assert result.files["bills"].rows_quarantined == 0 and result.files["bills"].rows_loaded > 0


def test_clean_data_has_no_false_positives(case):
    landing, warehouse = case
    result = load(landing, warehouse)
    assert all(f.rows_quarantined == 0 for f in result.files.values())
    assert all(flag.count == 0 for flag in result.flags)
    assert_reconciles(warehouse)


# ---- batch level: rejected whole, nothing loaded, reason audited ---------------------------


def drop_column(name):
    return lambda rows: [[v for i, v in enumerate(r) if i != rows[0].index(name)] for r in rows]


def manifest_edit(change):
    def apply(landing):
        path = landing / MONTH / MANIFEST_NAME
        path.write_text(change(path.read_text()))

    return apply


def file_edit(file_name, edit, re_sign=True):
    return lambda landing: edit_csv(landing, MONTH, file_name, edit, re_sign)


def raw_bytes(file_name, change, rows=None):
    def apply(landing):
        path = landing / MONTH / file_name
        path.write_bytes(change(path.read_bytes()))
        if rows is not None:
            resign(landing, MONTH, file_name, rows)

    return apply


def gb18030_declared_utf8(landing):
    path = landing / MONTH / "customers.csv"
    path.write_bytes(path.read_text(encoding="utf-8").encode("gb18030"))
    resign(landing, MONTH, "customers.csv", sum(1 for _ in open(path, "rb")) - 1)


BATCH_CASES = {
    "missing_file": (lambda landing: (landing / MONTH / "bills.csv").unlink(), "listed in the manifest but missing"),
    "truncated_file": (raw_bytes("repayments.csv", lambda b: b[:-40]), "sha256 differs"),
    "row_count_mismatch": (manifest_edit(lambda t: t.replace('"rows": 0', '"rows": 3', 1)), "the manifest says"),
    "semicolon_delimiter": (file_edit("bills.csv", lambda rows: [[";".join(r)] for r in rows]), "missing columns"),
    "missing_column": (file_edit("repayments.csv", drop_column("amount")), "missing columns ['amount']"),
    "renamed_column": (
        file_edit("bills.csv", lambda rows: [["amount" if c == "amount_due" else c for c in rows[0]], *rows[1:]]),
        "unexpected columns ['amount']",
    ),
    "extra_column": (
        file_edit("bills.csv", lambda rows: [rows[0] + ["note"]] + [r + [""] for r in rows[1:]]),
        "unexpected columns ['note']",
    ),
    "gb18030_declared_utf8": (gb18030_declared_utf8, "not valid utf-8"),
    "empty_file": (raw_bytes("invitations.csv", lambda b: b"", rows=0), "empty file: no header line"),
    "manifest_not_json": (manifest_edit(lambda t: t[: len(t) // 2]), "_manifest.json is not valid"),
    "manifest_wrong_month": (manifest_edit(lambda t: t.replace(f'"{MONTH}"', '"2024-03"')), "says batch_month"),
    "unknown_encoding": (manifest_edit(lambda t: t.replace('"utf-8"', '"latin-1"')), "encoding 'latin-1'"),
    "unterminated_quote": (raw_bytes("bills.csv", lambda b: b.replace(b"\n", b'\n"', 1)), "sha256 differs"),
    "unterminated_quote_resent": (
        lambda landing: (
            raw_bytes("bills.csv", lambda b: b + b'"B9,A1,2024-02\n')(landing),
            resign(landing, MONTH, "bills.csv", 10**6),
        ),
        "unparseable",
    ),
    "duplicated_header_column": (
        file_edit("repayments.csv", lambda rows: [rows[0][:-1] + ["paid_at"], *rows[1:]]),
        "duplicated columns ['paid_at']",
    ),
}


@pytest.mark.parametrize("name", sorted(BATCH_CASES))
def test_a_batch_that_cannot_be_trusted_is_rejected_whole(case, name):
    landing, warehouse = case
    apply, reason = BATCH_CASES[name]
    apply(landing)
    with pytest.raises(BatchRejected) as rejected:
        load(landing, warehouse)
    assert reason in str(rejected.value)
    for spec in LANDING_FILES:
        assert query(
            warehouse, f"select count(*) from raw.{spec.name} where _batch_month = ?::date", [MONTH + "-01"]
        ) == [(0,)]
    audit = query(
        warehouse, "select status, reason from audit.load_batches where batch_month = ?::date", [MONTH + "-01"]
    )
    assert len(audit) == 7 and {a[0] for a in audit} == {"REJECTED"} and any(reason in a[1] for a in audit)


def test_a_batch_without_manifest_is_not_ready(case):
    landing, warehouse = case
    (landing / MONTH / MANIFEST_NAME).unlink()
    with pytest.raises(BatchNotReady, match="is not ready"):
        load(landing, warehouse)
