from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from trellis.lib.crypto import EncryptedTextField


class RecoveryTrack(models.Model):
    """What a person is recovering from and since when (profile data; the tracker itself,
    runs, milestones and lapses, belong to the recovery capability)."""

    class Kind(models.TextChoices):
        SUBSTANCE = "substance", "A substance"
        BEHAVIOUR = "behaviour", "A behaviour"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="recovery_tracks"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    what = EncryptedTextField(help_text="In your own words, e.g. alcohol, gambling.")
    since = models.DateField()
    created_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["since"]
