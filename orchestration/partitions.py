"""Batch months: the monthly partitions of raw loads (keys YYYY-MM, like the landing folders)."""

from dagster import MonthlyPartitionsDefinition

from orchestration.settings import first_month

# A month's batch is produced after the month ends: the last partition is the last full month.
batch_months = MonthlyPartitionsDefinition(start_date=first_month(), fmt="%Y-%m")
