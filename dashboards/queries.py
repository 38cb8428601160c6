"""The dashboard's SQL over the published analytics schema: small aggregates, rates from sums."""

from __future__ import annotations

import pandas as pd

from dashboards import published
from dashboards.formatting import ratio

PRODUCTS = ("HUABEI", "JIEBEI")

# Cohort dimensions of the coverage cube (R18): label -> column.
COHORT_DIMENSIONS = {
    "Score band": "score_band",
    "Age band": "age_band",
    "Registration year": "registration_year",
    "Province": "province_code",
    "Limit band": "limit_band",
    "Wave": "wave_label",
}


def add_coverage_rates(data: pd.DataFrame) -> pd.DataFrame:
    """Account and balance coverage from the summed measures (never an average of rates)."""
    data = data.copy()
    data["account_coverage"] = [ratio(r, a) for r, a in zip(data.reported_accounts, data.active_accounts, strict=True)]
    data["balance_coverage"] = [ratio(r, b) for r, b in zip(data.reported_balance, data.total_balance, strict=True)]
    return data


def coverage_by_month() -> pd.DataFrame:
    """Per month and product: active / reported accounts and balances, cumulative consents."""
    return add_coverage_rates(
        published.frame(
            """
            select month, product,
                   sum(active_accounts) as active_accounts, sum(reported_accounts) as reported_accounts,
                   sum(total_balance)::double as total_balance, sum(reported_balance)::double as reported_balance,
                   sum(invited_customers) as invited_customers, sum(consented_customers) as consented_customers
            from rollout_coverage group by all order by month, product
            """
        )
    )


def records_by_month() -> pd.DataFrame:
    return published.frame(
        "select report_month as month, product, sum(records) as records from reporting_summary group by all order by 1"
    )


def rollout_month() -> pd.Timestamp | None:
    """The month of the first invitation wave (any product)."""
    value = published.frame(
        "select date_trunc('month', min(first_invited_on)) as m from rollout_wave_funnel where wave_number = 1"
    ).m.iloc[0]
    return None if pd.isna(value) else pd.Timestamp(value)


def cohort_coverage(column: str, product: str) -> pd.DataFrame:
    """Per month and cohort value of one dimension, for one product: sums and coverage rates."""
    if column not in COHORT_DIMENSIONS.values():
        raise ValueError(f"not a cohort dimension: {column}")
    if column == "province_code":
        label, order, join = (
            "coalesce(p.province_name_en || ' ' || p.province_name, c.province_code)",
            "c.province_code",
            "left join provinces p using (province_code)",
        )
    elif column == "wave_label":  # wave 1..N in number order, then pre-rollout and not invited
        label, order, join = (
            "c.wave_label",
            "coalesce(try_cast(regexp_extract(c.wave_label, '\\d+') as integer), 1000000 + length(c.wave_label))",
            "",
        )
    elif column == "registration_year":
        label, order, join = "c.registration_year::varchar", "c.registration_year", ""
    else:
        label, order, join = (
            f"c.{column}",
            "b.sort_order",
            f"left join cohort_bands b on b.dimension = '{column}' and b.band = c.{column}",
        )
    return add_coverage_rates(
        published.frame(
            f"""
            select c.month, {label} as cohort, min({order}) as cohort_order,
                   sum(c.active_accounts) as active_accounts, sum(c.reported_accounts) as reported_accounts,
                   sum(c.total_balance)::double as total_balance, sum(c.reported_balance)::double as reported_balance
            from rollout_coverage c {join}
            where c.product = ?
            group by all order by c.month, cohort_order
            """,
            (product,),
        )
    )


def wave_funnel(product: str) -> pd.DataFrame:
    data = published.frame(
        """
        select * from rollout_wave_funnel where product = ?
        order by wave_number nulls last, wave_label
        """,
        (product,),
    )
    for column in ("consented_within_30d", "consented_within_90d", "consented_ever", "opted_out_by_closing"):
        data[column.replace("consented_", "").replace("_by_closing", "") + "_rate"] = [
            ratio(n, d) for n, d in zip(data[column], data.invited_customers, strict=True)
        ]
    return data


def reporting_summary(products: tuple[str, ...]) -> pd.DataFrame:
    placeholders = ", ".join("?" for _ in products)
    return published.frame(
        f"""
        select report_month as month, product, report_reason_code, month_status, five_level_class,
               records, customers, balance::double as balance, overdue_amount::double as overdue_amount
        from reporting_summary where product in ({placeholders}) order by month
        """,
        tuple(products),
    )


def load_batches() -> pd.DataFrame:
    return published.frame(
        """
        select batch_month, file_name, loaded_at, status, rows_received, rows_loaded, rows_quarantined,
               checks_evaluated, checks_failed, reason
        from load_batches order by loaded_at desc, batch_month desc, file_name
        """
    )


def quarantine_summary() -> pd.DataFrame:
    return published.frame(
        """
        select batch_month, landing_table, reason, rows_quarantined
        from quarantine_summary order by batch_month desc, rows_quarantined desc
        """
    )


def queryable_columns() -> pd.DataFrame:
    """What an analyst can query: every published relation and its columns."""
    return published.frame(
        """
        select table_name, string_agg(column_name || ' ' || lower(data_type), ', ' order by ordinal_position) as columns
        from information_schema.columns where table_schema = 'analytics' group by table_name order by table_name
        """
    )
