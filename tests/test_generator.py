"""The synthetic source system writes exactly the landing contract, deterministically, with the
dynamics downstream metrics are judged on."""

from __future__ import annotations

import csv
import hashlib
import json
import re
from datetime import date
from pathlib import Path

import duckdb
import pytest
from conftest import SMALL

from foundation.landing import LANDING_FILES, MANIFEST_NAME
from source_system import GeneratorConfig, generate_landing
from source_system.config import GeneratorConfigError
from source_system.identity import gb11643_check_char

TS_WITH_OFFSET = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}")


def read_rows(path: Path, encoding: str = "utf-8") -> tuple[list[str], list[dict[str, str]]]:
    with open(path, encoding=encoding, newline="") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


def all_rows(landing: Path, table: str) -> list[dict[str, str]]:
    return [row for batch in sorted(landing.iterdir()) for row in read_rows(batch / f"{table}.csv")[1]]


def test_every_batch_follows_the_landing_contract(small_landing: Path):
    batches = sorted(p.name for p in small_landing.iterdir())
    assert batches == [f"2024-{m:02d}" for m in range(1, 9)]
    for month in batches:
        folder = small_landing / month
        manifest = json.loads((folder / MANIFEST_NAME).read_text())
        assert manifest["batch_month"] == month and manifest["encoding"] == "utf-8"
        assert set(manifest["files"]) == {f"{spec.name}.csv" for spec in LANDING_FILES}
        for spec in LANDING_FILES:
            path = folder / f"{spec.name}.csv"
            header, rows = read_rows(path)
            assert header == spec.column_names
            assert manifest["files"][path.name]["rows"] == len(rows)
            assert manifest["files"][path.name]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
            for column in (c.name for c in spec.columns if c.type == "timestamp"):
                values = [r[column] for r in rows if r[column]]
                assert all(TS_WITH_OFFSET.fullmatch(v) for v in values), (month, spec.name, column)
        snapshot_months = {r["snapshot_month"] for r in read_rows(folder / "account_snapshots.csv")[1]}
        assert snapshot_months == {month}


def test_identity_numbers_are_valid_and_match_the_customer(small_landing: Path):
    customers = all_rows(small_landing, "customers")
    assert len({c["customer_id"] for c in customers}) == SMALL.customers
    for c in customers:
        id_number = c["id_number"]
        assert len(id_number) == 18 and id_number[:17].isdigit()
        assert gb11643_check_char(id_number[:17]) == id_number[17], id_number  # R14
        assert date.fromisoformat(c["birth_date"]).strftime("%Y%m%d") == id_number[6:14]
        assert id_number[:2] == c["province_code"]
        assert (int(id_number[16]) % 2 == 1) == (c["gender"] == "M")
        assert re.fullmatch(r"1[3-9]\d{9}", c["phone"]) and 350 <= int(c["sesame_score"]) <= 950


def test_check_character_of_a_known_identity_number():
    # GB 11643's published example: 11010519491231002X.
    assert gb11643_check_char("11010519491231002") == "X"


