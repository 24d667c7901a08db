"""The therapist workspace (SPEC C14): clinics, a therapist's invitation that links a couple,
homework, appointments (sessions and boosters) and the therapist's own private notes.

What a therapist may *read* of a couple is never decided here: each partner's Consent
(trellis.couples) and the one sharing policy decide it. Homework completions are entries
(`homework`), so a therapist sees a completion only when the partner shared it with them.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from trellis.lib.crypto import EncryptedTextField
from trellis.sharing.audiences import Audience
from trellis.sharing.models import SharedEntry
from trellis.sharing.registry import register

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def hash_secret(raw: str) -> str:
    raw = raw.strip()
    return hashlib.sha256((raw.upper() if len(raw) <= 12 else raw).encode()).hexdigest()


class Clinic(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=120)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name


class ClinicMember(models.Model):
    """A person's place in a clinic: an administrator (who manages therapists and sees no
    entries) or a therapist. Ended, never deleted."""

    class Role(models.TextChoices):
        ADMIN = "admin", "Administrator"
        THERAPIST = "therapist", "Therapist"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="clinic_memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices)
    joined_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "user"],
                condition=Q(ended_at__isnull=True),
                name="one_active_clinic_role",
            )
        ]


class ClinicInvitation(models.Model):
    """A clinic administrator's single-use, expiring invitation for a therapist to join."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    used_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)

    @property
    def is_open(self) -> bool:
        return (
            self.used_at is None and self.cancelled_at is None and self.expires_at > timezone.now()
        )


class LinkInvitation(models.Model):
    """A therapist's single-use, expiring invitation for a couple to link with them: a link
    token and an 8-character code. Linking shows the therapist nothing until a partner
    consents; each partner consents for themselves."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    therapist = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="link_invitations"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    code_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    used_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    link = models.ForeignKey(
        "couples.TherapistLink", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)

    @staticmethod
    def new_secrets() -> tuple[str, str]:
        token = secrets.token_urlsafe(32)
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))
        return token, code

    @property
    def is_open(self) -> bool:
        return (
            self.used_at is None and self.cancelled_at is None and self.expires_at > timezone.now()
        )


class Homework(models.Model):
    """Something a therapist asks of one or both partners by a date. The kind says what it
    points at: a journal prompt, a weekly-meeting prompt set, a free task, and kinds the later
    capabilities fill in (a questionnaire, a reading, a sensate-focus step), each named by
    `ref`. Its words are the therapist's and are encrypted."""

    class Kind(models.TextChoices):
        JOURNAL_PROMPT = "journal_prompt", "A journal prompt"
        MEETING_PROMPTS = "meeting_prompts", "A weekly-meeting prompt set"
        TASK = "task", "A task"
        QUESTIONNAIRE = "questionnaire", "A questionnaire"
        READING = "reading", "A reading"
        SENSATE_STEP = "sensate_step", "A sensate-focus step"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    link = models.ForeignKey(
        "couples.TherapistLink", on_delete=models.CASCADE, related_name="homework"
    )
    # Denormalised from the link so lists are one indexed lookup.
    couple = models.ForeignKey("couples.Couple", on_delete=models.CASCADE, related_name="+")
    therapist = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="homework_assigned"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    ref = models.CharField(
        max_length=80,
        blank=True,
        help_text="What the kind points at: a journal prompt key, a prompt set id, a stage…",
    )
    title = EncryptedTextField()
    instructions = EncryptedTextField(blank=True, default="")
    due_on = models.DateField()
    created_at = models.DateTimeField(default=timezone.now)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    # Retried creates with the same key give back the same homework (never two).
    idempotency_key = models.CharField(max_length=80, blank=True, default="")

    class Meta:
        ordering = ["due_on", "created_at"]
        indexes = [models.Index(fields=["couple", "due_on"], name="homework_couple_due")]
        constraints = [
            models.UniqueConstraint(
                fields=["therapist", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="homework_idempotent",
            )
        ]

    def __str__(self) -> str:
        return f"Homework {self.pk}"


class HomeworkAssignment(models.Model):
    """Homework for one partner: each partner sees and completes only their own."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    homework = models.ForeignKey(Homework, on_delete=models.CASCADE, related_name="assignments")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="homework"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["homework", "assignee"], name="one_assignment_each")
        ]


@register(
    label="homework",
    verbose_name="Homework I completed",
    default_audience=Audience.PARTNER_THERAPIST,
    detail_url_name="clinic:completion",
)
class HomeworkCompletion(SharedEntry):
    """A partner's "done", with an optional note. It is an entry like any other: its audience
    decides whether the partner or the therapist sees that it was done."""

    assignment = models.OneToOneField(
        HomeworkAssignment, on_delete=models.CASCADE, related_name="completion"
    )
    note = EncryptedTextField(blank=True, default="")

    def __str__(self) -> str:
        return f"Homework completion {self.pk}"


class Appointment(models.Model):
    """A session or a booster session the therapist schedules with a linked couple."""

    class Kind(models.TextChoices):
        SESSION = "session", "Session"
        BOOSTER = "booster", "Booster session"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    link = models.ForeignKey(
        "couples.TherapistLink", on_delete=models.CASCADE, related_name="appointments"
    )
    couple = models.ForeignKey("couples.Couple", on_delete=models.CASCADE, related_name="+")
    therapist = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="appointments"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.SESSION)
    starts_at = models.DateTimeField()
    minutes = models.PositiveSmallIntegerField(default=50)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["starts_at"]
        indexes = [models.Index(fields=["therapist", "starts_at"], name="appointment_when")]


class SessionNote(models.Model):
    """The therapist's own note: a session note, a booster-session note or a referral note
    (e.g. to a physician when a physical cause is suspected). Nobody else ever reads it — not
    the partners, not another therapist, not the clinic administrator."""

    class Kind(models.TextChoices):
        SESSION = "session", "Session note"
        BOOSTER = "booster", "Booster-session note"
        REFERRAL = "referral", "Referral note"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    therapist = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="session_notes"
    )
    link = models.ForeignKey(
        "couples.TherapistLink", on_delete=models.CASCADE, related_name="session_notes"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.SESSION)
    on_date = models.DateField()
    body = EncryptedTextField()
    referral_to = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-on_date", "-created_at"]
        indexes = [models.Index(fields=["therapist", "link"], name="note_owner")]

    def __str__(self) -> str:
        return f"Session note {self.pk}"
