"""The bad-input corpus: every defect class a real feed shows, each with its exact outcome.

Batch-level defects reject the batch whole (nothing loaded, the reason audited); row-level ones
hold exactly the bad rows in quarantine with their reason and load the rest; in every case
rows received = rows loaded + rows quarantined, or nothing at all when rejected."""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path

import duckdb
import pytest
from conftest import query
from landing_builder import edit_csv, resign

from foundation.errors import BatchNotReady, BatchRejected
from foundation.landing import LANDING_FILES, MANIFEST_NAME
from ingestion.load_report import reports
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


def assert_reconciles(warehouse: Path, fmt: str = "csv") -> None:
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
        audited = next(r for r in audit if r[0] == spec.file_name(fmt))
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
        # offsets run from -12:00 to +14:00 with minutes below 60; DuckDB reads any two digits
        **{
            f"offset_{offset}": ("repayments", "paid_at", lambda v, o=offset: v[:-6] + o, "paid_at is not an ISO 8601")
            for offset in ("+99:99", "+08:60", "+15:00", "-12:30")
        },
        "registered_in_year_0": (
            "customers",
            "registered_at",
            lambda v: "0000-01-01T00:00:00+08:00",
            "registered_at is not an ISO 8601 timestamp with offset, from 1900 on",
        ),
        # a NUL reaches the bureau's XML, which cannot carry it
        "nul_in_a_name": ("customers", "full_name", lambda v: v[:1] + "\x00" + v[1:], "control characters"),
        "line_break_in_an_id": ("agreements", "document_version", lambda v: v + "\n", "control characters"),
        # each passes alone, but a month of them overflows the marts' sums in DECIMAL(18,2)
        "amount_of_a_quadrillion": (
            "account_snapshots",
            "outstanding_balance",
            lambda v: "5000000000000000.00",
            "outstanding_balance is not an amount in yuan below 100,000,000",
        ),
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


def symlinked(file_name: str, target: Path):
    """The file replaced by a link leaving the landing zone, signed as the file it points at."""

    def apply(landing):
        path = landing / MONTH / file_name
        path.unlink()
        path.symlink_to(target)
        resign(landing, MONTH, file_name, sum(1 for _ in open(target, "rb")) - 1)

    return apply


def gb18030_declared_utf8(landing):
    path = landing / MONTH / "customers.csv"
    path.write_bytes(path.read_text(encoding="utf-8").encode("gb18030"))
    resign(landing, MONTH, "customers.csv", sum(1 for _ in open(path, "rb")) - 1)


BATCH_CASES = {
    "missing_file": (lambda landing: (landing / MONTH / "bills.csv").unlink(), "listed in the manifest but missing"),
    "truncated_file": (raw_bytes("repayments.csv", lambda b: b[:-40]), "sha256 differs"),
    "row_count_mismatch": (manifest_edit(lambda t: t.replace('"rows": 0', '"rows": 3', 1)), "the manifest says"),
    "semicolon_delimiter": (file_edit("bills.csv", lambda rows: [[";".join(r)] for r in rows]), "not comma-separated"),
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
    "manifest_nested_too_deeply": (manifest_edit(lambda t: "[" * 100_000 + "]" * 100_000), "nested too deeply"),
    "manifest_rows_false": (
        manifest_edit(lambda t: t.replace('"rows": 0', '"rows": false', 1)),
        "rows must be a whole number of rows",
    ),
    "manifest_produced_at_an_object": (
        manifest_edit(lambda t: json.dumps({**json.loads(t), "produced_at": {"x": [1, 2]}})),
        "produced_at must be a string, not dict",
    ),
    "manifest_produced_at_without_offset": (
        manifest_edit(lambda t: json.dumps({**json.loads(t), "produced_at": "2024-03-01T02:00:00"})),
        "produced_at is not an ISO 8601 timestamp with offset",
    ),
    "manifest_unknown_field": (
        manifest_edit(lambda t: json.dumps({**json.loads(t), "note": "x"})),
        "unknown fields ['note']",
    ),
    "header_line_missing": (file_edit("customers.csv", lambda rows: rows[1:]), "no header line"),
    "symlink_to_etc_passwd": (symlinked("bills.csv", Path("/etc/passwd")), "bills.csv is a symbolic link"),
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
        warehouse,
        "select status, reason, rows_received, rows_loaded, rows_quarantined from audit.load_batches"
        " where batch_month = ?::date",
        [MONTH + "-01"],
    )
    assert len(audit) == 7 and {a[0] for a in audit} == {"REJECTED"} and any(reason in a[1] for a in audit)
    # a rejected attempt records what was read of each file (NULL: not read whole) and that nothing loaded
    assert all(a[3] == a[4] == 0 for a in audit), audit


