"""Every dashboard page under Streamlit's AppTest on a real published copy of the small warehouse:
renders without exception, its widgets change what is shown, its numbers equal SQL on the marts,
the SQL page refuses writes and file access, and no page shows personal data (R15)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import duckdb
import pytest
from conftest import dbt_build, load_all, publish, query
from landing_builder import edit_csv
from streamlit.testing.v1 import AppTest

# AppTest puts views/ on sys.path: views/compliance.py would shadow the package if imported later
from compliance.explain import EXAMPLE_CUSTOMER
from dashboards import reader
from dashboards.formatting import count, percent
from foundation import published_sql
from orchestration import settings

VIEWS = Path(reader.__file__).parent / "views"
APP = VIEWS.parent / "app.py"
PAGES = ["overview", "cohorts", "waves", "reporting", "submissions", "compliance", "data_quality", "sql"]


@pytest.fixture(autouse=True)
def reads_the_small_published_copy(request, monkeypatch):
    for fixture in ("small_published", "small_submitted"):
        if fixture in request.fixturenames:
            monkeypatch.setenv(settings.PUBLISHED_ENV, str(request.getfixturevalue(fixture)[1]))


def run_page(name: str) -> AppTest:
    at = AppTest.from_file(str(VIEWS / f"{name}.py"), default_timeout=60).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def headers(table) -> dict[str, str]:
    """A table's column headers as the page sets them (st.column_config)."""
    import json

    return {column: config.get("label", column) for column, config in json.loads(table.proto.columns).items()}


def latest_month(warehouse: Path) -> str:
    return query(warehouse, "select max(month)::varchar from marts.fct_rollout_coverage")[0][0]


def test_the_app_opens_on_the_overview(small_published):
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not at.exception
    assert at.title[0].value == "Overview"


def test_overview_numbers_equal_the_marts(small_published):
    warehouse, _ = small_published
    month = latest_month(warehouse)
    reported, active, reported_balance, balance = query(
        warehouse,
        "select sum(reported_accounts), sum(active_accounts), sum(reported_balance), sum(total_balance)"
        " from marts.fct_rollout_coverage where month = ?",
        [month],
    )[0]
    records = query(warehouse, "select count(*) from marts.credit_report_monthly where report_month = ?", [month])[0][0]
    shown = metrics(run_page("overview"))
    assert shown["Accounts reported"] == percent(reported / active)
    assert shown["Balance reported"] == percent(float(reported_balance) / float(balance))
    assert shown["Records sent"] == count(records)
    as_of = month[:7]
    assert any(as_of in c.value for c in run_page("overview").caption)


@pytest.mark.parametrize(
    "dimension, column", [("Score band", "score_band"), ("Age band", "age_band"), ("Wave", "wave_label")]
)
def test_cohort_selection_changes_the_page_and_matches_the_cube(small_published, dimension, column):
    warehouse, _ = small_published
    at = run_page("cohorts")
    at.selectbox(key="dimension").select(dimension).run()
    at.radio(key="product").set_value("HUABEI").run()
    assert not at.exception
    table = at.dataframe[0].value
    assert headers(at.dataframe[0])["cohort"] == dimension
    assert table.reported_accounts.dtype.kind in "iuf"  # a number, so the column sorts as numbers
    expected = dict(
        query(
            warehouse,
            f"select {column}, sum(reported_accounts) from marts.fct_rollout_coverage"
            " where product = 'HUABEI' and month = ? group by 1",
            [latest_month(warehouse)],
        )
    )
    assert dict(zip(table.cohort, table.reported_accounts, strict=True)) == expected
    assert dimension.lower() in at.subheader[0].value


