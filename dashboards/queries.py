"""The dashboard's SQL over the published analytics schema: small aggregates, rates from sums."""

from __future__ import annotations

import pandas as pd

from dashboards import reader
from foundation import published_sql, rollout_pace
from foundation.batch_states import batch_states_sql

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


def _rate(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    """A rate from two sums; NaN where the denominator is zero."""
    return numerator.astype(float) / denominator.astype(float).where(denominator != 0)


def add_coverage_rates(data: pd.DataFrame) -> pd.DataFrame:
    """Account and balance coverage from the summed measures (never an average of rates)."""
    return data.assign(
        account_coverage=_rate(data.reported_accounts, data.active_accounts),
        balance_coverage=_rate(data.reported_balance, data.total_balance),
    )


def coverage_by_month() -> pd.DataFrame:
    """Per month and product: active / reported accounts and balances, cumulative consents."""
    return add_coverage_rates(
        reader.frame(
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
    return reader.frame(
        "select report_month as month, product, sum(records) as records from reporting_summary group by all order by 1"
    )


def rollout_month() -> pd.Timestamp | None:
    """The month of the first invitation wave (any product)."""
    value = reader.frame(
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
        reader.frame(
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


MEASURES = ["active_accounts", "reported_accounts", "total_balance", "reported_balance"]


def top_cohorts_with_rest(data: pd.DataFrame, keep: int) -> pd.DataFrame:
    """The `keep` cohorts with the most active accounts in the latest month, the others summed into
    one "other" cohort (rates from the sums): a chart with more lines than colours cannot be read."""
    cohorts = data.cohort.unique()
    if len(cohorts) <= keep + 1:
        return data
    latest = data[data.month == data.month.max()]
    top = list(latest.nlargest(keep, "active_accounts").cohort)
    rest = data[~data.cohort.isin(top)]
    other = rest.groupby("month", as_index=False)[MEASURES].sum()
    other["cohort"] = f"other ({rest.cohort.nunique()})"
    other["cohort_order"] = None  # sorts last
    return pd.concat([data[data.cohort.isin(top)], add_coverage_rates(other)], ignore_index=True)


def wave_funnel(product: str) -> pd.DataFrame:
    """Per wave: the funnel's rates and the wave's age at the last batch's end. A rate whose window has
    not elapsed for the wave (30 or 90 days since its first invitation) is left out (NaN): a wave
    invited two days before the cut-off has not had 30 days to consent, and would read as failing."""
    data = reader.frame(
        """
        with cut_off as (select (max(month) + interval 1 month)::date as batch_end from rollout_coverage)
        select f.*, cut_off.batch_end - f.first_invited_on as age_days
        from rollout_wave_funnel f, cut_off where f.product = ?
        order by f.wave_number nulls last, f.wave_label
        """,
        (product,),
    )
    elapsed_30, elapsed_90 = data.age_days >= 30, data.age_days >= 90
    return data.assign(
        within_30d_rate=_rate(data.consented_within_30d, data.invited_customers).where(elapsed_30),
        within_90d_rate=_rate(data.consented_within_90d, data.invited_customers).where(elapsed_90),
        ever_rate=_rate(data.consented_ever, data.invited_customers),
        opted_out_rate=_rate(data.opted_out_by_closing, data.invited_customers),
    )


def forecast_as_of() -> pd.Timestamp | None:
    """The latest month the rollout forecast is made as of; None before any."""
    months = reader.frame(rollout_pace.AS_OF_MONTHS_SQL).as_of_month
    return None if months.empty else pd.Timestamp(months.iloc[-1])


def pace_table(as_of: pd.Timestamp, product: str) -> pd.DataFrame:
    """Per cohort: coverage now and projected with its band, the 90% month, the backtest error so far."""
    data = reader.frame(rollout_pace.PACE_TABLE_SQL, (as_of.date(),))
    return data[data["product"] == product].reset_index(drop=True)


def pace_lines(as_of: pd.Timestamp, product: str, dimension: str) -> pd.DataFrame:
    """One dimension's coverage so far (the cube, the 12 months up to the as-of month) and projected (with
    its band, from the as-of month on), one row per cohort, month and kind; ordered as the pace table."""
    projected = reader.frame(rollout_pace.PROJECTION_SQL, (as_of.date(), product, dimension)).assign(kind="projected")
    if dimension == "all":
        history = coverage_by_month()
        history = history[history["product"] == product].assign(cohort="all")
    else:
        history = cohort_coverage(dimension, product)
    shown = history.month.between(as_of - pd.DateOffset(months=12), as_of)
    history = history[shown][["month", "cohort", "account_coverage"]]
    order = projected.drop_duplicates("cohort").set_index("cohort").cohort_order
    history = history[history.cohort.isin(order.index)].assign(cohort_order=lambda h: h.cohort.map(order))
    return pd.concat([history.assign(kind="so far"), projected], ignore_index=True)


def backtest(product: str) -> pd.DataFrame:
    """The forecasts made 3 and 6 months before the last batch against what happened, per dimension."""
    data = reader.frame(rollout_pace.BACKTEST_SQL)
    return data[data["product"] == product].reset_index(drop=True)


def reporting_summary(products: tuple[str, ...]) -> pd.DataFrame:
    placeholders = ", ".join("?" for _ in products)
    return reader.frame(
        f"""
        select report_month as month, product, report_reason_code, month_status, five_level_class,
               records, customers, balance::double as balance, overdue_amount::double as overdue_amount
        from reporting_summary where product in ({placeholders}) order by month
        """,
        tuple(products),
    )


def batch_states() -> pd.DataFrame:
    """Per batch month, the sending in raw and a later one refused (foundation/batch_states.py)."""
    return reader.frame(batch_states_sql("load_batches"))


def load_batches() -> pd.DataFrame:
    return reader.frame(
        """
        select batch_month, file_name, loaded_at, status, rows_received, rows_loaded, rows_quarantined,
               checks_evaluated, checks_failed, reason
        from load_batches order by loaded_at desc, batch_month desc, file_name
        """
    )


def quarantine_summary() -> pd.DataFrame:
    return reader.frame(
        """
        select batch_month, landing_table, reason, rows_quarantined
        from quarantine_summary order by batch_month desc, rows_quarantined desc
        """
    )


def submission_months() -> pd.DataFrame:
    return reader.frame(
        """
        select report_month as month, submitted, submitted_at, records_in_mart, records_sent, records_not_sent,
               records_held, files
        from submission_months order by report_month
        """
    )


def submission_files() -> pd.DataFrame:
    return reader.frame(
        """
        select submission_month as month, file_name, record_type, generated_at, report_months, records,
               records_10_opened,
               records_31_first_report, records_30_monthly, records_32_closed
        from submission_files order by written_order
        """
    )


def submission_holds() -> pd.DataFrame:
    return reader.frame(
        "select report_month as month, rule, records_held, accounts_held from submission_holds order by 1, 2"
    )


def submission_refusals() -> pd.DataFrame:
    return reader.frame(
        "select code, record_type, file_name, records_refused, accounts_refused from submission_refusals order by 1, 3"
    )


def loaded_months() -> list[str]:
    """The reporting months (P1): the months of the batches loaded, oldest first."""
    return list(
        reader.frame(
            """select distinct strftime(batch_month, '%Y-%m') as month from load_batches
               where status in ('LOADED', 'LOADED_WITH_QUARANTINE') order by 1"""
        ).month
    )


def queryable_tables() -> pd.DataFrame:
    """Every published relation with its description."""
    return reader.frame(published_sql.TABLES_SQL)


def queryable_columns() -> pd.DataFrame:
    """Every published column with its type and description."""
    return reader.frame(published_sql.COLUMNS_SQL)
