"""Batch months: the monthly partitions of raw loads (keys YYYY-MM, like the landing folders)."""

from dagster import MonthlyPartitionsDefinition

from orchestration.settings import first_month

# A month's batch is produced after the month ends: the last partition is the last full month.
batch_months = MonthlyPartitionsDefinition(start_date=first_month(), fmt="%Y-%m")


def partition_range_tags(first: str, last: str) -> dict[str, str]:
    """The run tags that make one run of a range of months: what the UI's single-run backfill sets.

    Dagster documents these tag names for launching a range but exports no public constant for them.
    """
    return {"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last}
