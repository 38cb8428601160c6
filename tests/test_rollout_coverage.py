"""The coverage cube and wave funnel on generated data: additive, reconciled with direct counts,
showing the rollout; and no personal data anywhere on the analytics surface (R15)."""

from __future__ import annotations

import json
import re

import pytest
from conftest import query

from orchestration.settings import dbt_target_dir

COHORTS = ["score_band", "age_band", "registration_year", "province_code", "limit_band", "wave_label"]
MEASURES = [
    "active_accounts",
    "reported_accounts",
    "total_balance",
    "reported_balance",
    "invited_customers",
    "consented_customers",
    "opted_out_by_closing",
]

# Every measure per month and product, computed directly from staging and the reporting mart,
# without the cohort joins: what any roll-up of the cube must add up to.
DIRECT_TOTALS = """
with months as (
    select distinct batch_month as month, last_day(batch_month) as month_end
    from audit.load_batches where status = 'LOADED'),
accounts as (select * from staging.stg_landing__accounts),
active as (
    select m.month, a.product, count(*) as active_accounts, sum(coalesce(s.outstanding_balance, 0)) as total_balance
    from accounts a join months m on a.opened_month <= m.month and coalesce(a.closed_month, m.month) >= m.month
    left join staging.stg_landing__account_snapshots s on s.account_id = a.account_id and s.snapshot_month = m.month
    group by all),
reported as (
    select report_month as month, product, count(*) as reported_accounts, sum(balance) as reported_balance
    from marts.credit_report_monthly group by all),
first_invites as (
    select customer_id, product, min(invited_at) as invited_at, min(invited_on) as invited_on
    from staging.stg_landing__invitations group by all),
consents as (
    select customer_id, p.product, min(signed_at) as signed_at, min(signed_on) as signed_on
    from staging.stg_landing__agreements g
    join (values ('HUABEI'), ('JIEBEI')) p(product) on g.product in (p.product, 'ALL')
    where document_code = 'CREDIT_REPORTING_AUTH' group by all),
opt_outs as (
    select a.customer_id, a.product, min(a.closed_on) as opted_out_on
    from accounts a join first_invites i using (customer_id, product) left join consents c using (customer_id, product)
    where a.closed_at >= i.invited_at and a.closed_on - i.invited_on <= 60
      and (c.signed_at is null or c.signed_at > a.closed_at)
    group by all),
customers as (
    select m.month, p.product,
        (select count(*) from first_invites i where i.product = p.product and i.invited_on <= m.month_end)
            as invited_customers,
        (select count(*) from consents c where c.product = p.product and c.signed_on <= m.month_end)
            as consented_customers,
        (select count(*) from opt_outs o where o.product = p.product and o.opted_out_on <= m.month_end)
            as opted_out_by_closing
    from months m cross join (values ('HUABEI'), ('JIEBEI')) p(product))
select customers.month, customers.product,
    coalesce(active_accounts, 0), coalesce(reported_accounts, 0),
    coalesce(total_balance, 0)::decimal(18,2), coalesce(reported_balance, 0)::decimal(18,2),
    invited_customers, consented_customers, opted_out_by_closing
from customers left join active using (month, product) left join reported using (month, product)
order by 1, 2
"""


@pytest.fixture(scope="module")
def warehouse(small_warehouse):
    path, result = small_warehouse
    assert result.success
    return path


@pytest.mark.parametrize("cohort", COHORTS)
def test_rolling_the_cube_up_over_a_cohort_gives_the_direct_totals(warehouse, cohort):
    sums = ", ".join(f"sum({m})::{'decimal(18,2)' if 'balance' in m else 'bigint'}" for m in MEASURES)
    rolled = query(
        warehouse,
        f"""
        with by_cohort as (select month, product, {cohort}, {", ".join(f"sum({m}) as {m}" for m in MEASURES)}
                           from marts.fct_rollout_coverage group by all)
        select month, product, {sums} from by_cohort group by month, product order by 1, 2
        """,
    )
    direct = query(warehouse, DIRECT_TOTALS)
    assert len(direct) == 16 and sum(r[3] for r in direct) > 1000
    assert rolled == direct


def test_coverage_rises_from_the_pre_rollout_level_and_the_top_band_goes_first(warehouse):
    coverage = dict(
        query(
            warehouse,
            "select strftime(month, '%Y-%m'), sum(reported_accounts) / sum(active_accounts)"
            " from marts.fct_rollout_coverage where product = 'HUABEI' group by 1",
        )
    )
    # Waves start in the 4th month, 2024-04; the last batch is 2024-08.
    assert coverage["2024-03"] < 0.1 and coverage["2024-08"] > 0.5
    assert coverage["2024-08"] > coverage["2024-06"] > coverage["2024-04"] > coverage["2024-03"]
    by_band = dict(
        query(
            warehouse,
            "select score_band, sum(reported_accounts) / sum(active_accounts) from marts.fct_rollout_coverage"
            " where product = 'HUABEI' and month = '2024-04-01' group by 1",
        )
    )
    assert by_band["700-950"] > 0.3 and by_band["700-950"] > 3 * max(by_band["600-649"], by_band["550-599"])


def test_wave_funnel_shows_quality_first(warehouse):
    waves = query(
        warehouse,
        "select wave_number, invited_customers, consented_within_30d, consented_within_90d, consented_ever,"
        " avg_score_at_invite from marts.rollout_wave_funnel where product = 'HUABEI' and wave_number is not null"
        " order by wave_number",
    )
    assert [w[0] for w in waves] == [1, 2, 3, 4, 5]
    scores = [w[5] for w in waves[:4]]
    assert scores == sorted(scores, reverse=True), scores
    assert all(w[1] >= w[4] >= w[3] >= w[2] >= 0 for w in waves)
    labels = {r[0] for r in query(warehouse, "select wave_label from marts.rollout_wave_funnel")}
    assert {"pre-rollout", "not invited", "wave 1"} <= labels


def test_no_personal_data_column_outside_raw_staging_and_the_reporting_mart():
    manifest = json.loads((dbt_target_dir() / "manifest.json").read_text())
    personal = {
        column
        for node in manifest["nodes"].values()
        for column, meta in node.get("columns", {}).items()
        if meta.get("config", {}).get("meta", {}).get("personal_data") or meta.get("meta", {}).get("personal_data")
    }
    assert personal == {"id_number", "full_name", "phone"}
    allowed = {"staging"}
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model" or node["schema"] in allowed or node["name"] == "credit_report_monthly":
            continue
        sql = node["raw_code"].lower()
        assert not [c for c in personal if re.search(rf"\b{c}\b", sql)], node["name"]


def test_no_personal_data_value_on_the_analytics_surface(warehouse):
    values = set()
    for id_number, name, phone in query(
        warehouse, "select id_number, full_name, phone from staging.stg_landing__customers"
    ):
        values |= {id_number, name, phone}
    relations = query(
        warehouse,
        "select table_schema, table_name from information_schema.tables"
        " where table_schema in ('analytics', 'intermediate')"
        " or (table_schema = 'marts' and table_name <> 'credit_report_monthly')",
    )
    assert len(relations) >= 15
    for schema, table in relations:
        text_columns = [
            c
            for (c,) in query(
                warehouse,
                "select column_name from information_schema.columns where table_schema = ? and table_name = ?"
                " and data_type = 'VARCHAR'",
                [schema, table],
            )
        ]
        for column in text_columns:
            found = query(warehouse, f'select distinct "{column}" from "{schema}"."{table}"')
            assert not values & {v for (v,) in found}, (schema, table, column)