def test_cohort_filters_narrow_what_is_shown(small_published):
    at = run_page("cohorts")
    everything = at.dataframe[0].value
    first = at.multiselect(key="cohorts-Score band").value[0]
    at.multiselect(key="cohorts-Score band").set_value([first]).run()
    assert list(at.dataframe[0].value.cohort) == [first] and len(everything) > 1
    at.radio(key="product").set_value("JIEBEI").run()
    assert not at.exception and at.subheader[0].value.startswith("JIEBEI")


def test_waves_numbers_equal_the_funnel(small_published):
    warehouse, _ = small_published
    at = run_page("waves")
    for product in ("HUABEI", "JIEBEI"):
        at.radio(key="product").set_value(product).run()
        waves, invited = query(
            warehouse,
            "select count(*), sum(invited_customers) from marts.rollout_wave_funnel"
            " where product = ? and wave_number is not null",
            [product],
        )[0]
        if waves:
            assert metrics(at)["Waves"] == count(waves) and metrics(at)["Customers invited"] == count(invited)
        else:
            assert "No JIEBEI invitation wave yet." in [i.value for i in at.info]
    assert (
        len(at.dataframe[0].value)
        == query(warehouse, "select count(*) from marts.rollout_wave_funnel where product = 'JIEBEI'")[0][0]
    )


def vega_charts(at: AppTest) -> list:
    """The page's Altair charts as sent: (spec, {dataset name: frame})."""
    import json

    import pyarrow as pa

    found = []

    def walk(node) -> None:
        for child in getattr(node, "children", {}).values():
            if getattr(child, "type", "") == "vega_lite_chart":
                frames = {d.name: pa.ipc.open_stream(d.data.data).read_all().to_pandas() for d in child.proto.datasets}
                found.append((json.loads(child.proto.spec), frames))
            walk(child)

    walk(at._tree)
    return found


def test_pace_equals_the_forecast_and_draws_so_far_projected_and_the_band(small_published):
    warehouse, _ = small_published
    at = run_page("waves")
    at.selectbox(key="pace-dimension").select("All").run()  # the page opens on score bands
    as_of, now, in_12, low, high, reaches = query(
        warehouse,
        """select as_of_month, max(account_coverage) filter (where months_ahead = 0),
                  max(account_coverage) filter (where months_ahead = 12),
                  max(account_coverage_low) filter (where months_ahead = 12),
                  max(account_coverage_high) filter (where months_ahead = 12), any_value(reaches_90pct_month)
           from marts.rollout_forecast where product = 'HUABEI' and cohort_dimension = 'all'
             and as_of_month = (select max(as_of_month) from marts.rollout_forecast) group by all""",
    )[0]
    shown = metrics(at)
    assert shown["Account coverage now"] == percent(now) and shown["In 12 months"] == percent(in_12)
    after = f"after {as_of.year + (as_of.month + 11) // 12}-{(as_of.month + 11) % 12 + 1:02d}"  # 12 months on
    assert shown["90% coverage by"] == (after if reaches is None else f"{reaches:%Y-%m}")
    assert low <= in_12 <= high

    spec, frames = vega_charts(at)[-1]  # the Pace chart: the band, the line so far, the projected one
    marks = [(layer["mark"]["type"], layer["encoding"].get("y2", {}).get("field")) for layer in spec["layer"]]
    assert marks == [("area", "account_coverage_high"), ("line", None), ("line", None)]
    so_far, projected = (frames[layer["data"]["name"]] for layer in spec["layer"][1:])
    history = query(
        warehouse,
        """select month, sum(reported_accounts) / sum(active_accounts) from marts.fct_rollout_coverage
           where product = 'HUABEI' and month >= ?::date - interval 12 month group by month order by month""",
        [as_of],
    )
    assert [round(v, 9) for v in so_far.sort_values("month").account_coverage] == [round(v, 9) for _, v in history]
    assert len(projected) == 13 and projected.account_coverage.iloc[-1] == pytest.approx(in_12)

    at.selectbox(key="pace-dimension").select("Score band").run()
    assert not at.exception
    table = at.dataframe[1].value
    expected = query(
        warehouse,
        """select cohort_value, account_coverage from marts.rollout_forecast
           where product = 'HUABEI' and cohort_dimension = 'score_band' and as_of_month = ? and months_ahead = 12
           order by cohort_value""",
        [as_of],
    )
    assert sorted(zip(table.cohort, table.in_12m.round(9), strict=True)) == [(c, round(v, 9)) for c, v in expected]
    backtest = at.dataframe[2].value
    assert set(backtest.months_before) == {3, 6} and (backtest.mean_error_points >= 0).all()


