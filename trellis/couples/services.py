"""Every write about couple spaces, invitations, therapist links and consent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from trellis.sharing.models import AuditEvent
from trellis.sharing.policy import audit
from trellis.sharing.registry import entry_types

from .models import Consent, ConsentScope, Couple, Invitation, Membership, TherapistLink


def active_membership(user: Any) -> Membership | None:
    return (
        Membership.objects.filter(user=user, left_at__isnull=True).select_related("couple").first()
    )


@transaction.atomic
def couple_create(*, user: Any, name: str = "") -> Couple:
    if user.role != "member":
        raise ValidationError("Only partners create couple spaces.")
    if active_membership(user) is not None:
        raise ValidationError("You are already in a couple space. Leave it first to start another.")
    couple = Couple.objects.create(name=name.strip()[:80], created_by=user)
    Membership.objects.create(couple=couple, user=user)
    return couple


@dataclass
class NewInvitation:
    invitation: Invitation
    token: str  # shown once, in the link; only hashes are stored
    code: str


@transaction.atomic
def invitation_create(*, user: Any) -> NewInvitation:
    membership = active_membership(user)
    if membership is None:
        raise ValidationError("Create a couple space first.")
    couple = membership.couple
    if (
        Membership.objects.filter(couple=couple, left_at__isnull=True).count()
        >= Membership.MAX_ACTIVE
    ):
        raise ValidationError("Your couple space already has two partners.")
    # Only the newest invitation works: older open ones are cancelled.
    Invitation.objects.filter(
        couple=couple, used_at__isnull=True, cancelled_at__isnull=True
    ).update(cancelled_at=timezone.now())
    token, code = Invitation.new_secrets()
    inv = Invitation.objects.create(
        couple=couple,
        created_by=user,
        token_hash=Invitation.hash(token),
        code_hash=Invitation.hash(code),
        expires_at=timezone.now() + timedelta(hours=settings.INVITATION_HOURS),
    )
    return NewInvitation(inv, token, code)


@transaction.atomic
def invitation_cancel(*, user: Any) -> None:
    membership = active_membership(user)
    if membership is None:
        return
    Invitation.objects.filter(
        couple=membership.couple, used_at__isnull=True, cancelled_at__isnull=True
    ).update(cancelled_at=timezone.now())


INVALID_INVITATION = "This invitation is not valid. It may have expired or been used already."


def invitation_find(secret: str) -> Invitation | None:
    secret = (secret or "").strip()
    if not secret or len(secret) > 100:
        return None
    h = Invitation.hash(secret)
    inv = (
        Invitation.objects.filter(token_hash=h).first()
        or Invitation.objects.filter(code_hash=h).first()
    )
    return inv if inv is not None and inv.is_open else None


@transaction.atomic
def invitation_accept(*, user: Any, secret: str) -> Couple:
    if user.role != "member":
        raise ValidationError("Therapist and administrator accounts can't join a couple space.")
    inv = invitation_find(secret)
    if inv is None:
        raise ValidationError({"code": INVALID_INVITATION})
    # Lock the invitation row so two people using the same link at once can't both join.
    inv = Invitation.objects.select_for_update().get(pk=inv.pk)
    if not inv.is_open:
        raise ValidationError({"code": INVALID_INVITATION})
    if active_membership(user) is not None:
        raise ValidationError(
            {"code": "You are already in a couple space. Leave it first to join another."}
        )
    active = Membership.objects.filter(couple=inv.couple, left_at__isnull=True)
    if active.count() >= Membership.MAX_ACTIVE:
        raise ValidationError({"code": INVALID_INVITATION})
    try:
        Membership.objects.create(couple=inv.couple, user=user)
    except IntegrityError:
        raise ValidationError({"code": "You are already in a couple space."}) from None
    inv.used_at = timezone.now()
    inv.used_by = user
    inv.save(update_fields=["used_at", "used_by"])
    for m in active.select_related("user"):
        audit(owner=m.user, actor=user, action=AuditEvent.Action.PARTNER_JOINED)
    return inv.couple


@transaction.atomic
def couple_leave(*, user: Any) -> None:
    """Leave at once, alone, with no approval (security.md R54).

    Leaving ends the couple space for both members: each keeps their own entries, and from the
    next request neither sees the other's. Ending the space (rather than leaving the other
    member in it) means a later partner can never inherit entries that were shared with the
    former one: to share an old entry again, its author chooses its audience again.
    """
    membership = active_membership(user)
    if membership is None:
        return
    now = timezone.now()
    couple = membership.couple
    others = list(
        Membership.objects.filter(couple=couple, left_at__isnull=True)
        .exclude(user=user)
        .select_related("user")
    )
    Membership.objects.filter(couple=couple, left_at__isnull=True).update(left_at=now)
    Consent.objects.filter(link__couple=couple, withdrawn_at__isnull=True).update(withdrawn_at=now)
    TherapistLink.objects.filter(couple=couple, ended_at__isnull=True).update(ended_at=now)
    Invitation.objects.filter(
        couple=couple, used_at__isnull=True, cancelled_at__isnull=True
    ).update(cancelled_at=now)
    audit(owner=user, actor=user, action=AuditEvent.Action.LEFT_COUPLE)
    for m in others:
        # The other person sees a neutral fact, never a reason and never who pressed the button.
        audit(owner=m.user, actor=None, action=AuditEvent.Action.SPACE_ENDED)


@transaction.atomic
def therapist_link_create(*, therapist: Any, couple: Couple) -> TherapistLink:
    """The model the therapist issue builds its invitation flow on."""
    if therapist.role != "therapist":
        raise ValidationError("Only a therapist account can be linked to a couple.")
    link, _ = TherapistLink.objects.get_or_create(couple=couple, therapist=therapist, ended_at=None)
    return link


@transaction.atomic
def therapist_link_end(*, link: TherapistLink) -> None:
    now = timezone.now()
    link.ended_at = now
    link.save(update_fields=["ended_at"])
    link.consents.filter(withdrawn_at__isnull=True).update(withdrawn_at=now)


@transaction.atomic
def consent_grant(
    *,
    grantor: Any,
    link: TherapistLink,
    scopes: list[str],
    purpose: str,
    expires_at: datetime,
) -> Consent:
    """One partner consents for themselves only; never for the other partner."""
    if link.ended_at is not None:
        raise ValidationError("This therapist link has ended.")
    if not Membership.objects.filter(
        couple=link.couple, user=grantor, left_at__isnull=True
    ).exists():
        raise ValidationError("Only a member of this couple space can give consent.")
    known = {et.label for et in entry_types()}
    bad = [s for s in scopes if s not in known]
    if bad or not scopes:
        raise ValidationError({"scopes": "Choose at least one kind of entry from the list."})
    if expires_at <= timezone.now():
        raise ValidationError({"expires_at": "Choose an end date in the future."})
    if not purpose.strip():
        raise ValidationError({"purpose": "Say what the therapist may use this for."})
    consent = Consent.objects.create(
        link=link,
        grantor=grantor,
        therapist=link.therapist,
        purpose=purpose.strip()[:200],
        expires_at=expires_at,
    )
    ConsentScope.objects.bulk_create(
        [ConsentScope(consent=consent, entry_type=s) for s in set(scopes)]
    )
    audit(
        owner=grantor,
        actor=grantor,
        action=AuditEvent.Action.CONSENT_GIVEN,
        detail={"therapist": str(link.therapist_id), "scopes": sorted(set(scopes))},
    )
    return consent


@transaction.atomic
def consent_withdraw(*, grantor: Any, consent: Consent) -> None:
    if consent.grantor_id != grantor.pk:
        raise PermissionError("Only the person who gave consent can withdraw it.")
    if consent.withdrawn_at is None:
        consent.withdrawn_at = timezone.now()
        consent.save(update_fields=["withdrawn_at"])
        audit(
            owner=grantor,
            actor=grantor,
            action=AuditEvent.Action.CONSENT_WITHDRAWN,
            detail={"therapist": str(consent.therapist_id)},
        )