def test_a_batch_without_manifest_is_not_ready(case):
    landing, warehouse = case
    (landing / MONTH / MANIFEST_NAME).unlink()
    with pytest.raises(BatchNotReady, match="is not ready"):
        load(landing, warehouse)


# ---- personal data never reaches the analytics surface or the run history (R15) -------------


def personal_values(landing: Path) -> set[str]:
    values = set()
    for month in (p for p in landing.iterdir() if p.is_dir()):
        with open(month / "customers.csv", encoding="utf-8", newline="") as fh:
            values |= {row[c] for row in csv.DictReader(fh) for c in ("id_number", "full_name", "phone") if row[c]}
    return values


def published_text(published: Path) -> str:
    con = duckdb.connect(str(published), read_only=True)
    try:
        tables = con.execute("select schema_name, table_name from duckdb_tables()").fetchall()
        assert ("analytics", "load_batches") in tables
        return "\n".join(str(con.execute(f'from "{s}"."{t}"').fetchall()) for s, t in tables)
    finally:
        con.close()


def test_no_received_value_reaches_analytics_reports_or_the_run_history(case, tmp_path):
    """A customers.csv without its header line (its first row read as the header), a bills.csv linked
    to /etc/passwd and a quarantined identity number: reasons name lines and columns, examples are
    masked, and no generated identity number, name or phone is in the published copy, the audit, the
    validation report or Dagster's run history."""
    from conftest import dbt_build, load_month, publish
    from dagster import DagsterInstance

    landing, warehouse = case
    instance = DagsterInstance.ephemeral()
    original = {name: (landing / MONTH / name).read_bytes() for name in ("customers.csv", "bills.csv", MANIFEST_NAME)}
    reasons = []
    for apply in (file_edit("customers.csv", lambda rows: rows[1:]), symlinked("bills.csv", Path("/etc/passwd"))):
        apply(landing)
        result = load_month(instance, warehouse, landing, MONTH)
        assert not result.success
        reasons.append(query(warehouse, "select reason from audit.load_batches order by loaded_at desc limit 1")[0][0])
        for name, content in original.items():
            (landing / MONTH / name).unlink()  # never write through the link
            (landing / MONTH / name).write_bytes(content)
    assert "line 1 names none of the contract's columns: no header line, or not comma-separated" in reasons[0]
    assert "bills.csv is a symbolic link" in reasons[1]
    assert not query(warehouse, "select * from audit.load_batches where reason like '%root:%'")

    bad_id = {}

    def wrong_check_character(value: str) -> str:
        bad_id["value"] = value[:-1] + ("1" if value[-1] != "1" else "2")
        return bad_id["value"]

    edit_csv(landing, MONTH, "customers.csv", corrupt_one(landing, "customers", "id_number", wrong_check_character))
    assert load_month(instance, warehouse, landing, MONTH).success  # that customer quarantined, the rest loads
    assert query(warehouse, "select count(*) from quarantine.customers where id_number = ?", [bad_id["value"]]) == [
        (1,)
    ]
    assert dbt_build(instance, warehouse).success
    published = tmp_path / "published.duckdb"
    assert publish(instance, warehouse, published).success

    personal = personal_values(landing) | {bad_id["value"]}
    (latest, *_) = [r for r in reports(warehouse.parent / "validation_reports") if r.batch_month == MONTH]
    report = latest.path.read_text(encoding="utf-8")
    assert bad_id["value"][:6] + "*" * 10 + bad_id["value"][-2:] in report  # masked, still findable
    history = "\n".join(str(event) for run in instance.get_runs() for event in instance.all_logs(run.run_id))
    assert "id_number" in history  # the scan reads the failing examples' metadata
    for where, text in {
        "published copy": published_text(published),
        "audit": str(query(warehouse, "from audit.load_batches")),
        "validation report": report,
        "run history": history,
    }.items():
        leaked = [v for v in personal if v in text]
        assert not leaked, (where, leaked[:3])
    assert "root:x:0" not in history