def test_reporting_months_follow_the_product_choice(small_published):
    warehouse, _ = small_published
    month = latest_month(warehouse)
    at = run_page("reporting")
    both = query(warehouse, "select count(*) from marts.credit_report_monthly where report_month = ?", [month])[0][0]
    label = f"Records {month[:7]}"
    assert metrics(at)[label] == count(both)
    at.multiselect(key="products").set_value(["HUABEI"]).run()
    huabei = query(
        warehouse,
        "select count(*) from marts.credit_report_monthly where report_month = ? and product = 'HUABEI'",
        [month],
    )[0][0]
    assert metrics(at)[label] == count(huabei) and huabei < both
    classes = at.dataframe[0].value
    assert set(classes["class"]) <= {
        "正常 Normal",
        "关注 Special mention",
        "次级 Substandard",
        "可疑 Doubtful",
        "损失 Loss",
    }
    assert classes.records.dtype.kind in "iu" and classes.records.sum() == huabei  # numbers: they sort as numbers
    assert classes.balance.dtype.kind == "f"


def test_submissions_before_any_file_name_the_months_waiting(small_published):
    warehouse, _ = small_published
    at = run_page("submissions")
    months = query(warehouse, "select count(distinct report_month) from marts.credit_report_monthly")[0][0]
    assert months > 0
    assert metrics(at)["Files written"] == "0" and metrics(at)["Months not submitted"] == count(months)
    assert "No file has been written yet" in at.info[0].value
    assert at.warning[0].value.startswith("Not submitted yet: 2024-01, ")


def test_submissions_show_the_ledger_after_the_monthly_files(small_submitted):
    """The asset published again after writing: the page counts what the ledger holds."""
    warehouse, _ = small_submitted
    at = run_page("submissions")
    files, records = query(warehouse, "select count(*), sum(records) from audit.bureau_files")[0]
    held = query(warehouse, "select rule, count(*) from audit.submission_holds group by 1")
    assert files == 8 and held
    shown = metrics(at)
    assert shown["Files written"] == count(files) and shown["Records sent"] == count(records)
    assert shown["Records held back"] == count(sum(n for _, n in held)) and shown["Months not submitted"] == "0"
    assert not at.warning
    table = at.dataframe[0].value
    per_code = dict(query(warehouse, "select rpt_date_code, count(*) from audit.bureau_records group by 1"))
    assert int(table.records_30_monthly.sum()) == per_code["30"]
    assert int(table.records_31_first_report.sum()) == per_code.get("31", 0)
    assert headers(at.dataframe[0])["records_30_monthly"] == "30 regular"
    assert headers(at.dataframe[0])["generated_at"] == "Generated (China time)"
    assert list(table.file_name) == [
        r[0] for r in query(warehouse, "select file_name from audit.bureau_files order by 1")
    ]
    per_rule = at.dataframe[1].value
    assert dict(zip(per_rule.check.str[:2], per_rule.records_held, strict=True)) == dict(held)
    refused = dict(query(warehouse, "select code, count(*) from audit.bureau_refused group by 1"))
    (per_code,) = [d.value for d in at.dataframe if list(d.value.columns[:2]) == ["code", "records_refused"]]
    assert refused == {"E101": 1, "E202": 1}
    assert dict(zip(per_code.code, per_code.records_refused, strict=True)) == refused
    months = at.dataframe[-1].value
    assert months.submitted.all() and int(months.records_sent.sum()) == records - 2  # the refused left the view
    assert int((months.records_sent + months.records_held + months.waiting).sum()) == int(months.records_in_mart.sum())
    rendered = _rendered(at)  # counts only: no account id, name or identity number
    for account_id, full_name, id_number in query(
        warehouse, "select account_id, full_name, id_number from marts.credit_report_monthly using sample 200 rows"
    ):
        assert account_id.encode() not in rendered and id_number.encode() not in rendered
        assert full_name.encode() not in rendered


