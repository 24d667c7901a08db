"""Every write to check-ins and trust moments: keyword-only, one transaction, audited."""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from trellis.lib.dates import local_today
from trellis.recovery.models import RecoveryTrack
from trellis.sharing.models import AuditEvent
from trellis.sharing.policy import audit
from trellis.sharing.registry import for_model
from trellis.sharing.services import current_couple_id, default_audience, validate_audience

from .models import (
    CRAVING_MAX,
    HALT_FIELDS,
    OPTIONAL_SCALE_FIELDS,
    SCALE_FIELDS,
    CheckinRevision,
    DailyCheckin,
    TrustMoment,
    TrustPractice,
)

MAX_TEXT = 2000
VALUE_FIELDS = (*SCALE_FIELDS, *OPTIONAL_SCALE_FIELDS, "craving", "recovery", *HALT_FIELDS)


class StaleVersion(Exception):
    def __init__(self, current: Any):
        self.current = current


def in_recovery(user: Any) -> bool:
    return RecoveryTrack.objects.filter(author=user, ended_at__isnull=True).exists()


def _int_in(
    value: Any, lo: int, hi: int, field: str, errors: dict[str, str], *, required: bool
) -> Any:
    if value in (None, ""):
        if required:
            errors[field] = "Choose a value."
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        errors[field] = f"Enter a whole number from {lo} to {hi}."
        return None
    if not lo <= number <= hi:
        errors[field] = f"Enter a whole number from {lo} to {hi}."
        return None
    return number


def clean_checkin(
    *, author: Any, data: dict[str, Any], recovering: bool | None = None
) -> dict[str, Any]:
    """Validate a check-in's values; every error names its field. `recovering`: whether the
    author has an open recovery track, when the caller already knows."""
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    for f in SCALE_FIELDS:
        out[f] = _int_in(data.get(f), 1, 5, f, errors, required=True)
    for f in OPTIONAL_SCALE_FIELDS:
        out[f] = _int_in(data.get(f), 1, 5, f, errors, required=False)
    if recovering is None:
        recovering = in_recovery(author)
    craving = _int_in(data.get("craving"), 0, CRAVING_MAX, "craving", errors, required=False)
    recovery = data.get("recovery") or ""
    if recovery not in DailyCheckin.Recovery.values:
        errors["recovery"] = "Choose one of the options."
    if not recovering and (craving is not None or recovery):
        # Only asked of a person with a recovery track; never stored for anyone else.
        craving, recovery = None, ""
    out["craving"] = craving
    out["recovery"] = recovery
    for f in HALT_FIELDS:
        out[f] = bool(data.get(f))
    for f in ("gratitude", "note"):
        text = (data.get(f) or "").strip()
        if len(text) > MAX_TEXT:
            errors[f] = f"Keep this under {MAX_TEXT:,} characters."
        out[f] = text
    if errors:
        raise ValidationError(errors)
    return out


def _snapshot(c: DailyCheckin) -> str:
    data = {f: getattr(c, f) for f in VALUE_FIELDS}
    data.update(gratitude=c.gratitude, note=c.note, audience=c.audience)
    return json.dumps(data)


@transaction.atomic
def checkin_save(
    *,
    author: Any,
    data: dict[str, Any],
    audience: str | None,
    expected_version: int | None = None,
    channel: str = "page",
    recovering: bool | None = None,
    allowed: list[Any] | None = None,
) -> tuple[DailyCheckin, bool]:
    """Create today's check-in, or update it the same local day (the old values are kept as a
    revision). `expected_version` guards an edit against a newer save in another window.
    `audience` None: keep the check-in's audience, or for a new one the author's default.
    `recovering` and `allowed` (audiences): what the caller already looked up, if anything."""
    values = clean_checkin(author=author, data=data, recovering=recovering)
    today = local_today(author.time_zone)
    existing = (
        DailyCheckin.objects.select_for_update().filter(author=author, local_date=today).first()
    )
    if audience is None:
        audience = (
            existing.audience
            if existing is not None
            else default_audience(author, for_model(DailyCheckin))
        )
    aud = validate_audience(author, audience, DailyCheckin.entry_type_label, allowed=allowed)
    now = timezone.now()
    if existing is None:
        try:
            with transaction.atomic():
                checkin = DailyCheckin.objects.create(
                    author=author,
                    couple_id=current_couple_id(author),
                    audience=aud,
                    local_date=today,
                    created_at=now,
                    updated_at=now,
                    **values,
                )
        except IntegrityError:
            # A twin request created it a moment ago (double tap, offline re-send): update that.
            existing = DailyCheckin.objects.select_for_update().get(author=author, local_date=today)
        else:
            audit(
                owner=author,
                actor=author,
                action=AuditEvent.Action.CREATED,
                entry=checkin,
                channel=channel,
            )
            return checkin, True
    if expected_version is not None and existing.version != expected_version:
        raise StaleVersion(existing)
    CheckinRevision.objects.create(
        checkin=existing, version=existing.version, data=_snapshot(existing)
    )
    for key, value in values.items():
        setattr(existing, key, value)
    if existing.audience != aud:
        existing.couple_id = current_couple_id(author)
        audit(
            owner=author,
            actor=author,
            action=AuditEvent.Action.AUDIENCE_CHANGED,
            entry=existing,
            channel=channel,
            detail={"from": existing.audience, "to": str(aud)},
        )
    existing.audience = aud
    existing.version += 1
    existing.updated_at = now
    existing.save()
    audit(
        owner=author, actor=author, action=AuditEvent.Action.EDITED, entry=existing, channel=channel
    )
    return existing, False


