"""Every read of the dashboard, starting from the sharing policy (`visible_to`).

Only numbers leave the database here: `.values()` of the scale fields, the local date and the
author. Gratitude and notes are encrypted free text and are never selected, decrypted or
charted. The number of queries does not depend on how much history a person has (QUALITY P1).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property
from typing import Any

from trellis.checkins.models import DailyCheckin
from trellis.couples.selectors import partner_of
from trellis.lib.dates import local_today
from trellis.recovery.models import RecoveryTrack
from trellis.sharing.policy import record_reads, visible_to

RANGES = (30, 90)
DEFAULT_RANGE = 30
HEATMAP_WEEKS = 12
HEATMAP_DAYS = HEATMAP_WEEKS * 7
# What the dashboard charts. Desire, arousal and fatigue stay on the check-in pages.
NUMERIC_FIELDS = ("mood", "stress", "sleep", "closeness", "safety", "craving")

Row = dict[str, Any]


def parse_range(raw: object) -> int:
    """`?range=` as one of RANGES; anything else (missing, junk, 7, 10000) gives the default."""
    try:
        value = int(str(raw).strip())
    except (TypeError, ValueError):
        return DEFAULT_RANGE
    return value if value in RANGES else DEFAULT_RANGE


@dataclass
class DashboardData:
    """The viewer's own check-ins and the partner's shared ones, by local date.

    `mine` and `partner` cover `window_start`..`today` (the chart range or the 12-week
    calendar, whichever is longer); `range_dates` is the chart range, oldest first.
    """

    viewer: Any
    partner: Any  # a User, or None when there is no current partner
    today: date
    days: int
    window_start: date
    mine: dict[date, Row] = field(default_factory=dict)
    partner_rows: dict[date, Row] = field(default_factory=dict)

    @property
    def range_start(self) -> date:
        return self.today - timedelta(days=self.days - 1)

    @cached_property
    def range_dates(self) -> list[date]:
        return [self.range_start + timedelta(days=i) for i in range(self.days)]

    @property
    def partner_name(self) -> str:
        if self.partner is None:
            return ""
        return (self.partner.display_name or "").strip() or "Your partner"

    def series(self, who: str, field_name: str) -> list[int | None]:
        rows = self.mine if who == "mine" else self.partner_rows
        return [rows.get(d, {}).get(field_name) for d in self.range_dates]

    @property
    def has_any(self) -> bool:
        return bool(self.mine or self.partner_rows)


def checkins_for_dashboard(viewer: Any, days: int = DEFAULT_RANGE) -> DashboardData:
    """The viewer's own series and their current partner's shared series.

    Three queries whatever the history: the partner, the check-ins (one `.values()` query for
    both people), and — when the partner has shared anything in the window — one bulk INSERT
    of read rows for the partner's audit trail.
    """
    days = days if days in RANGES else DEFAULT_RANGE
    today = local_today(getattr(viewer, "time_zone", "UTC") or "UTC")
    window_start = today - timedelta(days=max(days, HEATMAP_DAYS) - 1)
    partner = partner_of(viewer) if getattr(viewer, "is_authenticated", False) else None
    data = DashboardData(
        viewer=viewer, partner=partner, today=today, days=days, window_start=window_start
    )
    authors = [viewer.pk] if partner is None else [viewer.pk, partner.pk]
    rows = (
        visible_to(viewer, DailyCheckin)
        .filter(author_id__in=authors, local_date__gte=window_start, local_date__lte=today)
        .order_by()
        .values("id", "author_id", "local_date", *NUMERIC_FIELDS)
    )
    shown: list[DailyCheckin] = []
    for row in rows:
        if row["author_id"] == viewer.pk:
            data.mine[row["local_date"]] = row
        else:
            data.partner_rows[row["local_date"]] = row
            # An unsaved stand-in carrying only what the audit row needs (id, author).
            shown.append(DailyCheckin(id=row["id"], author_id=row["author_id"]))
    if shown:
        record_reads(viewer, shown, channel="dashboard")
    return data


def has_recovery_track(viewer: Any) -> bool:
    """Whether the viewer is in recovery now (an open track): their charts include craving."""
    return RecoveryTrack.objects.filter(author_id=viewer.pk, ended_at__isnull=True).exists()
