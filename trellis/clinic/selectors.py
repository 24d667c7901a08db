"""Reads of the therapist workspace, each page in a fixed number of queries however many
couples or entries there are (QUALITY P1, P3). Entries are only ever read through
`sharing.visible_to`."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import (
    CharField,
    Count,
    Exists,
    Max,
    Min,
    OuterRef,
    Prefetch,
    QuerySet,
    Subquery,
    Value,
)
from django.utils import timezone

from trellis.couples.models import Consent, ConsentScope, Membership, TherapistLink
from trellis.sharing.policy import authored_by, visible_to
from trellis.sharing.registry import entry_types

from . import warnings
from .models import (
    Appointment,
    ClinicInvitation,
    ClinicMember,
    Homework,
    HomeworkAssignment,
    HomeworkCompletion,
    LinkInvitation,
    SessionNote,
)


@dataclass
class PartnerConsent:
    person_id: Any
    name: str
    scopes: list[str] = field(default_factory=list)  # entry type labels
    until: datetime | None = None
    purpose: str = ""

    @property
    def consented(self) -> bool:
        return bool(self.scopes)


@dataclass
class CaseRow:
    link: TherapistLink
    partners: list[PartnerConsent]
    signals: list[warnings.Signal]
    last_shared_at: datetime | None
    overdue: int
    next_appointment: datetime | None
    next_kind: str = ""

    @property
    def attention(self) -> int:
        return len(self.signals) + (1 if self.overdue else 0)


def _partners(links: list[TherapistLink], therapist: Any) -> dict[Any, list[PartnerConsent]]:
    """Current members of each linked couple with the consent each gave this therapist: two
    queries for any number of couples."""
    couple_ids = [lk.couple_id for lk in links]
    by_couple: dict[Any, list[PartnerConsent]] = defaultdict(list)
    index: dict[tuple[Any, Any], PartnerConsent] = {}
    for m in (
        Membership.objects.filter(couple_id__in=couple_ids, left_at__isnull=True)
        .select_related("user")
        .order_by("joined_at")
    ):
        pc = PartnerConsent(m.user_id, m.user.display_name)
        by_couple[m.couple_id].append(pc)
        index[(m.couple_id, m.user_id)] = pc
    now = timezone.now()
    for couple_id, grantor_id, label, until, purpose in ConsentScope.objects.filter(
        consent__therapist_id=therapist.pk,
        consent__link__in=[lk.pk for lk in links],
        consent__link__ended_at__isnull=True,
        consent__withdrawn_at__isnull=True,
        consent__expires_at__gt=now,
    ).values_list(
        "consent__link__couple_id",
        "consent__grantor_id",
        "entry_type",
        "consent__expires_at",
        "consent__purpose",
    ):
        found = index.get((couple_id, grantor_id))
        if found is not None:
            found.scopes.append(label)
            found.until = until if found.until is None else max(found.until, until)
            found.purpose = purpose
    for pcs in by_couple.values():
        for pc in pcs:
            pc.scopes.sort()
    return by_couple


def partners_of(therapist: Any, link: TherapistLink) -> list[PartnerConsent]:
    """The current members of one linked couple with the consent each gave this therapist
    (two queries): what a page about one couple needs of the caseload's row."""
    return _partners([link], therapist).get(link.couple_id, [])


def signals_for(therapist: Any, link: TherapistLink, today: date) -> list[warnings.Signal]:
    """The warning signs of one linked couple, over what its partners share with this
    therapist (two queries)."""
    return sorted(warnings.for_therapist(therapist, [link.couple_id], today), key=lambda s: s.kind)


LAST_SHARED_DAYS = 30


def _union_of_visible(
    viewer: Any, build: Any, labels: set[str] | None = None
) -> QuerySet[Any] | None:
    """One UNION ALL over every entry type's `visible_to` (or only over `labels`: types nobody
    consented to show a therapist nothing, so the caseload leaves them out of the query)."""
    parts = [
        build(et, visible_to(viewer, et.model))
        for et in entry_types()
        if labels is None or et.label in labels
    ]
    if not parts:
        return None
    first, *rest = parts
    return first.union(*rest, all=True) if rest else first