def test_compliance_explains_a_customer_by_key_as_the_command_does(small_submitted):
    from compliance.explain import Query, explain

    warehouse, target = small_submitted
    customer = query(
        warehouse,
        """select customer_id from marts.credit_report_monthly group by 1
           having count(distinct account_id) > 1 order by count(*) desc, 1 limit 1""",
    )[0][0]
    at = run_page("compliance")
    assert at.info[0].value.startswith("Enter a customer key")
    at.text_input(key="customer").input(customer).run()
    assert not at.exception and not at.error and not at.warning
    with duckdb.connect(str(target), read_only=True) as con:
        expected = explain(con, Query(customer=customer))
    tables = [d.value for d in at.dataframe if "kept out by" in d.value.columns]
    assert len(tables) == len(expected["accounts"]) > 1
    for table, account in zip(tables, expected["accounts"], strict=True):
        assert list(table.month) == [m["month"] for m in account["months"]]
        assert list(table.reported) == [m["reported"] for m in account["months"]]
    reported = sum(int(t.reported.sum()) for t in tables)
    assert (
        reported
        == query(warehouse, "select count(*) from marts.credit_report_monthly where customer_id = ?", [customer])[0][0]
    )
    rendered = _rendered(at)
    for row in query(
        warehouse,
        "select id_number, full_name, phone from staging.stg_landing__customers where customer_id = ?",
        [customer],
    ):
        assert not [v for v in row if v and v.encode() in rendered]
    month = expected["accounts"][0]["first_reportable_month"]
    at.selectbox(key="month").select(month).run()
    assert [len(d.value) for d in at.dataframe if "kept out by" in d.value.columns][0] == 1
    at.text_input(key="customer").input("C99999999").run()
    assert at.warning[0].value == "no customer C99999999 in the warehouse"
    at.text_input(key="customer").input("x' or 1=1 --").run()
    assert at.error[0].value.startswith("A customer key is letters, digits")


def test_data_quality_shows_the_loads(small_published):
    warehouse, _ = small_published
    at = run_page("data_quality")
    loaded, months = query(warehouse, "select sum(rows_loaded), count(distinct batch_month) from audit.load_batches")[0]
    assert metrics(at)["Rows loaded"] == count(loaded) and metrics(at)["Batch months loaded"] == count(months)
    assert "No row is held in quarantine." in [s.value for s in at.success]


def test_data_quality_shows_quarantined_rows_per_file_and_reason(instance, landing, tmp_path, monkeypatch):
    """An invitation with an unknown channel is held back; the page counts it under its reason."""

    def add_bad_invitation(rows):
        return [*rows, ["I9999999999", *rows[1][1:5], "CARRIER_PIGEON"]]

    edit_csv(landing, "2024-04", "invitations.csv", add_bad_invitation)
    warehouse, target = tmp_path / "w.duckdb", tmp_path / "analytics_small_published.duckdb"
    load_all(instance, warehouse, landing)
    assert dbt_build(instance, warehouse).success
    assert publish(instance, warehouse, target).success
    monkeypatch.setenv(settings.PUBLISHED_ENV, str(target))
    at = run_page("data_quality")
    assert metrics(at)["Rows quarantined"] == "1"
    held = at.dataframe[1].value
    assert list(held.landing_table) == ["invitations"] and list(held.rows_quarantined) == [1]
    (reason,) = query(warehouse, "select reason from quarantine.invitations")[0]
    assert held.reason[0] == reason and "channel" in reason


