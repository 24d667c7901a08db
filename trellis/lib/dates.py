from __future__ import annotations

import zoneinfo
from datetime import date, datetime

from django.utils import timezone


def local_now(tz_name: str) -> datetime:
    try:
        tz = zoneinfo.ZoneInfo(tz_name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        tz = zoneinfo.ZoneInfo("UTC")
    return timezone.now().astimezone(tz)


def local_today(tz_name: str) -> date:
    return local_now(tz_name).date()


def valid_timezone(name: str) -> bool:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True
