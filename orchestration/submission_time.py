"""When a bureau file is generated: chosen once per run, kept in the ledger with the file."""

from __future__ import annotations

import os
from datetime import datetime
from zoneinfo import ZoneInfo

from foundation.errors import WarehouseError
from foundation.months import BUSINESS_TIMEZONE
from orchestration import settings


def submission_time() -> datetime:
    """The files' generation time, China time: CRW_SUBMISSION_TIME if set (reproducible files), else now."""
    fixed = os.environ.get(settings.SUBMISSION_TIME_ENV)
    try:
        moment = datetime.fromisoformat(fixed) if fixed else datetime.now(ZoneInfo(BUSINESS_TIMEZONE))
    except ValueError:
        raise WarehouseError(f"{settings.SUBMISSION_TIME_ENV}={fixed!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise WarehouseError(f"{settings.SUBMISSION_TIME_ENV}={fixed!r} has no offset")
    return moment.astimezone(ZoneInfo(BUSINESS_TIMEZONE)).replace(microsecond=0)
