"""Reads of the recovery capability, always through sharing's policy.

Counting note: a track's day count is computed from ALL of its lapses, whoever may read them.
A person who shares a track but keeps a lapse to themselves still shows a run starting after
that lapse: the count stays honest, and the lapse's words stay private. The lapse form says so.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any

from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone

from trellis.lib.dates import local_now, local_today
from trellis.sharing.models import SharedEntry
from trellis.sharing.policy import get_own_or_404, get_visible_or_404, record_reads, visible_to

from . import counting
from . import plan as plan_shape
from .models import Lapse, RecoveryPlan, RecoveryTrack, SupportMessage

# A track's words of the goal and its three circles are shown on its own page only: lists and
# counts (the recovery home, the home page's milestones) neither fetch nor decrypt them.
TRACK_DETAIL_ONLY = ("goal", "inner_circle", "middle_circle", "outer_circle")


def tracks_visible(reader: Any, *, channel: str, open_only: bool = True) -> list[RecoveryTrack]:
    qs = visible_to(reader, RecoveryTrack).select_related("author").order_by("since", "pk")
    if open_only:
        qs = qs.filter(ended_at__isnull=True)
    tracks = list(qs)
    record_reads(reader, tracks, channel=channel)
    return tracks


# The author's own entries are read through the policy too (it always lets an author read
# their own): a fault in it then denies here as everywhere (security.md R11, fail closed).
def my_tracks(user: Any, *, open_only: bool = True) -> QuerySet[RecoveryTrack]:
    qs = (
        visible_to(user, RecoveryTrack)
        .filter(author_id=user.pk)
        .select_related("author")
        .order_by("since")
    )
    return qs.filter(ended_at__isnull=True) if open_only else qs


def recovery_home_for(
    reader: Any, *, channel: str
) -> tuple[list[RecoveryTrack], list[RecoveryTrack], list[RecoveryPlan]]:
    """What the recovery home shows, in two queries and one recorded read: the reader's own
    tracks (open and ended), the open tracks others share with them, and the plans they may
    read (without their content, which the home does not show). One query for every track the
    reader may see replaces "my tracks" and "tracks shared with me" (each was a full policy
    query over the same rows); another's ended track is neither shown nor recorded."""
    # Tracks begun the same day keep their orders of before: the reader's own in the order they
    # were added, the others' by id.
    tracks = list(
        visible_to(reader, RecoveryTrack)
        .defer(*TRACK_DETAIL_ONLY)
        .select_related("author")
        .order_by("since", "created_at", "pk")
    )
    mine = [t for t in tracks if t.author_id == reader.pk]
    shared = sorted(
        (t for t in tracks if t.author_id != reader.pk and t.ended_at is None),
        key=lambda t: (t.since, t.pk),
    )
    plans = list(
        visible_to(reader, RecoveryPlan).defer("content").select_related("author").order_by("pk")
    )
    record_reads(reader, [*shared, *plans], channel=channel)
    return mine, shared, plans


def track_for_reader(reader: Any, pk: Any, *, channel: str) -> RecoveryTrack:
    return get_visible_or_404(reader, RecoveryTrack, pk, channel=channel)


def track_for_author(author: Any, pk: Any) -> RecoveryTrack:
    return get_own_or_404(author, RecoveryTrack, pk)


def counts_for(tracks: Sequence[RecoveryTrack]) -> dict[Any, counting.Counts]:
    """Counts for several tracks in one query (the lapse days of all of them)."""
    days: dict[Any, list[Any]] = defaultdict(list)
    ids = [t.pk for t in tracks]
    if ids:
        # Unordered: `counting.count` sorts the days itself.
        for track_id, day in (
            Lapse.objects.filter(track_id__in=ids).order_by().values_list("track_id", "local_date")
        ):
            days[track_id].append(day)
    out = {}
    for t in tracks:
        today = local_today(t.author.time_zone)
        if t.ended_at is None:
            out[t.pk] = counting.count(t.since, days[t.pk], today)
            continue
        # An ended track's count stops on the day it ended, in the author's calendar.
        ended = t.ended_at.astimezone(local_now(t.author.time_zone).tzinfo).date()
        last = max(min(ended, today), t.since)
        out[t.pk] = replace(counting.count(t.since, days[t.pk], last), upcoming=None)
    return out