def checkin_editable(checkin: DailyCheckin, author: Any) -> bool:
    return checkin.author_id == author.pk and checkin.local_date == local_today(author.time_zone)


# --- Daily trust moment ------------------------------------------------------------------------


def trust_paused(couple_id: Any) -> TrustPractice | None:
    if couple_id is None:
        return None
    return TrustPractice.objects.filter(couple_id=couple_id, paused_at__isnull=False).first()


def trust_paused_for(user: Any) -> TrustPractice | None:
    """`trust_paused(current_couple_id(user))` in one query: the pause of the person's current
    couple space, if any (a person is an active member of at most one)."""
    from trellis.couples.models import Membership

    mine = Membership.objects.filter(user_id=user.pk, left_at__isnull=True).values("couple_id")
    return TrustPractice.objects.filter(couple_id__in=mine, paused_at__isnull=False).first()


@transaction.atomic
def trust_moment_state(*, author: Any, intention: str, audience: str = "partner") -> TrustMoment:
    intention = (intention or "").strip()
    if not intention:
        raise ValidationError({"intention": "Write today's intention in your own words."})
    if len(intention) > 500:
        raise ValidationError({"intention": "Keep it under 500 characters."})
    if not in_recovery(author):
        raise ValidationError(
            {"intention": "The trust moment is for a partner with a recovery track."}
        )
    couple_id = current_couple_id(author)
    if trust_paused(couple_id):
        raise ValidationError({"intention": "The trust moment is paused for now."})
    aud = validate_audience(author, audience, TrustMoment.entry_type_label)
    today = local_today(author.time_zone)
    moment = TrustMoment.objects.select_for_update().filter(author=author, local_date=today).first()
    if moment is not None:
        if moment.acknowledged_at is not None:
            raise ValidationError({"intention": "Today's intention was already acknowledged."})
        moment.intention = intention
        moment.audience = aud
        moment.couple_id = couple_id
        moment.version += 1
        moment.updated_at = timezone.now()
        moment.save()
        return moment
    moment = TrustMoment.objects.create(
        author=author, couple_id=couple_id, audience=aud, local_date=today, intention=intention
    )
    audit(owner=author, actor=author, action=AuditEvent.Action.CREATED, entry=moment)
    return moment


@transaction.atomic
def trust_moment_acknowledge(
    *, partner: Any, moment: TrustMoment, response: str = ""
) -> TrustMoment:
    """The partner acknowledges today's intention. `moment` must come from the sharing policy
    (the caller looked it up with get_visible_or_404); only a partner, never a therapist."""
    if partner.pk == moment.author_id or partner.role != "member":
        raise PermissionError("Only the partner acknowledges a trust moment.")
    response = (response or "").strip()
    if len(response) > 500:
        raise ValidationError({"response": "Keep it under 500 characters."})
    if trust_paused(moment.couple_id):
        raise ValidationError({"response": "The trust moment is paused for now."})
    locked = TrustMoment.objects.select_for_update().get(pk=moment.pk)
    if locked.acknowledged_at is None:
        locked.acknowledged_at = timezone.now()
        locked.acknowledged_by = partner
        locked.response = response
        locked.save(update_fields=["acknowledged_at", "acknowledged_by", "response"])
    return locked


@transaction.atomic
def trust_practice_pause(*, user: Any) -> None:
    couple_id = current_couple_id(user)
    if couple_id is None:
        raise ValidationError("You are not in a couple space.")
    practice, _ = TrustPractice.objects.select_for_update().get_or_create(couple_id=couple_id)
    if practice.paused_at is None:
        practice.paused_at = timezone.now()
        practice.paused_by = user
        practice.save()


@transaction.atomic
def trust_practice_resume(*, user: Any) -> None:
    couple_id = current_couple_id(user)
    practice = TrustPractice.objects.select_for_update().filter(couple_id=couple_id).first()
    if practice is None or practice.paused_at is None:
        return
    if practice.paused_by_id not in (None, user.pk):
        raise ValidationError("Only the partner who paused the trust moment can resume it.")
    practice.paused_at = None
    practice.paused_by = None
    practice.save()
