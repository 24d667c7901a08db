from __future__ import annotations

from typing import Any

from .models import Consent, Invitation, Membership


def partner_of(user: Any) -> Any:
    """The other current member of the user's couple space, or None."""
    mine = Membership.objects.filter(user=user, left_at__isnull=True).values("couple_id")
    m = (
        Membership.objects.filter(couple_id__in=mine, left_at__isnull=True)
        .exclude(user=user)
        .select_related("user")
        .first()
    )
    return m.user if m else None


def membership_and_partner(user: Any) -> tuple[Membership | None, Any]:
    """The user's current membership and the other current member of that couple space (or
    None), in one query."""
    mine = Membership.objects.filter(user=user, left_at__isnull=True).values("couple_id")
    rows = list(
        Membership.objects.filter(couple_id__in=mine, left_at__isnull=True)
        .select_related("user")
        .order_by("joined_at")[:2]
    )
    membership = next((m for m in rows if m.user_id == user.pk), None)
    partner = next((m.user for m in rows if m.user_id != user.pk), None)
    return membership, partner


def open_invitation_for(user: Any) -> Invitation | None:
    mine = Membership.objects.filter(user=user, left_at__isnull=True).values("couple_id")
    inv = (
        Invitation.objects.filter(
            couple_id__in=mine, used_at__isnull=True, cancelled_at__isnull=True
        )
        .order_by("-created_at")
        .first()
    )
    return inv if inv is not None and inv.is_open else None


def consents_given_by(user: Any) -> Any:
    return (
        Consent.objects.filter(grantor=user)
        .select_related("therapist", "link")
        .prefetch_related("scopes")
        .order_by("-given_at")
    )