def run_sql(sql: str) -> AppTest:
    at = run_page("sql")
    at.text_area(key="sql").input(sql)
    at.button[0].click().run()
    assert not at.exception
    return at


def test_sql_returns_rows_and_a_csv(small_published):
    warehouse, _ = small_published
    at = run_sql("select product, count(*) as cells from rollout_coverage group by all order by 1")
    result = at.dataframe[-1].value
    assert dict(zip(result["product"], result.cells, strict=True)) == dict(
        query(warehouse, "select product, count(*) from marts.fct_rollout_coverage group by all")
    )
    assert at.get("download_button") and not at.error


def test_sql_keeps_at_most_the_row_cap(small_published):
    at = run_sql(f"select * from range({published_sql.SQL_MAX_ROWS + 5})")
    assert len(at.dataframe[-1].value) == published_sql.SQL_MAX_ROWS
    assert any("first 10,000 shown" in c.value for c in at.caption)


@pytest.mark.parametrize(
    "sql, message",
    [
        ("create table marts_copy as select 1", "read-only"),
        ("insert into rollout_coverage select * from rollout_coverage", "read-only"),
        ("drop table rollout_coverage", "read-only"),
        ("select * from read_csv('/etc/passwd')", "disabled by configuration"),
        ("copy (select * from rollout_coverage) to '/tmp/leak.csv'", "disabled by configuration"),
        ("attach '/tmp/other.duckdb' as other", "disabled by configuration"),
        ("set enable_external_access = true", "locked"),
        ("select id_number from credit_report_monthly", "does not exist"),
        ("select * from marts.credit_report_monthly", "does not exist"),
        ("selec 1", "syntax error"),
    ],
)
def test_sql_refuses_writes_files_and_personal_data_with_the_database_message(small_published, sql, message):
    at = run_sql(sql)
    assert len(at.error) == 1 and message in at.error[0].value.lower(), at.error[0].value if at.error else None
    assert not Path("/tmp/leak.csv").exists()


def test_a_long_query_is_stopped(small_published, monkeypatch):
    monkeypatch.setenv(published_sql.SQL_TIMEOUT_ENV, "1")
    at = run_sql("select count(*) from range(1000000000000) a")
    assert len(at.error) == 1 and at.error[0].value.startswith("Stopped after 1 s")


def test_every_page_says_what_to_do_before_anything_is_published(tmp_path, monkeypatch):
    monkeypatch.setenv(settings.PUBLISHED_ENV, str(tmp_path / "nothing.duckdb"))
    for name in PAGES:
        at = run_page(name)
        assert "make run" in at.info[0].value


def _rendered(at: AppTest) -> bytes:
    """Everything the page sent to the browser: texts, tables and chart data as serialized protos."""
    out: list[bytes] = []

    def walk(node) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None:
            out.append(proto.SerializeToString())
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return b"".join(out)


def test_no_page_shows_personal_data(small_published):
    warehouse, _ = small_published
    personal = {
        value.encode()
        for row in query(warehouse, "select id_number, full_name, phone from staging.stg_landing__customer_versions")
        for value in row
        if value
    }
    assert len(personal) > 1000
    # the page's example key aside (UI text, a key of every generated book), no customer key either
    customer_ids = [
        key.encode()
        for (key,) in query(warehouse, "select customer_id from staging.stg_landing__customers order by 1 limit 51")
        if key != EXAMPLE_CUSTOMER
    ]
    pages = {name: run_page(name) for name in PAGES}
    # the scan sees inside tables: a value a query returns shows up in the rendered bytes
    assert b"probe-7312" in _rendered(run_sql("select 'probe-7312' as marker"))
    for name, at in pages.items():
        rendered = _rendered(at)
        leaked = [v.decode() for v in personal if v in rendered]
        assert not leaked, (name, leaked[:3])
        assert not [c for c in customer_ids if c in rendered], name