# ---- Parquet: a column's type is part of the contract ---------------------------------------


@pytest.fixture(scope="module")
def parquet_base(tmp_path_factory):
    root = tmp_path_factory.mktemp("bad-parquet")
    generate_landing(GeneratorConfig(customers=200, months=2, file_format="parquet"), root / "landing")
    con = duckdb.connect(str(root / "w.duckdb"))
    load_batch(con, root / "landing" / "2024-01")
    con.close()
    return root


def retyped(landing: Path, table: str, replace: str, where: str | None = None) -> None:
    """Rewrite MONTH's Parquet file of `table` with `replace` (a `* replace (...)` list) on every row,
    or on the rows matching `where` (the others must have the new types already), and re-sign it."""
    path = landing / MONTH / f"{table}.parquet"
    con = duckdb.connect()
    try:
        source = f"read_parquet('{path}')"
        rows = f"select * replace ({replace}) from {source}"
        if where:
            rows += f" where {where} union all by name select * from {source} where not ({where})"
        con.execute(f"copy ({rows}) to '{path}.new' (format parquet)")
        rows = con.execute(f"select count(*) from read_parquet('{path}.new')").fetchone()[0]
    finally:
        con.close()
    Path(f"{path}.new").replace(path)
    resign(landing, MONTH, path.name, rows)


@pytest.fixture
def parquet_case(parquet_base, tmp_path):
    landing = Path(shutil.copytree(parquet_base / "landing", tmp_path / "landing"))
    shutil.copy(parquet_base / "w.duckdb", tmp_path / "w.duckdb")
    return landing, tmp_path / "w.duckdb"


@pytest.mark.parametrize(
    "table, replace, reason",
    [
        ("bills", "12.345::double as amount_due", "column amount_due is DOUBLE"),
        ("customers", "700.6::double as sesame_score", "column sesame_score is DOUBLE"),
        ("bills", "[bill_id] as bill_id", "column bill_id is VARCHAR[]"),
        # a timestamp read as a date would take its UTC day, a day early in China time
        ("bills", "due_date::timestamptz as due_date", "column due_date is TIMESTAMP WITH TIME ZONE"),
    ],
)
def test_a_parquet_column_of_another_type_rejects_the_batch(parquet_case, table, replace, reason):
    landing, warehouse = parquet_case
    retyped(landing, table, replace)
    with pytest.raises(BatchRejected, match=re.escape(reason)):
        load(landing, warehouse)
    assert query(warehouse, f"select count(*) from raw.{table} where _batch_month = ?::date", [MONTH + "-01"]) == [(0,)]


def test_parquet_values_that_do_not_round_trip_are_quarantined_the_rest_load_exactly(parquet_case):
    """DECIMAL(18,4) is an exact type: 12.3400 loads as 12.34, 12.3456 would load changed and is held."""
    landing, warehouse = parquet_case
    first_bill = f"bill_id = (select min(bill_id) from read_parquet('{landing / MONTH / 'bills.parquet'}'))"
    retyped(landing, "bills", "amount_due::decimal(18,4) as amount_due")  # every value exact
    retyped(landing, "bills", "(amount_due + 0.0056)::decimal(18,4) as amount_due", first_bill)
    result = load(landing, warehouse)
    held = query(warehouse, "select amount_due, reason from quarantine.bills")
    assert len(held) == 1 and "amount_due is not an amount in yuan" in held[0][1] and held[0][0].endswith("56")
    assert result.files["bills"].rows_loaded == result.files["bills"].rows_received - 1
    assert_reconciles(warehouse, "parquet")


def test_a_parquet_month_typed_as_a_date_loads_as_that_month(parquet_case):
    landing, warehouse = parquet_case
    retyped(landing, "account_snapshots", "(snapshot_month || '-01')::date as snapshot_month")
    result = load(landing, warehouse)
    assert result.files["account_snapshots"].rows_quarantined == 0
    assert query(
        warehouse,
        "select distinct snapshot_month::varchar from raw.account_snapshots where _batch_month = ?::date",
        [MONTH + "-01"],
    ) == [(MONTH + "-01",)]


