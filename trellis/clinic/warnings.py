"""Warning signs (SPEC C14): a handful of plain rules over recent data, each ONE set-based SQL
query grouped by (couple, person), never a loop over couples.

The same rules run from three points of view, and only the base querysets differ:
- a therapist: over what `sharing.visible_to(therapist, …)` returns for their linked couples,
  so a sign can only come from data a partner consented to share with them;
- a person: over their own entries only, shown gently on their home page (never the partner's:
  signs are for care, not for watching each other);
- the system pass (`evaluate_all`, benchmark P6): over every couple at once.

Rules (our own, home-made; not a clinical instrument and not a diagnosis):
- rising_craving: the average craving of the last 7 days is ≥ 2 points above the 7 days before,
  and at least 4 out of 10;
- missed_checkins: no check-in in the last 3 days after at least 4 in the two weeks before;
- low_safety: emotional safety rated 2 or lower on at least 2 of the last 7 days;
- lapse: a lapse logged in the last 14 days;
- support: an "I'm struggling" message in the last 7 days;
- paused: the daily trust moment is paused (a pause signal).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Avg, CharField, Count, Exists, OuterRef, Q, QuerySet, Value
from django.utils import timezone

RULES: dict[str, tuple[str, str]] = {
    # kind: (therapist's short label, the person's own gentle sentence)
    "rising_craving": (
        "Cravings rising",
        "Cravings have been higher this week than last. Your plan and the \u201cI'm struggling\u201d "
        "button are there whenever you want them.",
    ),
    "missed_checkins": (
        "Check-ins paused",
        "It's been a few days since your last check-in. No pressure: a minute today is enough.",
    ),
    "low_safety": (
        "Low emotional safety",
        "You've rated emotional safety low on a few days. It may help to talk it through with "
        "your therapist or someone you trust.",
    ),
    "lapse": (
        "Recent lapse",
        "A lapse in the last two weeks is something to learn from, not a reset of who you are. "
        "Your plan is one tap away.",
    ),
    "support": (
        "Asked for support",
        "You reached out for support this week. That took courage.",
    ),
    "paused": (
        "Trust moment paused",
        "The daily trust moment is paused. It's yours to resume whenever it feels right.",
    ),
}


@dataclass(frozen=True)
class Signal:
    couple_id: Any
    person_id: Any
    kind: str

    @property
    def label(self) -> str:
        return RULES[self.kind][0]

    @property
    def gentle(self) -> str:
        return RULES[self.kind][1]


Base = Callable[[type], QuerySet[Any]]


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())


def evaluate(
    base: Base, today: date, *, pause_filter: Callable[[QuerySet[Any]], QuerySet[Any]]
) -> list[Signal]:
    """Every rule over `base(Model)` querysets; two queries whatever the number of couples."""
    from trellis.checkins.models import DailyCheckin, TrustPractice
    from trellis.recovery.models import Lapse, SupportMessage

    out: list[Signal] = []
    recent = today - timedelta(days=6)
    prior = today - timedelta(days=13)
    three = today - timedelta(days=2)
    rows = (
        base(DailyCheckin)
        .filter(local_date__gte=today - timedelta(days=16), local_date__lte=today)
        .order_by()
        .values("couple_id", "author_id")
        .annotate(
            n_recent=Count("id", filter=Q(local_date__gte=three)),
            n_before=Count("id", filter=Q(local_date__lt=three)),
            crave_now=Avg("craving", filter=Q(local_date__gte=recent)),
            crave_then=Avg("craving", filter=Q(local_date__gte=prior, local_date__lt=recent)),
            low_safety=Count("id", filter=Q(local_date__gte=recent, safety__lte=2)),
        )
    )
    for r in rows:
        key = (r["couple_id"], r["author_id"])
        now, then = r["crave_now"], r["crave_then"]
        if now is not None and then is not None and now - then >= 2 and now >= 4:
            out.append(Signal(*key, "rising_craving"))
        if r["n_recent"] == 0 and r["n_before"] >= 4:
            out.append(Signal(*key, "missed_checkins"))
        if r["low_safety"] >= 2:
            out.append(Signal(*key, "low_safety"))
    # Lapses, "I'm struggling" messages and pauses in one query (a UNION keeps each row once).
    paused = (
        pause_filter(TrustPractice.objects.filter(paused_at__isnull=False))
        .order_by()
        .annotate(kind=Value("paused", output_field=CharField()))
        .values("couple_id", "paused_by_id", "kind")
    )
    events = (
        base(Lapse)
        .filter(local_date__gte=today - timedelta(days=13))
        .order_by()
        .annotate(kind=Value("lapse", output_field=CharField()))
        .values("couple_id", "author_id", "kind")
    ).union(
        base(SupportMessage)
        .filter(created_at__gte=_start_of(recent))
        .order_by()
        .annotate(kind=Value("support", output_field=CharField()))
        .values("couple_id", "author_id", "kind"),
        paused,
    )
    for r in events:
        out.append(Signal(r["couple_id"], r["author_id"], r["kind"]))
    return out


def for_therapist(
    therapist: Any, couple_ids: Iterable[Any], today: date | None = None
) -> list[Signal]:
    """Signs over what each partner consented to share with this therapist."""
    from trellis.couples.models import ConsentScope
    from trellis.sharing.policy import visible_to

    ids = list(couple_ids)
    if not ids:
        return []
    now = timezone.now()

    def base(model: Any) -> QuerySet[Any]:
        return visible_to(therapist, model).filter(couple_id__in=ids)

    def pauses(qs: QuerySet[Any]) -> QuerySet[Any]:
        # A pause is shown only to a therapist the pausing partner consented to for trust
        # moments, through an active link to this couple.
        consented = ConsentScope.objects.filter(
            entry_type="trust_moment",
            consent__therapist_id=therapist.pk,
            consent__grantor_id=OuterRef("paused_by_id"),
            consent__withdrawn_at__isnull=True,
            consent__expires_at__gt=now,
            consent__link__ended_at__isnull=True,
            consent__link__couple_id=OuterRef("couple_id"),
        )
        return qs.filter(couple_id__in=ids).filter(Exists(consented))

    return evaluate(base, today or timezone.localdate(), pause_filter=pauses)


def for_person(person: Any, today: date | None = None) -> list[Signal]:
    """The person's own signs, from their own entries only."""
    from trellis.lib.dates import local_today
    from trellis.sharing.policy import authored_by

    def base(model: Any) -> QuerySet[Any]:
        # The policy's "their own entries" (the same single-author filter, read in one place).
        return authored_by(person, model)

    def pauses(qs: QuerySet[Any]) -> QuerySet[Any]:
        return qs.filter(
            paused_by_id=person.pk,
            couple__memberships__user_id=person.pk,
            couple__memberships__left_at__isnull=True,
        )

    signals = evaluate(base, today or local_today(person.time_zone), pause_filter=pauses)
    return [s for s in signals if s.person_id == person.pk]


def evaluate_all(today: date | None = None) -> list[Signal]:
    """The system pass over every couple at once (benchmark P6)."""

    def base(model: Any) -> QuerySet[Any]:
        return model._default_manager.all()

    return evaluate(base, today or timezone.localdate(), pause_filter=lambda qs: qs)
