"""Every write of the recovery capability: keyword-only, one transaction, audited."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from trellis.lib.dates import local_today
from trellis.sharing.models import AuditEvent
from trellis.sharing.policy import audit
from trellis.sharing.services import current_couple_id, validate_audience

from . import plan as plan_shape
from .models import Lapse, PlanRevision, RecoveryPlan, RecoveryTrack, SupportMessage

MAX_WHAT = 80
MAX_NOTE = 2000
MAX_CIRCLE = 1000


class StaleVersion(Exception):
    def __init__(self, current: Any):
        self.current = current


def _as_date(value: Any, field: str, errors: dict[str, str]) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except (TypeError, ValueError):
        errors[field] = "Give a date, e.g. 2026-03-01."
        return None


def _bounded(value: Any, field: str, limit: int, errors: dict[str, str]) -> str:
    text = str(value or "").strip()
    if len(text) > limit:
        errors[field] = f"Keep this under {limit:,} characters."
    return text


@transaction.atomic
def track_add(
    *,
    user: Any,
    kind: str,
    what: str,
    since: Any,
    goal_kind: str = RecoveryTrack.Goal.ABSTINENCE,
    goal: str = "",
    inner_circle: str = "",
    middle_circle: str = "",
    outer_circle: str = "",
    audience: str = "partner",
) -> RecoveryTrack:
    errors: dict[str, str] = {}
    if kind not in RecoveryTrack.Kind.values:
        errors["kind"] = "Choose a substance or a behaviour."
    what = (what or "").strip()
    if not what:
        errors["what"] = "Say in your own words what this track is about."
    elif len(what) > MAX_WHAT:
        errors["what"] = f"Keep it under {MAX_WHAT} characters."
    day = _as_date(since, "since", errors)
    if day is not None and day > local_today(user.time_zone):
        errors["since"] = "The start date can't be in the future."
    if goal_kind not in RecoveryTrack.Goal.values:
        errors["goal_kind"] = "Choose abstinence or boundaries you define."
    goal = _bounded(goal, "goal", MAX_CIRCLE, errors)
    inner = _bounded(inner_circle, "inner_circle", MAX_CIRCLE, errors)
    middle = _bounded(middle_circle, "middle_circle", MAX_CIRCLE, errors)
    outer = _bounded(outer_circle, "outer_circle", MAX_CIRCLE, errors)
    if errors:
        raise ValidationError(errors)
    aud = validate_audience(user, audience, RecoveryTrack.entry_type_label)
    assert day is not None
    track = RecoveryTrack.objects.create(
        author=user,
        couple_id=current_couple_id(user),
        audience=aud,
        kind=kind,
        what=what,
        since=day,
        goal_kind=goal_kind,
        goal=goal,
        inner_circle=inner,
        middle_circle=middle,
        outer_circle=outer,
    )
    audit(owner=user, actor=user, action=AuditEvent.Action.CREATED, entry=track)
    return track


@transaction.atomic
def track_update(
    *, user: Any, track: RecoveryTrack, expected_version: Any, **changes: Any
) -> RecoveryTrack:
    """Change the goal and circles (what and since stay: a new start is a lapse or a new
    track, never a silent rewrite of the story)."""
    locked = RecoveryTrack.objects.select_for_update().get(pk=track.pk, author=user)
    if str(locked.version) != str(expected_version):
        raise StaleVersion(locked)
    errors: dict[str, str] = {}
    goal_kind = changes.get("goal_kind", locked.goal_kind)
    if goal_kind not in RecoveryTrack.Goal.values:
        errors["goal_kind"] = "Choose abstinence or boundaries you define."
    values = {
        key: _bounded(changes.get(key, getattr(locked, key)), key, MAX_CIRCLE, errors)
        for key in ("goal", "inner_circle", "middle_circle", "outer_circle")
    }
    if errors:
        raise ValidationError(errors)
    locked.goal_kind = goal_kind
    for key, value in values.items():
        setattr(locked, key, value)
    locked.version += 1
    locked.updated_at = timezone.now()
    locked.save()
    audit(owner=user, actor=user, action=AuditEvent.Action.EDITED, entry=locked)
    return locked


@transaction.atomic
def track_end(*, user: Any, track: RecoveryTrack) -> RecoveryTrack:
    RecoveryTrack.objects.filter(pk=track.pk, author=user, ended_at__isnull=True).update(
        ended_at=timezone.now()
    )
    track.refresh_from_db()
    return track


@transaction.atomic
def lapse_log(
    *,
    user: Any,
    track: RecoveryTrack,
    local_date: Any,
    what_led: str = "",
    what_helps: str = "",
    who_to_tell: str = "",
    impact: str = "",
    prevention: str = "",
    audience: str = "me",
) -> Lapse:
    """Log a lapse on one of my own open tracks. A day may hold only one lapse per track: the
    same lapse sent twice (a retry) is kept once, with the words of the later sending."""
    if track.author_id != user.pk:
        raise PermissionError("Only the person in recovery logs a lapse on their track.")
    errors: dict[str, str] = {}
    day = _as_date(local_date, "local_date", errors)
    today = local_today(user.time_zone)
    if day is not None and day > today:
        errors["local_date"] = "Choose today or a day before."
    if day is not None and day < track.since:
        errors["local_date"] = "Choose a day after this track began."
    if track.ended_at is not None:
        errors["track"] = "This track has ended."
    fields = {
        key: _bounded(value, key, MAX_NOTE, errors)
        for key, value in (
            ("what_led", what_led),
            ("what_helps", what_helps),
            ("who_to_tell", who_to_tell),
            ("impact", impact),
            ("prevention", prevention),
        )
    }
    if errors:
        raise ValidationError(errors)
    aud = validate_audience(user, audience, Lapse.entry_type_label)
    assert day is not None
    RecoveryTrack.objects.select_for_update().filter(pk=track.pk).first()
    existing = Lapse.objects.filter(track=track, local_date=day).first()
    now = timezone.now()
    if existing is not None:
        for key, value in fields.items():
            if value:
                setattr(existing, key, value)
        existing.audience = aud
        existing.couple_id = current_couple_id(user)
        existing.version += 1
        existing.updated_at = now
        existing.save()
        return existing
    lapse = Lapse.objects.create(
        author=user,
        couple_id=current_couple_id(user),
        audience=aud,
        track=track,
        local_date=day,
        created_at=now,
        updated_at=now,
        **fields,
    )
    audit(owner=user, actor=user, action=AuditEvent.Action.CREATED, entry=lapse)
    return lapse


@transaction.atomic
def plan_save(
    *, user: Any, content: dict[str, Any], audience: str, expected_version: Any = None
) -> RecoveryPlan:
    """Save my plan as a new version (every version is kept). `expected_version`: the version
    the editor loaded; None for the first save."""
    clean = plan_shape.clean(content)
    aud = validate_audience(user, audience, RecoveryPlan.entry_type_label)
    now = timezone.now()
    plan = RecoveryPlan.objects.select_for_update().filter(author=user).first()
    if plan is None:
        if expected_version not in (None, "", "0", 0):
            raise StaleVersion(None)
        try:
            with transaction.atomic():
                plan = RecoveryPlan.objects.create(
                    author=user,
                    couple_id=current_couple_id(user),
                    audience=aud,
                    content=json.dumps(clean),
                    created_at=now,
                    updated_at=now,
                )
        except IntegrityError:  # saved at the same moment in another tab
            raise StaleVersion(RecoveryPlan.objects.get(author=user)) from None
        audit(owner=user, actor=user, action=AuditEvent.Action.CREATED, entry=plan)
    else:
        if str(plan.version) != str(expected_version):
            raise StaleVersion(plan)
        if plan.audience != aud:
            audit(
                owner=user,
                actor=user,
                action=AuditEvent.Action.AUDIENCE_CHANGED,
                entry=plan,
                detail={"from": plan.audience, "to": str(aud)},
            )
        plan.content = json.dumps(clean)
        plan.audience = aud
        plan.couple_id = current_couple_id(user)
        plan.version += 1
        plan.updated_at = now
        plan.save()
        audit(owner=user, actor=user, action=AuditEvent.Action.EDITED, entry=plan)
    PlanRevision.objects.create(
        plan=plan, number=plan.version, content=plan.content, audience=plan.audience, saved_at=now
    )
    return plan


@transaction.atomic
def support_send(*, user: Any, note: str = "", audience: str = "partner") -> SupportMessage:
    """ "I'm struggling": tell the people I chose. In the app: the audience (my partner, and/or
    my therapist). By email: the plan's contacts marked to be told, when email is configured —
    a neutral subject and body, never the note."""
    errors: dict[str, str] = {}
    note = _bounded(note, "note", 500, errors)
    if audience == "me":
        errors["audience"] = "Choose who to tell: your partner, or your partner and therapist."
    if errors:
        raise ValidationError(errors)
    aud = validate_audience(user, audience, SupportMessage.entry_type_label)
    message = SupportMessage.objects.create(
        author=user, couple_id=current_couple_id(user), audience=aud, note=note
    )
    from .tasks import email_support_contacts

    # `emailed` tells the author how many were told: none when email is not configured.
    plan = RecoveryPlan.objects.filter(author=user).first() if settings.SUPPORT_EMAILS else None
    contacts = [
        c["email"]
        for c in plan_shape.decode(plan.content if plan else "{}")["contacts"]
        if c.get("notify") and c.get("email")
    ]
    if contacts:
        message.emailed = len(contacts)
        message.save(update_fields=["emailed"])
        transaction.on_commit(lambda: email_support_contacts(str(message.pk)))
    audit(owner=user, actor=user, action=AuditEvent.Action.CREATED, entry=message)
    return message


@transaction.atomic
def support_reply(*, user: Any, message: SupportMessage, reply: str) -> SupportMessage:
    """The partner answers with one of a few kind, fixed replies. `message` comes from the
    sharing policy; the author and therapists do not reply here."""
    if message.author_id == user.pk or user.role != "member":
        raise PermissionError("The partner answers this message.")
    if reply not in SupportMessage.REPLIES:
        raise ValidationError({"reply": "Choose one of the replies."})
    locked = SupportMessage.objects.select_for_update().get(pk=message.pk)
    locked.reply = reply
    locked.seen_at = timezone.now()
    locked.seen_by = user
    locked.save(update_fields=["reply", "seen_at", "seen_by"])
    return locked