def caseload(therapist: Any, today: date | None = None, link_id: Any = None) -> list[CaseRow]:
    """Every couple linked to this therapist, the ones needing attention first (or only the
    couple of `link_id`, for its own page)."""
    today = today or timezone.localdate()
    now = timezone.now()
    active = TherapistLink.objects.filter(therapist_id=therapist.pk, ended_at__isnull=True)
    if link_id is not None:
        active = active.filter(pk=link_id)
    links = list(active.select_related("couple").order_by("created_at"))
    if not links:
        return []
    couple_ids = [lk.couple_id for lk in links]
    partners = _partners(links, therapist)
    signals: dict[Any, list[warnings.Signal]] = defaultdict(list)
    for s in warnings.for_therapist(therapist, couple_ids, today):
        signals[s.couple_id].append(s)

    # The last shared entry within LAST_SHARED_DAYS: a window on the indexed created_at, so the
    # caseload's cost follows recent activity, not years of history (QUALITY P3).
    last: dict[Any, datetime] = {}
    since = now - timedelta(days=LAST_SHARED_DAYS)
    consented = {label for pcs in partners.values() for pc in pcs for label in pc.scopes}
    union = _union_of_visible(
        therapist,
        lambda et, qs: (
            qs.filter(couple_id__in=couple_ids, created_at__gte=since)
            .order_by()
            .values("couple_id")
            .annotate(m=Max("created_at"))
        ),
        consented,
    )
    if union is not None:
        for r in union:
            if r["m"] is not None and (r["couple_id"] not in last or r["m"] > last[r["couple_id"]]):
                last[r["couple_id"]] = r["m"]

    overdue = dict(
        HomeworkAssignment.objects.filter(
            homework__therapist_id=therapist.pk,
            homework__couple_id__in=couple_ids,
            homework__cancelled_at__isnull=True,
            homework__due_on__lt=today,
        )
        .exclude(
            Exists(visible_to(therapist, HomeworkCompletion).filter(assignment_id=OuterRef("pk")))
        )
        .order_by()
        .values("homework__couple_id")
        .annotate(n=Count("id"))
        .values_list("homework__couple_id", "n")
    )
    upcoming: dict[Any, tuple[datetime, str]] = {}
    for a in (
        Appointment.objects.filter(
            therapist_id=therapist.pk,
            couple_id__in=couple_ids,
            cancelled_at__isnull=True,
            starts_at__gte=now,
        )
        .order_by("starts_at")
        .values("couple_id")
        .annotate(first=Min("starts_at"))
        .order_by()
    ):
        upcoming[a["couple_id"]] = (a["first"], "")

    rows = [
        CaseRow(
            link=lk,
            partners=partners.get(lk.couple_id, []),
            signals=sorted(signals.get(lk.couple_id, []), key=lambda s: s.kind),
            last_shared_at=last.get(lk.couple_id),
            overdue=overdue.get(lk.couple_id, 0),
            next_appointment=upcoming.get(lk.couple_id, (None, ""))[0],
        )
        for lk in links
    ]
    rows.sort(key=lambda r: (-r.attention, str(r.link.couple)))
    return rows


@dataclass
class TimelineItem:
    label: str
    verbose_name: str
    id: Any
    author_id: Any
    created_at: datetime
    url_name: str


def timeline(viewer: Any, couple_id: Any, limit: int = 40) -> list[TimelineItem]:
    """What the viewer may read of one couple, newest first: which kind, by whom and when, in
    one query over every entry type. Opening an item is what reads it (and records the read)."""
    types = {et.label: et for et in entry_types()}
    union = _union_of_visible(
        viewer,
        lambda et, qs: (
            qs.filter(couple_id=couple_id)
            .order_by()
            .annotate(entry_kind=Value(et.label, output_field=CharField()))
            .values("entry_kind", "id", "author_id", "created_at")
        ),
    )
    if union is None:
        return []
    out = []
    for r in union.order_by("-created_at")[:limit]:
        et = types[r["entry_kind"]]
        out.append(
            TimelineItem(
                et.label,
                et.verbose_name,
                r["id"],
                r["author_id"],
                r["created_at"],
                et.detail_url_name,
            )
        )
    return out