def _celebrations(reader: Any, days: int) -> list[tuple[RecoveryTrack, counting.Milestone]]:
    """The latest milestone of each open track the reader may see, when reached in the last
    `days` days. The current run, and so its milestones, depend only on the track's latest
    lapse up to today: it comes beside each track in the same query (the home page needs no
    other lapse), instead of a second query for every lapse the tracks ever had. Only the count
    and who reached it are shown: the track's words are not read."""
    latest = (
        Lapse.objects.filter(track_id=OuterRef("pk"), local_date__gte=OuterRef("since"))
        .order_by("-local_date")
        .values("local_date")[:1]
    )
    tracks = list(
        visible_to(reader, RecoveryTrack)
        .filter(ended_at__isnull=True)
        .defer("what", *TRACK_DETAIL_ONLY)
        .select_related("author")
        .annotate(latest_lapse=Subquery(latest))
        .order_by("since", "pk")
    )
    today = {t.pk: local_today(t.author.time_zone) for t in tracks}
    # A lapse dated after its author's today is not counted yet (it can happen only when their
    # time zone moved west after they logged it): such a track is counted from all its lapses.
    later = [t for t in tracks if t.latest_lapse is not None and t.latest_lapse > today[t.pk]]
    full = counts_for(later) if later else {}
    out: list[tuple[RecoveryTrack, counting.Milestone]] = []
    for t in tracks:
        c = full.get(t.pk) or counting.count(
            t.since, [t.latest_lapse] if t.latest_lapse is not None else [], today[t.pk]
        )
        if c.reached and (c.today - c.reached[-1].on).days < days:
            out.append((t, c.reached[-1]))
    return out


def _recent_messages(reader: Any, days: int) -> list[SupportMessage]:
    since = timezone.now() - timedelta(days=days)
    return list(
        visible_to(reader, SupportMessage)
        .exclude(author_id=reader.pk)
        .filter(created_at__gte=since)
        .select_related("author")
        .order_by("-created_at")[:10]
    )


def home_notices(
    reader: Any, *, channel: str, days: int = 7, also_read: Iterable[SharedEntry] = ()
) -> tuple[list[SupportMessage], list[tuple[RecoveryTrack, counting.Milestone]]]:
    """What the home page shows from recovery: others' recent "I'm struggling" messages, and
    the milestones of open tracks the reader may see (their own and those shared with them)
    reached in the last `days` days, the latest per track. Only what is shown is recorded as
    read, in one INSERT (with `also_read`, the page's other entries): a home page that merely
    looked for milestones reads nothing."""
    messages = _recent_messages(reader, days)
    celebrations = _celebrations(reader, days)
    record_reads(reader, [*also_read, *messages, *(t for t, _ in celebrations)], channel=channel)
    return messages, celebrations


def lapses_visible(
    reader: Any, *, channel: str, track: RecoveryTrack | None = None, limit: int = 50
) -> list[Lapse]:
    qs = visible_to(reader, Lapse).select_related("author", "track").order_by("-local_date")
    if track is not None:
        qs = qs.filter(track=track)
    lapses = list(qs[:limit])
    record_reads(reader, lapses, channel=channel)
    return lapses


def lapse_days_visible(
    reader: Any, track: RecoveryTrack, *, channel: str, limit: int = 50
) -> list[Lapse]:
    """A track page's list of lapses: each one's day and audience, and nothing it does not show
    (the five encrypted answers, the track again, the author)."""
    qs = (
        visible_to(reader, Lapse)
        .filter(track=track)
        .only("id", "author_id", "audience", "local_date")
        .order_by("-local_date")
    )
    lapses = list(qs[:limit])
    record_reads(reader, lapses, channel=channel)
    return lapses


def lapse_for_reader(reader: Any, pk: Any, *, channel: str) -> Lapse:
    return get_visible_or_404(reader, Lapse, pk, channel=channel)


def lapse_for_author(author: Any, pk: Any) -> Lapse:
    return get_own_or_404(author, Lapse, pk)


def my_plan(user: Any) -> RecoveryPlan | None:
    return visible_to(user, RecoveryPlan).filter(author_id=user.pk).first()


def plan_for_reader(reader: Any, pk: Any, *, channel: str) -> RecoveryPlan:
    return get_visible_or_404(reader, RecoveryPlan, pk, channel=channel)


def plan_for_author(author: Any, pk: Any) -> RecoveryPlan:
    return get_own_or_404(author, RecoveryPlan, pk)


def plans_visible(reader: Any, *, channel: str) -> list[RecoveryPlan]:
    plans = list(visible_to(reader, RecoveryPlan).select_related("author").order_by("pk"))
    record_reads(reader, plans, channel=channel)
    return plans


def plan_content(plan: RecoveryPlan | None) -> dict[str, Any]:
    return plan_shape.decode(plan.content if plan else "{}")


def messages_for(reader: Any, *, channel: str, days: int = 7) -> list[SupportMessage]:
    """Recent "I'm struggling" messages from others that the reader may read."""
    msgs = _recent_messages(reader, days)
    record_reads(reader, msgs, channel=channel)
    return msgs


def message_for_reader(reader: Any, pk: Any, *, channel: str) -> SupportMessage:
    return get_visible_or_404(reader, SupportMessage, pk, channel=channel)


def my_messages(user: Any, *, limit: int = 20, days: int | None = None) -> QuerySet[SupportMessage]:
    """The person's own messages, latest first (of the last `days` days only, when given),
    with any reply; the note is not read (the lists show when, and the reply)."""
    qs = visible_to(user, SupportMessage).filter(author_id=user.pk)
    if days is not None:
        qs = qs.filter(created_at__gte=timezone.now() - timedelta(days=days))
    return qs.defer("note").select_related("seen_by").order_by("-created_at")[:limit]
