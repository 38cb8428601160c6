"""Batch months: the `YYYY-MM` keys of landing folders and partitions, months of China time (R1)."""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

BUSINESS_TIMEZONE = "Asia/Shanghai"  # R1: an instant belongs to its local month
MONTH_RE = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


def is_batch_month(name: str) -> bool:
    return MONTH_RE.fullmatch(name) is not None


def shift_month(month: str, months: int) -> str:
    """The month `months` after (or before, when negative) `month`."""
    index = int(month[:4]) * 12 + int(month[5:]) - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def consecutive_stretches(months: list[str]) -> list[list[str]]:
    """Sorted months cut where one is missing: 2024-01, 2024-02, 2024-04 -> [[2024-01, 2024-02], [2024-04]]."""
    stretches: list[list[str]] = []
    for month in months:
        if stretches and shift_month(stretches[-1][-1], 1) == month:
            stretches[-1].append(month)
        else:
            stretches.append([month])
    return stretches


def months_between(first: str, last: str) -> list[str]:
    """Every month from first to last, both included."""
    months = []
    month = first
    while month <= last:
        months.append(month)
        month = shift_month(month, 1)
    return months


def first_day(month: str) -> date:
    """The month's first day, as the warehouse keys a month (`_batch_month`, `report_month`)."""
    return date(int(month[:4]), int(month[5:]), 1)


def month_start(month: str) -> datetime:
    """The month's first instant, local time."""
    return datetime.combine(first_day(month), datetime.min.time(), ZoneInfo(BUSINESS_TIMEZONE))


def current_month(now: datetime | None = None) -> str:
    """The month it is now in China time."""
    return f"{(now or datetime.now(ZoneInfo(BUSINESS_TIMEZONE))).astimezone(ZoneInfo(BUSINESS_TIMEZONE)):%Y-%m}"


def month_has_ended(month: str, now: datetime | None = None) -> bool:
    """A batch is produced after its month ends: a batch of this month or a later one is bad input."""
    return month < current_month(now)
