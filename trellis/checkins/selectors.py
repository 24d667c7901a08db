"""Every read of check-ins and trust moments, starting from sharing's visible-to query."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from trellis.journal.paging import RecentFirst
from trellis.sharing.policy import get_own_or_404, get_visible_or_404, visible_to

from .cards import CARD_FIELDS
from .models import CheckinRevision, DailyCheckin, TrustMoment


def checkins_for_reader(reader: Any, *, scope: str = "all") -> QuerySet[DailyCheckin]:
    qs = (
        visible_to(reader, DailyCheckin)
        .select_related("author")
        .order_by("-local_date", "-created_at")
    )
    if scope == "mine":
        qs = qs.filter(author_id=reader.pk)
    elif scope == "shared":
        qs = qs.exclude(author_id=reader.pk)
    return qs


def checkin_cards_for_reader(reader: Any, *, scope: str = "all") -> QuerySet[DailyCheckin]:
    """The check-in history's cards: the same check-ins in the same order, reading only what a
    card shows (the gratitude and the note are neither fetched nor decrypted)."""
    return checkins_for_reader(reader, scope=scope).only(*CARD_FIELDS)


# Pages are read within the last RECENT when it holds them (journal/paging.py): a month of two
# partners' daily check-ins holds the first pages; older ones are read from the whole history.
RECENT = timedelta(days=30)


def _recent_since() -> date:
    return timezone.localdate() - RECENT


def checkin_history_for_reader(reader: Any, *, scope: str = "all") -> RecentFirst:
    """The check-in history's cards, newest first, for a Paginator."""
    return RecentFirst(
        checkin_cards_for_reader(reader, scope=scope), field="local_date", since=_recent_since()
    )


def checkins_page(
    reader: Any, *, scope: str, offset: int, limit: int
) -> tuple[int, list[DailyCheckin]]:
    """The API's page of whole check-ins and the count of all of them."""
    checkins = RecentFirst(
        checkins_for_reader(reader, scope=scope), field="local_date", since=_recent_since()
    )
    return checkins.count(), checkins[offset : offset + limit]


def checkin_for_reader(reader: Any, pk: Any, *, channel: str) -> DailyCheckin:
    return get_visible_or_404(reader, DailyCheckin, pk, channel=channel)


def checkin_for_author(author: Any, pk: Any) -> DailyCheckin:
    return get_own_or_404(author, DailyCheckin, pk)


def todays_checkin(author: Any, today: Any) -> DailyCheckin | None:
    return visible_to(author, DailyCheckin).filter(author_id=author.pk, local_date=today).first()


def revisions_of(checkin: DailyCheckin) -> QuerySet[CheckinRevision]:
    return CheckinRevision.objects.filter(checkin=checkin)


def trust_moments_for_reader(reader: Any) -> QuerySet[TrustMoment]:
    return (
        visible_to(reader, TrustMoment)
        .select_related("author", "acknowledged_by")
        .order_by("-local_date")
    )


# What the trust page shows of a moment (of the people, only their names).
MOMENT_FIELDS = (
    "id",
    "author_id",
    "audience",
    "local_date",
    "intention",
    "acknowledged_at",
    "response",
    "author__display_name",
    "acknowledged_by__display_name",
)


def recent_trust_moments(reader: Any, *, limit: int = 14) -> list[TrustMoment]:
    """The trust page's latest moments, reading only the columns it shows."""
    return list(trust_moments_for_reader(reader).only(*MOMENT_FIELDS)[:limit])


def trust_moment_for_reader(reader: Any, pk: Any, *, channel: str) -> TrustMoment:
    return get_visible_or_404(reader, TrustMoment, pk, channel=channel)