@dataclass(frozen=True)
class DoneMark:
    """A partner's "done" the viewer may see: which one and when. Opening it (its own page or
    API) is what reads it, and records the read."""

    pk: Any
    created_at: datetime


@dataclass
class HomeworkRow:
    homework: Homework
    # (assignee id, assignee name, the completion the viewer may see or None)
    assignees: list[tuple[Any, str, DoneMark | None]]
    overdue: bool


def homework_for_link(therapist: Any, link: TherapistLink, today: date) -> list[HomeworkRow]:
    """The therapist's homework for this couple, in two queries however much there is."""
    return _homework_rows(therapist, today, link=link)


def homework_row(therapist: Any, homework_id: Any, today: date) -> HomeworkRow | None:
    """One homework the therapist assigned (None: not theirs, or missing), in two queries."""
    rows = _homework_rows(therapist, today, homework_id=homework_id)
    return rows[0] if rows else None


def _homework_rows(
    therapist: Any, today: date, *, link: TherapistLink | None = None, homework_id: Any = None
) -> list[HomeworkRow]:
    """The therapist's homework (of one link, or one of them): the homework, then its
    assignments with each assignee and the completion the therapist may see (a subquery
    through `sharing.visible_to`)."""
    seen = visible_to(therapist, HomeworkCompletion).filter(assignment_id=OuterRef("pk"))
    assignments = HomeworkAssignment.objects.select_related("assignee").annotate(
        done_id=Subquery(seen.values("pk")[:1]),
        done_at=Subquery(seen.values("created_at")[:1]),
    )
    found = Homework.objects.filter(therapist_id=therapist.pk)
    if link is not None:
        found = found.filter(link=link)
    if homework_id is not None:
        found = found.filter(pk=homework_id)
    hws = list(
        found.prefetch_related(Prefetch("assignments", queryset=assignments)).order_by(
            "cancelled_at", "due_on"
        )
    )
    rows = []
    for hw in hws:
        assignees = [
            (a.assignee_id, a.assignee.display_name, _done_mark(a)) for a in hw.assignments.all()
        ]
        overdue = (
            hw.cancelled_at is None
            and hw.due_on < today
            and any(c is None for _, _, c in assignees)
        )
        rows.append(HomeworkRow(hw, assignees, overdue))
    return rows


def _done_mark(assignment: HomeworkAssignment) -> DoneMark | None:
    """The completion annotated on an assignment by homework_for_link, if the viewer may see it."""
    annotated = vars(assignment)
    if annotated.get("done_id") is None:
        return None
    return DoneMark(annotated["done_id"], annotated["done_at"])


def my_homework(user: Any) -> tuple[list[HomeworkAssignment], QuerySet[HomeworkCompletion]]:
    """The user's own homework in their current couple space: what is still to do (all of it,
    soonest first) and, as a queryset to page through, what they have done (latest first).
    Two queries, whatever the length of the history."""
    assigned = HomeworkAssignment.objects.filter(
        assignee_id=user.pk,
        homework__cancelled_at__isnull=True,
        homework__couple__memberships__user_id=user.pk,
        homework__couple__memberships__left_at__isnull=True,
    )
    mine = authored_by(user, HomeworkCompletion)
    to_do = list(
        assigned.exclude(Exists(mine.filter(assignment_id=OuterRef("pk"))))
        .select_related("homework", "homework__therapist")
        .order_by("homework__due_on", "pk")
    )
    done = (
        mine.filter(assignment__in=assigned.values("pk"))
        .select_related("assignment__homework", "assignment__homework__therapist")
        .order_by("-created_at", "pk")
    )
    return to_do, done


def upcoming_appointments(link: TherapistLink, limit: int = 5) -> list[Appointment]:
    return list(
        Appointment.objects.filter(
            link=link, cancelled_at__isnull=True, starts_at__gte=timezone.now()
        ).order_by("starts_at")[:limit]
    )


def upcoming_appointments_by_link(
    links: list[TherapistLink], limit: int = 5
) -> dict[Any, list[Appointment]]:
    """The next `limit` appointments of each link, by link id: one query for any number of
    links (a couple may be linked with several therapists)."""
    out: dict[Any, list[Appointment]] = defaultdict(list)
    if not links:
        return out
    for a in Appointment.objects.filter(
        link__in=[lk.pk for lk in links], cancelled_at__isnull=True, starts_at__gte=timezone.now()
    ).order_by("starts_at"):
        if len(out[a.link_id]) < limit:
            out[a.link_id].append(a)
    return out


