"""The weekly couple meeting (SPEC C4): private answers revealed together, then a guided talk."""

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


class PromptSet(models.Model):
    """A therapist-authored set of weekly prompts (built-in sets live in prompts.py)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    title = models.CharField(max_length=120)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="prompt_sets"
    )
    couple = models.ForeignKey(
        "couples.Couple",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="prompt_sets",
        help_text="Offered to this couple only; empty: to every couple the therapist follows.",
    )
    created_at = models.DateTimeField(default=timezone.now)
    archived_at = models.DateTimeField(null=True, blank=True)


class PromptSetItem(models.Model):
    prompt_set = models.ForeignKey(PromptSet, on_delete=models.CASCADE, related_name="items")
    order = models.PositiveSmallIntegerField()
    section = models.CharField(max_length=30)
    text = models.CharField(max_length=300)

    class Meta:
        ordering = ["order"]
        constraints = [
            models.UniqueConstraint(fields=["prompt_set", "order"], name="prompt_item_order")
        ]


class Meeting(models.Model):
    """One week's meeting of a couple. Holds no one's words: only the prompts (a snapshot, so a
    later edit of a prompt set never changes a past meeting) and the state of the reveal."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    couple = models.ForeignKey("couples.Couple", on_delete=models.CASCADE, related_name="meetings")
    week_of = models.DateField(help_text="The Monday of the meeting's week.")
    prompt_set_title = models.CharField(max_length=120)
    prompts = models.JSONField(default=list)  # [{"key", "section", "text"}]
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    revealed_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-week_of"]
        constraints = [
            models.UniqueConstraint(fields=["couple", "week_of"], name="one_meeting_per_week")
        ]

    def __str__(self) -> str:
        return f"Meeting {self.pk}"


@register(
    label="meeting_answer",
    verbose_name="Weekly meeting answers",
    default_audience=Audience.PARTNER,
    detail_url_name="meetings:answer",
)
class MeetingAnswer(SharedEntry):
    """One partner's private answers to a meeting's prompts. Nobody else sees them until both
    partners have submitted; then both are revealed together and become final."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="answers")
    answers = EncryptedTextField(default="{}")  # JSON {prompt key: text}
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["meeting", "author"], name="one_answer_per_partner")
        ]

    def __str__(self) -> str:
        return f"Meeting answer {self.pk}"

    @classmethod
    def sharing_gate(cls) -> Q:
        # "Nobody goes first": no one but the author reads an answer before the reveal.
        return Q(meeting__revealed_at__isnull=False)


@register(
    label="meeting_note",
    verbose_name="Meeting notes and next steps",
    default_audience=Audience.PARTNER,
    detail_url_name="meetings:note",
)
class MeetingNote(SharedEntry):
    """Something one partner writes during the guided conversation: a note, an I-statement,
    a reflection ("did I get that right?") or an agreed next step. Each is its own row, so two
    partners writing at the same moment never overwrite each other."""

    class Kind(models.TextChoices):
        NOTE = "note", "Note"
        I_STATEMENT = "i_statement", "I-statement"
        REFLECTION = "reflection", "Reflection"
        NEXT_STEP = "next_step", "Agreed next step"

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="notes")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.NOTE)
    text = EncryptedTextField()
    # For a reflection: did the speaker confirm it? None: not answered yet.
    confirmed = models.BooleanField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"Meeting note {self.pk}"
