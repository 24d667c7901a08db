"""Every read of check-ins and trust moments, starting from sharing's visible-to query."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from trellis.sharing.policy import get_own_or_404, get_visible_or_404, visible_to

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


def trust_moment_for_reader(reader: Any, pk: Any, *, channel: str) -> TrustMoment:
    return get_visible_or_404(reader, TrustMoment, pk, channel=channel)
