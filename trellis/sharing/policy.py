"""THE access policy. Every read of every entry — page, list, fragment, API, export, search,
feed, reminder, report — starts from `visible_to`. Nothing else in the code filters entries by
author or audience (CONVENTIONS.md, "the one rule that matters most").

Rules (SPEC principle 1, C2):
- the author always sees their entry;
- "my partner" / "my partner and our therapist": the other *current* member of the couple space
  the entry was shared into, while the author is also still a member;
- "my partner and our therapist" / "my therapist only": a therapist holding an active consent
  from the author (not withdrawn, not expired, its link not ended, the author still a member of
  the linked couple) through a link to the couple space the entry was shared into, whose scope
  covers this entry type; "my therapist only" additionally needs
  a therapist whose policy accepts individual confidences;
- nobody else: not a former partner, not another couple, not a clinic administrator.
Denied and missing are indistinguishable: both raise Http404.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.http import Http404
from django.utils import timezone

from .audiences import PARTNER_AUDIENCES, THERAPIST_AUDIENCES, Audience
from .models import AuditEvent, SharedEntry

if TYPE_CHECKING:
    from trellis.accounts.models import User

log = logging.getLogger("trellis.sharing")
E = TypeVar("E", bound=SharedEntry)


def _my_couple_sql(viewer: User) -> tuple[RawSQL, RawSQL]:
    """The viewer's current couple space and its current members, as two parameterised
    subqueries. Written as SQL rather than querysets only because Django compiles a queryset
    subquery anew on every request — for this one clause that was most of the policy's cost
    (QUALITY P2) — while these are evaluated by the database in the same statement, exactly as
    the querysets were."""
    from trellis.couples.models import Membership

    meta = Membership._meta
    table = connection.ops.quote_name(meta.db_table)
    user_col = connection.ops.quote_name(Membership.user.field.column)
    couple_col = connection.ops.quote_name(Membership.couple.field.column)
    left_col = connection.ops.quote_name(str(Membership.left_at.field.column))
    me = meta.get_field("user").target_field.get_db_prep_value(viewer.pk, connection)
    # Only quoted identifiers from the model's own metadata are formatted in; every value is a
    # bound parameter.
    my_couple = f"SELECT {couple_col} FROM {table} WHERE {user_col} = %s AND {left_col} IS NULL"  # noqa: S608
    members = (
        f"SELECT {user_col} FROM {table} WHERE {left_col} IS NULL AND {couple_col} IN ({my_couple})"  # noqa: S608
    )
    return RawSQL(my_couple, (me,)), RawSQL(members, (me,))  # noqa: S611 - constant SQL, bound params


def _visible_q(viewer: User, label: str, gate: Q | None = None) -> Q:
    from trellis.couples.models import ConsentScope, Membership

    mine = Q(author_id=viewer.pk)
    my_couple, its_members = _my_couple_sql(viewer)
    # The entry was shared into the viewer's current couple space and its author is still a
    # member of it. A person is an active member of at most one couple space at a time
    # (Membership's `one_active_couple_per_user`), so "an active member of the viewer's couple"
    # is "still a member of the couple the entry was shared into".
    partner = Q(
        audience__in=PARTNER_AUDIENCES, couple_id__in=my_couple, author_id__in=its_members
    ) & ~Q(author_id=viewer.pk)
    q = mine | partner

    if viewer.role == "therapist":
        now = timezone.now()
        grantor_still_member = Membership.objects.filter(
            user_id=OuterRef("consent__grantor_id"),
            couple_id=OuterRef("consent__link__couple_id"),
            left_at__isnull=True,
        )
        consented = ConsentScope.objects.filter(
            entry_type=label,
            consent__therapist_id=viewer.pk,
            consent__grantor_id=OuterRef("author_id"),
            consent__withdrawn_at__isnull=True,
            consent__expires_at__gt=now,
            consent__link__ended_at__isnull=True,
            consent__link__therapist_id=viewer.pk,
            # "Our therapist" is the therapist of the couple the entry was shared into: a
            # therapist consented in a later couple never inherits an earlier couple's entries.
            consent__link__couple_id=OuterRef("couple_id"),
        ).filter(Exists(grantor_still_member))
        audiences = (
            list(THERAPIST_AUDIENCES)
            if viewer.accepts_confidences
            else [Audience.PARTNER_THERAPIST]
        )
        q |= Q(audience__in=audiences) & Q(Exists(consented))
    if gate is not None:
        # Everyone but the author also needs the entry type's own gate to be open.
        q = mine | (q & gate)
    return q


def visible_to(viewer: Any, model: type[E]) -> QuerySet[E]:
    """Every entry of `model` that `viewer` may read. The one place that decides."""
    if viewer is None or not getattr(viewer, "is_authenticated", False) or not viewer.is_active:
        return model._default_manager.none()
    if not model.entry_type_label:
        raise RuntimeError(f"{model.__name__} is not registered with sharing.")
    return model._default_manager.filter(
        _visible_q(viewer, model.entry_type_label, model.sharing_gate())
    )


def authored_by(viewer: Any, model: type[E]) -> QuerySet[E]:
    """Entries the viewer may change: only ever their own (security.md R1)."""
    if viewer is None or not getattr(viewer, "is_authenticated", False):
        return model._default_manager.none()
    return model._default_manager.filter(author_id=viewer.pk)


def _parse_pk(pk: Any) -> uuid.UUID:
    try:
        return pk if isinstance(pk, uuid.UUID) else uuid.UUID(str(pk))
    except (ValueError, TypeError, AttributeError):
        raise Http404 from None


def get_visible_or_404(viewer: Any, model: type[E], pk: Any, *, channel: str) -> E:
    """One entry the viewer may read, recording the read when it is not the author's own."""
    key = _parse_pk(pk)
    try:
        entry = visible_to(viewer, model).select_related("author").filter(pk=key).first()
    except Http404:
        raise
    except Exception:
        # Fail closed (security.md R11): a fault in the policy denies, and logs no content.
        log.exception(
            "sharing policy failed; denying", extra={"entry_type": model.entry_type_label}
        )
        raise Http404 from None
    if entry is None:
        raise Http404
    record_reads(viewer, [entry], channel=channel)
    return entry


