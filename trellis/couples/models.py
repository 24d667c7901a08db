"""Couple spaces, partner invitations, therapist links and per-partner consent.

Membership rows are never deleted when someone leaves: `left_at` is set, so the history of who
was a partner when stays true, and the sharing policy can tell a current from a former partner.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Couple(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=80, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    def __str__(self) -> str:
        return self.name or "Couple space"


class Membership(models.Model):
    MAX_ACTIVE = 2

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    couple = models.ForeignKey(Couple, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    joined_at = models.DateTimeField(default=timezone.now)
    left_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # A person is an active member of at most one couple space at a time.
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(left_at__isnull=True),
                name="one_active_couple_per_user",
            ),
        ]
        indexes = [models.Index(fields=["couple", "left_at"], name="membership_couple_active")]


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: easy to read aloud


class Invitation(models.Model):
    """A single-use, expiring invitation to join a couple space: a link token and a short code."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    couple = models.ForeignKey(Couple, on_delete=models.CASCADE, related_name="invitations")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    code_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    used_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)

    @staticmethod
    def new_secrets() -> tuple[str, str]:
        token = secrets.token_urlsafe(32)
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))
        return token, code

    @staticmethod
    def hash(raw: str) -> str:
        return _hash(raw.strip().upper() if len(raw.strip()) <= 12 else raw.strip())

    @property
    def is_open(self) -> bool:
        return (
            self.used_at is None and self.cancelled_at is None and self.expires_at > timezone.now()
        )


class TherapistLink(models.Model):
    """A therapist follows a couple. It shows nothing by itself: each partner's Consent does."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    couple = models.ForeignKey(Couple, on_delete=models.CASCADE, related_name="therapist_links")
    therapist = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="therapist_links"
    )
    created_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["couple", "therapist"],
                condition=Q(ended_at__isnull=True),
                name="one_active_link_per_therapist_couple",
            )
        ]


class Consent(models.Model):
    """One partner's consent for a linked therapist to read some of their entries.

    Holds the elements a consent record needs (security.md R8): whose data (grantor), which
    categories (scopes), to whom (link.therapist), why (purpose), until when (expires_at),
    when given and when withdrawn. Only the grantor can give or withdraw it.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    link = models.ForeignKey(TherapistLink, on_delete=models.CASCADE, related_name="consents")
    grantor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="consents_given"
    )
    # Denormalised from link.therapist so the sharing policy is one indexed lookup.
    therapist = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="consents_received"
    )
    purpose = models.CharField(max_length=200)
    given_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["therapist", "grantor", "withdrawn_at"], name="consent_lookup")
        ]

    @property
    def is_active(self) -> bool:
        return self.withdrawn_at is None and self.expires_at > timezone.now()


class ConsentScope(models.Model):
    """One entry type a consent covers (a row each, so the policy can query it on any database)."""

    consent = models.ForeignKey(Consent, on_delete=models.CASCADE, related_name="scopes")
    entry_type = models.CharField(max_length=60)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["consent", "entry_type"], name="consent_scope_unique")
        ]
