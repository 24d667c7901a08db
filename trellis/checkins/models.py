"""The daily check-in (about a minute) and the optional daily trust moment (SPEC C3)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from trellis.lib.crypto import EncryptedTextField
from trellis.sharing.audiences import Audience
from trellis.sharing.models import SharedEntry
from trellis.sharing.registry import register

SCALE_FIELDS = ("mood", "stress", "sleep", "closeness", "safety")
OPTIONAL_SCALE_FIELDS = ("desire", "arousal", "fatigue")
HALT_FIELDS = ("halt_hungry", "halt_angry", "halt_lonely", "halt_tired")
HALT_LABELS = {
    "halt_hungry": "Hungry",
    "halt_angry": "Angry",
    "halt_lonely": "Lonely",
    "halt_tired": "Tired",
}
CRAVING_MAX = 10


def _scale(label: str, *, optional: bool = False) -> models.PositiveSmallIntegerField:
    return models.PositiveSmallIntegerField(label, null=optional, blank=optional)


@register(
    label="checkin",
    verbose_name="Daily check-in",
    default_audience=Audience.PARTNER,
    detail_url_name="checkins:detail",
)
class DailyCheckin(SharedEntry):
    class Recovery(models.TextChoices):
        NOT_ASKED = "", "Not asked"
        KEPT = "kept", "Yes, I kept my recovery today"
        LAPSE = "lapse", "There was a lapse"
        IN_PERSON = "in_person", "I'd rather tell you in person"

    local_date = models.DateField()
    mood = _scale("Mood")
    stress = _scale("Stress")
    sleep = _scale("Sleep quality")
    closeness = _scale("Closeness")
    safety = _scale("Emotional safety")
    desire = _scale("Desire", optional=True)
    arousal = _scale("Arousal", optional=True)
    fatigue = _scale("Fatigue", optional=True)
    craving = models.PositiveSmallIntegerField("Craving", null=True, blank=True)
    recovery = models.CharField(max_length=12, choices=Recovery.choices, blank=True, default="")
    halt_hungry = models.BooleanField("Hungry", default=False)
    halt_angry = models.BooleanField("Angry", default=False)
    halt_lonely = models.BooleanField("Lonely", default=False)
    halt_tired = models.BooleanField("Tired", default=False)
    gratitude = EncryptedTextField(blank=True, default="")
    note = EncryptedTextField(blank=True, default="")

    class Meta:
        ordering = ["-local_date"]
        constraints = [
            models.UniqueConstraint(fields=["author", "local_date"], name="one_checkin_per_day"),
            models.CheckConstraint(
                condition=Q(mood__gte=1, mood__lte=5)
                & Q(stress__gte=1, stress__lte=5)
                & Q(sleep__gte=1, sleep__lte=5)
                & Q(closeness__gte=1, closeness__lte=5)
                & Q(safety__gte=1, safety__lte=5),
                name="checkin_scales_1_to_5",
            ),
            models.CheckConstraint(
                condition=Q(craving__isnull=True) | Q(craving__lte=CRAVING_MAX),
                name="checkin_craving_0_to_10",
            ),
        ]
        indexes = [
            models.Index(fields=["author", "-local_date"], name="checkin_author_day"),
            models.Index(fields=["couple", "audience"], name="checkin_couple_audience"),
        ]

    def __str__(self) -> str:
        return f"Check-in {self.pk}"

    @property
    def halt(self) -> list[str]:
        return [HALT_LABELS[f] for f in HALT_FIELDS if getattr(self, f)]


class CheckinRevision(models.Model):
    """The values a check-in held before each same-day edit (history kept, encrypted)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    checkin = models.ForeignKey(DailyCheckin, on_delete=models.CASCADE, related_name="revisions")
    version = models.PositiveIntegerField()
    data = EncryptedTextField()  # JSON of the previous values
    saved_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(fields=["checkin", "version"], name="one_revision_per_version")
        ]


@register(
    label="trust_moment",
    verbose_name="Daily trust moment",
    default_audience=Audience.PARTNER,
    detail_url_name="checkins:trust_detail",
)
class TrustMoment(SharedEntry):
    """A BCT-style daily trust moment, adapted: the person in recovery states today's intention,
    the partner acknowledges it. Self-reported, never enforced; either partner can pause it."""

    local_date = models.DateField()
    intention = EncryptedTextField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    response = EncryptedTextField(blank=True, default="")

    class Meta:
        ordering = ["-local_date"]
        constraints = [
            models.UniqueConstraint(
                fields=["author", "local_date"], name="one_trust_moment_per_day"
            )
        ]

    def __str__(self) -> str:
        return f"Trust moment {self.pk}"


class TrustPractice(models.Model):
    """Per couple: whether the daily trust moment is paused. Either partner pauses alone, at
    once, without a reason; only the person who paused it resumes it."""

    couple = models.OneToOneField(
        "couples.Couple", on_delete=models.CASCADE, related_name="trust_practice"
    )
    paused_at = models.DateTimeField(null=True, blank=True)
    paused_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
