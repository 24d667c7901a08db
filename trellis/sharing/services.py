"""Writes that belong to the sharing model itself: audience choice, defaults, audit."""

from __future__ import annotations

from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from .audiences import Audience
from .models import AudiencePreference, AuditEvent, SharedEntry
from .policy import _my_couple_sql, audit
from .registry import EntryType

E = TypeVar("E", bound=SharedEntry)


def allowed_audiences(user: Any, entry_type: str | None = None) -> list[Audience]:
    """Audiences this author can choose now. "My therapist only" needs a therapist of the
    author's current couple, holding the author's consent (for `entry_type`, when given), whose
    policy accepts individual confidences (SPEC principle 1) — otherwise nobody could read it."""
    from trellis.couples.models import Consent

    choices = [Audience.ONLY_ME, Audience.PARTNER, Audience.PARTNER_THERAPIST]
    my_couple, _ = _my_couple_sql(user)
    consents = Consent.objects.filter(
        grantor=user,
        withdrawn_at__isnull=True,
        expires_at__gt=timezone.now(),
        therapist__accepts_confidences=True,
        link__ended_at__isnull=True,
        link__couple_id__in=my_couple,
    )
    if entry_type:
        consents = consents.filter(scopes__entry_type=entry_type)
    if consents.exists():
        choices.append(Audience.THERAPIST)
    return choices


def default_audience(user: Any, entry_type: EntryType) -> Audience:
    pref = (
        AudiencePreference.objects.filter(user=user, entry_type=entry_type.label)
        .values_list("audience", flat=True)
        .first()
    )
    return Audience(pref) if pref else entry_type.default_audience


def default_audiences(user: Any, entry_types: list[EntryType]) -> dict[str, Audience]:
    """`default_audience` of several entry types in one query (the settings page lists them
    all: its cost must not grow with the number of registered types)."""
    prefs = dict(
        AudiencePreference.objects.filter(
            user=user, entry_type__in=[et.label for et in entry_types]
        ).values_list("entry_type", "audience")
    )
    return {
        et.label: Audience(prefs[et.label]) if et.label in prefs else et.default_audience
        for et in entry_types
    }


def current_couple_id(user: Any) -> Any:
    from trellis.couples.models import Membership

    return (
        Membership.objects.filter(user=user, left_at__isnull=True)
        .values_list("couple_id", flat=True)
        .first()
    )


def validate_audience(
    user: Any, audience: str, entry_type: str | None = None, *, allowed: list[Any] | None = None
) -> Audience:
    """`allowed`: allowed_audiences(user, entry_type), when the caller already has it."""
    if audience not in Audience.values:
        raise ValidationError({"audience": "Choose who can see this from the list."})
    if allowed is None:
        allowed = allowed_audiences(user, entry_type)
    if Audience(audience) not in allowed:
        raise ValidationError(
            {
                "audience": "“My therapist only” needs a therapist you have given consent to who "
                "accepts individual confidences."
            }
        )
    return Audience(audience)


@transaction.atomic
def entry_audience_set(*, actor: Any, entry: E, audience: str, channel: str) -> E:
    if entry.author_id != actor.pk:
        raise PermissionError("Only the author chooses who sees an entry.")
    new = validate_audience(actor, audience, entry.entry_type_label)
    old = entry.audience
    # Choosing the audience again re-anchors "my partner" to the partner of today.
    entry.couple_id = current_couple_id(actor)
    entry.audience = new
    entry.updated_at = timezone.now()
    entry.save(update_fields=["audience", "couple", "updated_at"])
    if old != new:
        audit(
            owner=actor,
            actor=actor,
            action=AuditEvent.Action.AUDIENCE_CHANGED,
            entry=entry,
            channel=channel,
            detail={"from": old, "to": str(new)},
        )
    return entry


@transaction.atomic
def audience_defaults_set(*, user: Any, defaults: dict[str, str]) -> None:
    for label, audience in defaults.items():
        if audience not in Audience.values:
            raise ValidationError({label: "Choose an audience from the list."})
    # One upsert whatever the number of entry types, so the settings page stays at a fixed cost.
    AudiencePreference.objects.bulk_create(
        [AudiencePreference(user=user, entry_type=k, audience=v) for k, v in defaults.items()],
        update_conflicts=True,
        unique_fields=["user", "entry_type"],
        update_fields=["audience"],
    )