def test_same_seed_gives_byte_identical_files_and_another_seed_does_not(tmp_path: Path):
    cfg = GeneratorConfig(customers=200, months=3, rollout_month=2)
    generate_landing(cfg, tmp_path / "a")
    generate_landing(cfg, tmp_path / "b")
    generate_landing(GeneratorConfig(customers=200, months=3, rollout_month=2, seed=7), tmp_path / "c")
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert len(files) == 3 * 8
    assert all((tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes() for f in files)
    assert (tmp_path / "a" / "2024-01" / "customers.csv").read_bytes() != (
        tmp_path / "c" / "2024-01" / "customers.csv"
    ).read_bytes()


def test_gb18030_batches_carry_the_same_rows_in_the_other_encoding(tmp_path: Path):
    cfg = GeneratorConfig(customers=100, months=1)
    generate_landing(cfg, tmp_path / "utf8")
    generate_landing(GeneratorConfig(customers=100, months=1, encoding="gb18030"), tmp_path / "gb")
    gb_path = tmp_path / "gb" / "2024-01" / "customers.csv"
    assert json.loads((gb_path.parent / MANIFEST_NAME).read_text())["encoding"] == "gb18030"
    with pytest.raises(UnicodeDecodeError):
        gb_path.read_text(encoding="utf-8")
    assert read_rows(gb_path, "gb18030") == read_rows(tmp_path / "utf8" / "2024-01" / "customers.csv")


def test_parquet_batches_have_typed_columns(tmp_path: Path):
    generate_landing(GeneratorConfig(customers=100, months=2, file_format="parquet"), tmp_path)
    manifest = json.loads((tmp_path / "2024-02" / MANIFEST_NAME).read_text())
    assert set(manifest["files"]) == {f"{spec.name}.parquet" for spec in LANDING_FILES}
    types = dict(
        duckdb.sql(f"describe select * from '{tmp_path / '2024-02' / 'repayments.parquet'}'").fetchall()[i][:2]
        for i in range(4)
    )
    assert types == {
        "repayment_id": "VARCHAR",
        "account_id": "VARCHAR",
        "paid_at": "TIMESTAMP WITH TIME ZONE",
        "amount": "DECIMAL(18,2)",
    }


def test_rollout_is_quality_first_and_shows_its_dynamics(small_landing: Path):
    con = duckdb.connect()
    src = str(small_landing)
    waves = con.execute(
        f"""
        with score as (
            select customer_id, last(sesame_score::int order by updated_at) as score
            from read_csv('{src}/*/customers.csv', all_varchar=true) group by 1),
        first_wave as (
            select customer_id, min(wave::int) as wave
            from read_csv('{src}/*/invitations.csv', all_varchar=true) group by 1)
        select wave, avg(score) from first_wave join score using (customer_id) group by 1 order by 1
        """
    ).fetchall()
    assert len(waves) >= 4
    assert waves[0][1] > waves[1][1] > waves[-1][1]  # wave 1 is the highest score band
    auth = con.execute(
        f"""
        select substr(signed_at, 1, 7) as month, count(*) filter (where product = 'JIEBEI'),
               count(*) filter (where product <> 'JIEBEI')
        from read_csv('{src}/*/agreements.csv', all_varchar=true)
        where document_code = 'CREDIT_REPORTING_AUTH' group by 1 order by 1
        """
    ).fetchall()
    huabei_by_month = {m: n for m, _, n in auth}
    # Waves start in 2024-04; earlier HUABEI authorizations are the pre-rollout signers.
    assert sum(n for m, n in huabei_by_month.items() if m < "2024-04") < huabei_by_month.get("2024-05", 0)
    assert huabei_by_month.get("2024-05", 0) > 0 and huabei_by_month.get("2024-08", 0) > 0


def test_every_jiebei_account_has_its_authorization_at_opening(small_landing: Path):
    con = duckdb.connect()
    src = str(small_landing)
    missing = con.execute(
        f"""
        select count(*) from read_csv('{src}/*/accounts.csv', all_varchar=true) a
        where product = 'JIEBEI' and not exists (
            select 1 from read_csv('{src}/*/agreements.csv', all_varchar=true) g
            where g.customer_id = a.customer_id and g.document_code = 'CREDIT_REPORTING_AUTH'
              and g.product = 'JIEBEI' and g.signed_at::timestamptz <= a.opened_at::timestamptz)
        """
    ).fetchone()[0]
    jiebei = sum(1 for r in all_rows(small_landing, "accounts") if r["product"] == "JIEBEI")
    assert jiebei > 20 and missing == 0  # R4


def test_delinquency_late_payment_and_closures_occur(small_landing: Path):
    con = duckdb.connect()
    src = str(small_landing)
    late_within_month, unpaid_months = con.execute(
        f"""
        with bills as (select account_id, bill_month, due_date::date as due, amount_due::decimal(18,2) as due_amt
                       from read_csv('{src}/*/bills.csv', all_varchar=true)),
        pays as (select account_id, strftime(paid_at::timestamptz at time zone 'Asia/Shanghai', '%Y-%m') as m,
                        (paid_at::timestamptz at time zone 'Asia/Shanghai')::date as paid_on,
                        amount::decimal(18,2) as amt
                 from read_csv('{src}/*/repayments.csv', all_varchar=true))
        select
            count(*) filter (where exists (select 1 from pays p where p.account_id = b.account_id
                               and p.m = b.bill_month and p.paid_on > b.due and p.amt = b.due_amt)),
            count(*) filter (where not exists (select 1 from pays p where p.account_id = b.account_id
                               and p.m = b.bill_month))
        from bills b
        """
    ).fetchone()
    assert late_within_month > 0 and unpaid_months > 0
    closed = [r for r in all_rows(small_landing, "accounts") if r["closed_at"]]
    assert any(r["product"] == "HUABEI" for r in closed) and any(r["product"] == "JIEBEI" for r in closed)
    # The closing month's snapshot shows a settled account.
    balances = con.execute(
        f"""
        select max(s.outstanding_balance::decimal(18,2))
        from read_csv('{src}/*/account_snapshots.csv', all_varchar=true) s
        join read_csv('{src}/*/accounts.csv', all_varchar=true) a using (account_id)
        where a.closed_at is not null
          and s.snapshot_month = strftime(a.closed_at::timestamptz at time zone 'Asia/Shanghai', '%Y-%m')
        """
    ).fetchone()[0]
    assert balances == 0


@pytest.mark.parametrize(
    "options, message",
    [
        ({"first_month": "2024-13"}, "first month"),
        ({"months": 0}, "months"),
        ({"customers": 3}, "customers"),
        ({"encoding": "latin-1"}, "encoding"),
        ({"file_format": "parquet", "encoding": "gb18030"}, "Parquet"),
    ],
)
def test_bad_options_are_refused_with_a_clear_message(options, message):
    with pytest.raises(GeneratorConfigError, match=message):
        GeneratorConfig(**options)