def notes_for_link(therapist: Any, link: TherapistLink) -> QuerySet[SessionNote]:
    return SessionNote.objects.filter(therapist_id=therapist.pk, link=link)


def member_links(user: Any) -> list[TherapistLink]:
    """Every therapist link of the user's current couple space, active first."""
    return list(
        TherapistLink.objects.filter(
            couple__memberships__user_id=user.pk, couple__memberships__left_at__isnull=True
        )
        .select_related("therapist")
        .order_by("ended_at", "-created_at")
    )


def ended_links(therapist: Any, limit: int = 50) -> list[TherapistLink]:
    """The therapist's ended links, newest first (their private notes stay reachable)."""
    return list(
        TherapistLink.objects.filter(therapist_id=therapist.pk, ended_at__isnull=False).order_by(
            "-ended_at"
        )[:limit]
    )


def open_link_invitations(therapist: Any) -> list[LinkInvitation]:
    return list(
        LinkInvitation.objects.filter(
            therapist_id=therapist.pk,
            used_at__isnull=True,
            cancelled_at__isnull=True,
            expires_at__gt=timezone.now(),
        ).order_by("-created_at")
    )


def my_consents(user: Any, links: list[Any]) -> dict[Any, Consent]:
    """The user's own active consent on each of these links (links or their ids; one query,
    scopes prefetched), by link id."""
    out: dict[Any, Consent] = {}
    for c in (
        Consent.objects.filter(
            link_id__in=[getattr(lk, "pk", lk) for lk in links],
            grantor_id=user.pk,
            withdrawn_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .prefetch_related("scopes")
        .order_by("given_at")
    ):
        out[c.link_id] = c  # the newest wins
    return out


def due_homework_count(user: Any) -> int:
    """How many of the user's homework items are open (not yet marked done): a number only."""
    return (
        HomeworkAssignment.objects.filter(
            assignee_id=user.pk,
            homework__cancelled_at__isnull=True,
            homework__couple__memberships__user_id=user.pk,
            homework__couple__memberships__left_at__isnull=True,
            completion__isnull=True,
        )
        .order_by()
        .count()
    )


def clinic_therapists(clinic: Any) -> list[ClinicMember]:
    return list(
        ClinicMember.objects.filter(
            clinic=clinic, role=ClinicMember.Role.THERAPIST, ended_at__isnull=True
        )
        .select_related("user")
        .order_by("joined_at")
    )


def open_clinic_invitations(clinic: Any) -> list[ClinicInvitation]:
    return list(
        ClinicInvitation.objects.filter(
            clinic=clinic,
            used_at__isnull=True,
            cancelled_at__isnull=True,
            expires_at__gt=timezone.now(),
        ).order_by("-created_at")
    )


def therapist_link(therapist: Any, link_id: Any, *, active: bool = True) -> TherapistLink | None:
    """The therapist's own link (still active unless `active=False`), or None."""
    if getattr(therapist, "role", "") != "therapist":
        return None
    qs = TherapistLink.objects.select_related("couple").filter(
        pk=link_id, therapist_id=therapist.pk
    )
    if active:
        qs = qs.filter(ended_at__isnull=True)
    return qs.first()


def prompt_sets_for(therapist: Any, couple_id: Any) -> list[Any]:
    """The therapist's own meeting prompt sets that this couple may use."""
    from django.db.models import Q

    from trellis.meetings.models import PromptSet

    return list(
        PromptSet.objects.filter(author_id=therapist.pk, archived_at__isnull=True)
        .filter(Q(couple__isnull=True) | Q(couple_id=couple_id))
        .order_by("title")
    )


def clinic_member_for_admin(clinic: Any, member_id: Any) -> ClinicMember | None:
    return (
        ClinicMember.objects.select_related("user")
        .filter(
            pk=member_id,
            clinic=clinic,
            role=ClinicMember.Role.THERAPIST,
            ended_at__isnull=True,
        )
        .first()
    )
