"""Agreements (SPEC C5): a living document both partners consent to, with its whole history.

The document belongs to a couple space (`Agreement`, couple-scoped, holds nobody's words). Its
words live in two entry types that go through `sharing` like every other entry:

- `AgreementProposal` ("agreement_proposal"): one partner's proposal to add, change or retire a
  clause, with a reason; the other partner accepts, declines or counter-proposes.
- `ClauseText` ("agreement_clause"): the wording of a clause as both partners accepted it,
  written when a proposal is accepted. Its author is whoever wrote the wording, so a therapist
  reads it only with that partner's consent.

A `Clause` is the identity of one clause across its wordings (never deleted: retired). Each
accepted proposal makes a new `AgreementVersion`, a snapshot of which wording of which clause
was in force, so any two versions can be shown side by side.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from trellis.lib.crypto import EncryptedTextField
from trellis.sharing.audiences import Audience
from trellis.sharing.models import SharedEntry
from trellis.sharing.registry import register


class Section(models.TextChoices):
    RECOVERY = "recovery", "Recovery commitments"
    OK = "ok", "What is OK"
    OFF_LIMITS = "off_limits", "What is off-limits"
    DIGITAL = "digital", "Digital boundaries"
    MONEY = "money", "Money"
    SEXUAL = "sexual", "Sexual boundaries"
    DISCLOSURE = "disclosure", "Disclosure preferences"


SECTION_ORDER = {value: i for i, value in enumerate(Section.values)}


class Agreement(models.Model):
    """A couple's agreement. `version` is the number of the document in force (0: nothing
    agreed yet). Every change happens under a row lock on this row."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    couple = models.OneToOneField(
        "couples.Couple", on_delete=models.CASCADE, related_name="agreement"
    )
    version = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Agreement {self.pk}"


class Clause(models.Model):
    """One clause across all its wordings. Retired, never deleted; it never lapses silently:
    past its review date it is shown as due for a look together, and stays in force."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="clauses")
    section = models.CharField(max_length=20, choices=Section.choices)
    created_at = models.DateTimeField(default=timezone.now)
    created_in = models.PositiveIntegerField()
    current = models.ForeignKey(
        "ClauseText", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    retired_at = models.DateTimeField(null=True, blank=True)
    retired_in = models.PositiveIntegerField(null=True, blank=True)
    review_on = models.DateField()
    review_every_days = models.PositiveIntegerField(default=90)
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"Clause {self.pk}"


class AgreementVersion(models.Model):
    """The document as it stood after one accepted proposal: which wording of which clause was
    in force, in reading order. Ids only, never words."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)
    proposal = models.ForeignKey(
        "AgreementProposal", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    kind = models.CharField(max_length=10, blank=True)  # add / change / retire
    clause = models.ForeignKey(Clause, on_delete=models.SET_NULL, null=True, related_name="+")
    # [[clause id, clause text id], ...] in reading order
    clauses = models.JSONField(default=list)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["agreement", "number"], name="one_version_number")
        ]

    def __str__(self) -> str:
        return f"Agreement version {self.number}"


@register(
    label="agreement_proposal",
    verbose_name="Agreement proposals",
    default_audience=Audience.PARTNER_THERAPIST,
    detail_url_name="agreements:proposal",
)
class AgreementProposal(SharedEntry):
    """A proposal to add, change or retire a clause. Made against the version its author was
    looking at (`base_version`): if the clause changes after that, the proposal is stale and
    its author rebases it before it can be accepted. Nothing is ever overwritten."""

    class Kind(models.TextChoices):
        ADD = "add", "Add a clause"
        CHANGE = "change", "Change a clause"
        RETIRE = "retire", "Retire a clause"

    class Status(models.TextChoices):
        OPEN = "open", "Waiting for an answer"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        COUNTERED = "countered", "Answered with a counter-proposal"
        WITHDRAWN = "withdrawn", "Withdrawn"

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="proposals")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    clause = models.ForeignKey(
        Clause, on_delete=models.CASCADE, null=True, blank=True, related_name="proposals"
    )
    section = models.CharField(max_length=20, choices=Section.choices)
    text = EncryptedTextField(blank=True, default="")
    rationale = EncryptedTextField(blank=True, default="")
    reason = EncryptedTextField(blank=True, default="")
    review_on = models.DateField(null=True, blank=True)
    base_version = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    counter_to = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="counters"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    # The answering partner's optional words when declining (shown with the proposal).
    response = EncryptedTextField(blank=True, default="")
    result_version = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["agreement", "status"], name="proposal_open")]

    def __str__(self) -> str:
        return f"Agreement proposal {self.pk}"


@register(
    label="agreement_clause",
    verbose_name="Agreement clauses",
    default_audience=Audience.PARTNER_THERAPIST,
    detail_url_name="agreements:clause_text",
)
class ClauseText(SharedEntry):
    """A clause's wording as both partners accepted it, in force from `in_version` until a
    later accepted change or retirement. Written once, never edited."""

    clause = models.ForeignKey(Clause, on_delete=models.CASCADE, related_name="texts")
    proposal = models.OneToOneField(
        AgreementProposal, on_delete=models.SET_NULL, null=True, related_name="clause_text"
    )
    section = models.CharField(max_length=20, choices=Section.choices)
    text = EncryptedTextField()
    rationale = EncryptedTextField(blank=True, default="")
    review_on = models.DateField()
    in_version = models.PositiveIntegerField()
    accepted_at = models.DateTimeField(default=timezone.now)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        ordering = ["in_version"]

    def __str__(self) -> str:
        return f"Clause text {self.pk}"


class AgreementReview(models.Model):
    """A review either partner may call at any time: both go through the clauses, keeping
    each or proposing a change. Holds no words."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="reviews")
    called_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    called_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-called_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement"],
                condition=models.Q(closed_at__isnull=True),
                name="one_open_review",
            )
        ]


class ClauseKeep(models.Model):
    """One partner's "this still works for me" about one clause in one review."""

    review = models.ForeignKey(AgreementReview, on_delete=models.CASCADE, related_name="keeps")
    clause = models.ForeignKey(Clause, on_delete=models.CASCADE, related_name="keeps")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["review", "clause", "user"], name="one_keep_each")
        ]
