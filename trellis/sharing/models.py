from __future__ import annotations

import uuid
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .audiences import Audience


class SharedEntry(models.Model):
    """Base of every entry type: an author, the couple it was shared into, an audience.

    `couple` is the author's couple space at the moment they last chose the audience. "My
    partner" therefore means the partner at that time, and only while both are still members:
    leaving a couple (or a new partner joining a new space) never widens who sees an old entry.
    """

    entry_type_label: ClassVar[str] = ""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    couple = models.ForeignKey(
        "couples.Couple", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    audience = models.CharField(max_length=20, choices=Audience.choices, default=Audience.ONLY_ME)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        abstract = True

    @classmethod
    def sharing_gate(cls) -> Q | None:
        """An extra condition an entry type may put on every reader other than the author
        (e.g. a meeting answer stays hidden until both partners have answered). None: no gate."""
        return None


class AudiencePreference(models.Model):
    """A person's default audience for new entries of one type."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="audience_preferences"
    )
    entry_type = models.CharField(max_length=60)
    audience = models.CharField(max_length=20, choices=Audience.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "entry_type"], name="one_default_per_type")
        ]


class AuditEvent(models.Model):
    """What happened to someone's data, for that person to see. Never holds entry content.

    `owner` is whose data it concerns (the author); `actor` who did it. Reads by anyone other
    than the author are recorded once per reader, entry and day.
    """

    class Action(models.TextChoices):
        READ = "read", "Read"
        AUDIENCE_CHANGED = "audience_changed", "Changed who can see it"
        EXPORTED = "exported", "Exported"
        CREATED = "created", "Created"
        EDITED = "edited", "Edited"
        DELETED = "deleted", "Deleted"
        CONSENT_GIVEN = "consent_given", "Gave a therapist consent"
        CONSENT_WITHDRAWN = "consent_withdrawn", "Withdrew a therapist's consent"
        PARTNER_JOINED = "partner_joined", "A partner joined the couple space"
        LEFT_COUPLE = "left_couple", "Left the couple space"
        SPACE_ENDED = "space_ended", "Sharing in the couple space ended"
        TOKEN_CREATED = "token_created", "Created an API token"
        TOKEN_REVOKED = "token_revoked", "Revoked an API token"
        THERAPIST_LINKED = "therapist_linked", "Linked the couple space with a therapist"
        THERAPIST_LINK_ENDED = "therapist_link_ended", "A therapist link ended"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    at = models.DateTimeField(default=timezone.now)
    day = models.DateField()
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="audit_events"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_role = models.CharField(max_length=20, blank=True)  # partner / therapist / self
    action = models.CharField(max_length=30, choices=Action.choices)
    entry_type = models.CharField(max_length=60, blank=True)
    entry_id = models.UUIDField(null=True, blank=True)
    channel = models.CharField(max_length=20, blank=True)  # page / fragment / api / export
    detail = models.JSONField(default=dict, blank=True)  # labels only, never content

    class Meta:
        ordering = ["-at"]
        indexes = [
            models.Index(fields=["owner", "-at"], name="audit_owner_recent"),
            models.Index(fields=["entry_type", "entry_id"], name="audit_entry"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["actor", "entry_id", "day"],
                condition=Q(action="read"),
                name="one_read_row_per_reader_entry_day",
            )
        ]