def get_own_or_404(viewer: Any, model: type[E], pk: Any) -> E:
    key = _parse_pk(pk)
    entry = authored_by(viewer, model).filter(pk=key).first()
    if entry is None:
        raise Http404
    return entry


def actor_role(viewer: Any) -> str:
    return "therapist" if getattr(viewer, "role", "") == "therapist" else "partner"


def record_reads(viewer: Any, entries: Iterable[SharedEntry], *, channel: str) -> None:
    """Write one audit row per non-author read (deduplicated per reader, entry and day).

    One INSERT however many entries a page shows, so lists stay at a fixed query count.
    """
    now = timezone.now()
    rows = [
        AuditEvent(
            at=now,
            day=now.date(),
            owner_id=e.author_id,
            actor_id=viewer.pk,
            actor_role=actor_role(viewer),
            action=AuditEvent.Action.READ,
            entry_type=e.entry_type_label,
            entry_id=e.pk,
            channel=channel,
        )
        for e in entries
        if e.author_id != viewer.pk
    ]
    if rows:
        AuditEvent.objects.bulk_create(rows, ignore_conflicts=True)


def audit(
    *,
    owner: Any,
    actor: Any,
    action: str,
    entry: SharedEntry | None = None,
    channel: str = "",
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    now = timezone.now()
    return AuditEvent.objects.create(
        at=now,
        day=now.date(),
        owner=owner,
        actor=actor,
        actor_role=("" if actor is None else "self" if actor.pk == owner.pk else actor_role(actor)),
        action=action,
        entry_type=entry.entry_type_label if entry is not None else "",
        entry_id=entry.pk if entry is not None else None,
        channel=channel,
        detail=detail or {},
    )