def test_wave_rates_show_only_once_their_window_has_elapsed(small_published):
    at = run_page("waves")
    at.radio(key="product").set_value("HUABEI").run()
    waves = at.dataframe[0].value
    waves = waves[waves.wave_label.str.startswith("wave ")]  # pre-rollout and not invited have no age
    assert (waves.age_days < 90).any() and (waves.age_days >= 90).any()  # young waves and mature ones
    for window, column in ((30, "within_30d_rate"), (90, "within_90d_rate")):
        young, old = waves[waves.age_days < window], waves[waves.age_days >= window]
        assert young[column].isna().all() and old[column].notna().all()
    assert waves.ever_rate.notna().all()
    assert headers(at.dataframe[0])["within_30d_rate"] == "Consented ≤ 30 days"


def test_a_cohort_with_more_values_than_colours_draws_the_top_and_the_rest_summed():
    import pandas as pd

    from dashboards.queries import add_coverage_rates, top_cohorts_with_rest

    months = pd.to_datetime(["2024-01-01", "2024-02-01"])
    data = add_coverage_rates(
        pd.DataFrame(
            [
                {
                    "month": m,
                    "cohort": f"p{i:02d}",
                    "cohort_order": i,
                    "active_accounts": 100 + i,
                    "reported_accounts": i,
                    "total_balance": 1000.0,
                    "reported_balance": 10.0 * i,
                }
                for m in months
                for i in range(31)
            ]
        )
    )
    lines = top_cohorts_with_rest(data, keep=9)
    assert lines.cohort.nunique() == 10
    assert set(lines.cohort) == {f"p{i:02d}" for i in range(22, 31)} | {"other (22)"}
    other = lines[(lines.cohort == "other (22)") & (lines.month == months[-1])].iloc[0]
    assert other.active_accounts == sum(100 + i for i in range(22)) and other.reported_accounts == sum(range(22))
    assert other.account_coverage == sum(range(22)) / sum(100 + i for i in range(22))  # from the sums
    assert top_cohorts_with_rest(data[data.cohort < "p10"], keep=9) is not None  # 10 values: left as they are
    assert top_cohorts_with_rest(data[data.cohort < "p10"], keep=9).cohort.nunique() == 10


def test_every_month_status_has_its_own_colour():
    from dashboards.charts import MONTH_STATUS

    statuses = ["N", "M", "*", "1", "2", "3", "4", "5", "6", "7", "C"]  # R10, the mart's accepted values
    assert sorted(MONTH_STATUS.domain) == sorted(statuses)
    assert len(set(MONTH_STATUS.range)) == len(statuses)


def test_the_province_page_names_provinces_in_chinese_and_english(small_published):
    at = run_page("cohorts")
    at.selectbox(key="dimension").select("Province").run()
    assert not at.exception
    cohorts = list(at.dataframe[0].value.cohort)
    assert cohorts and all(re.search(r"[\u4e00-\u9fff]", c) and re.search(r"[A-Za-z]", c) for c in cohorts)
    if len(cohorts) > 10:
        assert any("summed as one line" in c.value for c in at.caption)


def test_pace_for_a_product_without_customers_says_so(small_published, tmp_path, monkeypatch):
    copy = tmp_path / "analytics_snapshot.duckdb"
    shutil.copy(small_published[1], copy)
    with duckdb.connect(str(copy)) as con:
        con.execute("delete from analytics.rollout_forecast where product = 'JIEBEI'")
    monkeypatch.setenv(settings.PUBLISHED_ENV, str(copy))
    at = run_page("waves")
    at.radio(key="product").set_value("JIEBEI").run()
    assert not at.exception
    assert any(i.value.startswith("No JIEBEI customers as of") for i in at.info)
