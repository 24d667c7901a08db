"""Check-ins for dashboard tests, made directly (any date, any audience), deterministically."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from trellis.checkins.models import DailyCheckin
from trellis.lib.dates import local_today
from trellis.sharing.audiences import Audience
from trellis.sharing.services import current_couple_id

KEEP = object()


def today_for(user: Any) -> date:
    return local_today(user.time_zone)


def checkin(
    author: Any,
    day: date | int = 0,
    *,
    audience: str = Audience.PARTNER,
    couple_id: Any = KEEP,
    **values: Any,
) -> DailyCheckin:
    """One check-in; `day` is a date or a number of days before the author's today."""
    if isinstance(day, int):
        day = today_for(author) - timedelta(days=day)
    fields = {"mood": 3, "stress": 3, "sleep": 3, "closeness": 3, "safety": 3, **values}
    return DailyCheckin.objects.create(
        author=author,
        couple_id=current_couple_id(author) if couple_id is KEEP else couple_id,
        audience=audience,
        local_date=day,
        **fields,
    )
