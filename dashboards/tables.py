"""Tables for people: numbers stay numbers (they sort as numbers) with their formats, headers read as
words, months as months and instants in China time (R1), one vocabulary for every page."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from foundation.months import BUSINESS_TIMEZONE

Column = st.column_config


def _count(label: str, help: str | None = None):
    return Column.NumberColumn(label, format="localized", help=help)


def _yuan(label: str, help: str | None = None):
    return Column.NumberColumn(label, format="yen", help=help)


def _rate(label: str, help: str | None = None):
    return Column.NumberColumn(label, format="percent", help=help)


COLUMNS = {
    "month": Column.DateColumn("Month", format="YYYY-MM"),
    "batch_month": Column.DateColumn("Batch month", format="YYYY-MM"),
    "product": "Product",
    "cohort": "Cohort",
    "active_accounts": _count("Active accounts", "Open at some point in the month"),
    "reported_accounts": _count("Reported accounts", "In the reporting mart that month"),
    "account_coverage": _rate("Account coverage", "Reported accounts / active accounts"),
    "total_balance": _yuan("Balance", "Month-end balance of the active accounts"),
    "reported_balance": _yuan("Reported balance", "Month-end balance of the reported accounts"),
    "balance_coverage": _rate("Balance coverage", "Reported balance / balance"),
    "records": _count("Records"),
    "customers": _count("Customers"),
    "balance": _yuan("Balance"),
    "overdue_amount": _yuan("Overdue"),
    "five_level_class": "Five-level class",
    "wave_label": "Wave",
    "first_invited_on": Column.DateColumn("First invited", format="YYYY-MM-DD"),
    "age_days": _count("Age (days)", "Days from the wave's first invitation to the last batch's end"),
    "invited_customers": _count("Invited"),
    "within_30d_rate": _rate("Consented ≤ 30 days", "Shown once the wave is 30 days old"),
    "within_90d_rate": _rate("Consented ≤ 90 days", "Shown once the wave is 90 days old"),
    "ever_rate": _rate("Consented so far"),
    "opted_out_rate": _rate("Opted out by closing", "Closed within 60 days without consenting (R17)"),
    "median_days_to_consent": Column.NumberColumn("Median days to consent", format="%.1f"),
    "avg_score_at_invite": Column.NumberColumn("Average score at invitation", format="%.0f"),
    "file_name": "File",
    "record_type": "Record type",
    "generated_at": Column.DatetimeColumn("Generated (China time)", format="YYYY-MM-DD HH:mm"),
    "report_months": "Reporting months",
    "check": "Check",
    "code": "Bureau code",
    "records_held": _count("Records held"),
    "accounts_held": _count("Accounts held"),
    "records_refused": _count("Records refused"),
    "accounts_refused": _count("Accounts refused"),
    "submitted": Column.CheckboxColumn("Submitted"),
    "submitted_at": Column.DatetimeColumn("Submitted (China time)", format="YYYY-MM-DD HH:mm"),
    "records_in_mart": _count("Records in the mart"),
    "records_sent": _count("Records at the bureau"),
    "waiting": _count("Waiting", "Not sent and not held: a later file or a correction"),
    "files": _count("Files"),
    "refused_at": Column.DatetimeColumn("Refused (China time)", format="YYYY-MM-DD HH:mm"),
    "landing_table": "File",
    "reason": Column.TextColumn("Why", width="large"),
    "rows_quarantined": _count("Rows quarantined"),
    "attempted": Column.DatetimeColumn("Attempted (China time)", format="YYYY-MM-DD HH:mm:ss"),
    "status": "Status",
    "rows_received": _count("Rows received"),
    "rows_loaded": _count("Rows loaded"),
    "checks_evaluated": _count("Checks run"),
    "checks_failed": _count("Checks failed"),
    "coverage_now": _rate("Coverage now", "Account coverage in the month the forecast starts from"),
    "in_3m": _rate("In 3 months"),
    "in_6m": _rate("In 6 months"),
    "in_12m": _rate("In 12 months"),
    "band_12m": Column.TextColumn("12-month band", help="Low to high: the slowest and fastest recent wave and pace"),
    "reaches_90pct": Column.TextColumn("90% by", help="First month projected at 90% account coverage or more"),
    "backtest_error_points": Column.NumberColumn(
        "Error so far (points)", format="%.1f", help="Mean absolute error of this forecast in the months known since"
    ),
    "as_of_month": Column.DateColumn("Forecast as of", format="YYYY-MM"),
    "months_before": _count("Months before the last batch"),
    "cohort_dimension": "Cohort",
    "mean_error_points": Column.NumberColumn("Mean error (points)", format="%.1f", help="|projected - actual| × 100"),
    "max_error_points": Column.NumberColumn("Largest error (points)", format="%.1f"),
    "share_within_band": _rate("Within the band", "Share of cohort-months whose actual coverage fell in the band"),
    "cohort_months": _count("Cohort-months"),
}


COVERAGE_COLUMNS = [  # the coverage measures, in the order the pages show them
    "active_accounts",
    "reported_accounts",
    "account_coverage",
    "total_balance",
    "reported_balance",
    "balance_coverage",
]


def china_time(instants: pd.Series) -> pd.Series:
    """UTC instants as China wall-clock times (the business's time, R1), for a datetime column."""
    return pd.to_datetime(instants, utc=True).dt.tz_convert(BUSINESS_TIMEZONE).dt.tz_localize(None)


def header(column: str) -> str:
    """A column without an entry above: its name as words."""
    return column.replace("_", " ").capitalize()


def show(data: pd.DataFrame, **extra) -> None:
    """`data` as a sortable table with the project's formats and headers; `extra` overrides or adds
    column settings (a label, or a st.column_config entry) for this table only."""
    config = {c: extra.get(c, COLUMNS.get(c, header(c))) for c in data.columns}
    st.dataframe(data, hide_index=True, width="stretch", column_config=config)