# ---- the remaining decisions ------------------------------------------------------------------


def test_a_gb18030_batch_with_a_byte_order_mark_loads_like_utf8_with_one(case):
    landing, warehouse = case
    manifest = json.loads((landing / MONTH / MANIFEST_NAME).read_text())
    for spec in LANDING_FILES:
        path = landing / MONTH / f"{spec.name}.csv"
        path.write_bytes(("\ufeff" + path.read_text(encoding="utf-8")).encode("gb18030"))
        resign(landing, MONTH, path.name, manifest["files"][path.name]["rows"])
    manifest = json.loads((landing / MONTH / MANIFEST_NAME).read_text())
    (landing / MONTH / MANIFEST_NAME).write_text(json.dumps({**manifest, "encoding": "gb18030"}))
    result = load(landing, warehouse)
    assert all(f.rows_quarantined == 0 for f in result.files.values())
    names = query(
        warehouse,
        "select count(*) from raw.customers where _batch_month = ?::date and full_name similar to '[一-龥]+'",
        [MONTH + "-01"],
    )
    assert names[0][0] == result.files["customers"].rows_loaded > 0


def test_a_batch_of_a_month_not_ended_is_rejected_and_audited(case):
    landing, warehouse = case
    future = landing / "2099-01"
    shutil.copytree(landing / MONTH, future)
    manifest = json.loads((future / MANIFEST_NAME).read_text())
    (future / MANIFEST_NAME).write_text(json.dumps({**manifest, "batch_month": "2099-01"}))
    con = duckdb.connect(str(warehouse))
    try:
        with pytest.raises(BatchRejected, match="the month has not ended yet"):
            load_batch(con, future)
    finally:
        con.close()
    assert query(warehouse, "select distinct status from audit.load_batches where batch_month = '2099-01-01'") == [
        ("REJECTED",)
    ]


# ---- A validation report for every attempt ------------------------------------------------------


def test_every_attempt_has_a_report_rejected_ones_too_masked_and_indexed(case, monkeypatch):
    """Too many bad identity numbers reject the batch: its report says why and shows the failing
    rows masked; a tampered file's rejection has one too; the clean resend's report follows; the
    index lists the three, newest first."""
    landing, warehouse = case
    folder = warehouse.parent / "validation_reports"
    monkeypatch.setenv(MAX_BAD_SHARE_ENV, "0.01")
    clean = landing.parent / "clean"
    shutil.copytree(landing / MONTH, clean)

    def break_ids(rows):  # every fifth identity number with a wrong check character
        c = rows[0].index("id_number")
        for row in rows[1::5]:
            row[c] = row[c][:-1] + ("1" if row[c][-1] != "1" else "2")
        return rows

    edit_csv(landing, MONTH, "customers.csv", break_ids)
    con = duckdb.connect(str(warehouse))
    try:
        with pytest.raises(BatchRejected):
            load_batch(con, landing / MONTH, folder)
        (landing / MONTH / "bills.csv").write_bytes((landing / MONTH / "bills.csv").read_bytes()[:-100])
        with pytest.raises(BatchRejected):
            load_batch(con, landing / MONTH, folder)
        shutil.rmtree(landing / MONTH)
        shutil.copytree(clean, landing / MONTH)
        assert load_batch(con, landing / MONTH, folder).status == "LOADED"
    finally:
        con.close()

    attempts = reports(folder)
    assert [(r.batch_month, r.status) for r in attempts] == [
        (MONTH, "LOADED"),
        (MONTH, "REJECTED"),
        (MONTH, "REJECTED"),
    ]
    too_many, tampered = attempts[2].path.read_text(encoding="utf-8"), attempts[1].path.read_text(encoding="utf-8")
    assert "REJECTED: 9 of 42 rows failed checks, more than 1%" in too_many
    assert "<table class='examples'>" in too_many and "id_number" in too_many  # failing rows, a column each
    assert "{'" not in too_many  # not Python dict reprs
    leaked = [v for v in personal_values(landing) if v in too_many]
    assert not leaked, leaked[:3]
    assert "sha256 differs from the manifest" in tampered
    index = (folder / "index.html").read_text(encoding="utf-8")
    assert [index.index(r.path.name) for r in attempts] == sorted(index.index(r.path.name) for r in attempts)
