"""Recovery (SPEC C7): tracks with lapse-aware counting, lapses as learnable events, the
relapse-prevention plan and the "I'm struggling" message. Every one of them is an entry and goes
through `sharing`: the person chooses who sees each."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from trellis.lib.crypto import EncryptedTextField
from trellis.sharing.audiences import Audience
from trellis.sharing.models import SharedEntry
from trellis.sharing.registry import register


@register(
    label="recovery_track",
    verbose_name="Recovery tracks and milestones",
    default_audience=Audience.PARTNER,
    detail_url_name="recovery:track",
)
class RecoveryTrack(SharedEntry):
    """What a person is recovering from, since when, and the goal in their own terms. The
    audience is who sees the day count and celebrates its milestones."""

    class Kind(models.TextChoices):
        SUBSTANCE = "substance", "A substance"
        BEHAVIOUR = "behaviour", "A behaviour"

    class Goal(models.TextChoices):
        ABSTINENCE = "abstinence", "Not at all (abstinence)"
        BOUNDARIES = "boundaries", "Within boundaries I define (inner, middle and outer circles)"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    what = EncryptedTextField(help_text="In your own words, e.g. alcohol, gambling.")
    since = models.DateField()
    goal_kind = models.CharField(max_length=20, choices=Goal.choices, default=Goal.ABSTINENCE)
    goal = EncryptedTextField(blank=True, default="")
    inner_circle = EncryptedTextField(blank=True, default="")
    middle_circle = EncryptedTextField(blank=True, default="")
    outer_circle = EncryptedTextField(blank=True, default="")
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["since"]

    def __str__(self) -> str:
        return f"Recovery track {self.pk}"


@register(
    label="recovery_lapse",
    verbose_name="Lapses and what I learned",
    default_audience=Audience.ONLY_ME,
    detail_url_name="recovery:lapse",
)
class Lapse(SharedEntry):
    """A lapse, logged as a specific event to learn from: what led to it, what helps now, who
    to tell, the impact acknowledged and the steps against a recurrence. It ends a run of days;
    it never erases the days before it."""

    track = models.ForeignKey(RecoveryTrack, on_delete=models.CASCADE, related_name="lapses")
    local_date = models.DateField(help_text="The day it happened, in the person's calendar.")
    what_led = EncryptedTextField(blank=True, default="")
    what_helps = EncryptedTextField(blank=True, default="")
    who_to_tell = EncryptedTextField(blank=True, default="")
    impact = EncryptedTextField(blank=True, default="")
    prevention = EncryptedTextField(blank=True, default="")

    class Meta:
        ordering = ["-local_date", "-created_at"]
        indexes = [models.Index(fields=["track", "local_date"], name="lapse_track_day")]

    def __str__(self) -> str:
        return f"Lapse {self.pk}"


@register(
    label="recovery_plan",
    verbose_name="Relapse-prevention plan",
    default_audience=Audience.PARTNER_THERAPIST,
    detail_url_name="recovery:plan",
)
class RecoveryPlan(SharedEntry):
    """A person's relapse-prevention plan (Marlatt & Gordon structure), one per person. The
    content is one encrypted JSON document (see `plan.py` for its shape); every saved version
    is kept as a `PlanRevision`."""

    content = EncryptedTextField(default="{}")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["author"], name="one_plan_per_person")]

    def __str__(self) -> str:
        return f"Recovery plan {self.pk}"


class PlanRevision(models.Model):
    """The plan as it was saved at one version (the author's alone; never shown to others)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    plan = models.ForeignKey(RecoveryPlan, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    content = EncryptedTextField(default="{}")
    audience = models.CharField(max_length=20, choices=Audience.choices)
    saved_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="one_plan_revision_number")
        ]


@register(
    label="support_message",
    verbose_name='"I\'m struggling" messages',
    default_audience=Audience.PARTNER,
    detail_url_name="recovery:message",
)
class SupportMessage(SharedEntry):
    """A discreet "I'm having a hard moment" sent from the struggling page to the people the
    person chose. Its optional note is shown in the app only, never in an email."""

    note = EncryptedTextField(blank=True, default="")
    emailed = models.PositiveSmallIntegerField(default=0)  # how many support contacts were told
    seen_at = models.DateTimeField(null=True, blank=True)
    seen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reply = models.CharField(max_length=40, blank=True)  # one of REPLIES' keys

    REPLIES = {
        "here": "I'm here. Call me when you can.",
        "coming": "I'm on my way to you.",
        "later": "I saw this. Let's talk tonight.",
    }

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Support message {self.pk}"
