from __future__ import annotations

from django.conf import settings
from django.db import models

from trellis.lib.crypto import EncryptedTextField
from trellis.sharing.audiences import Audience
from trellis.sharing.models import SharedEntry
from trellis.sharing.registry import register


@register(
    label="journal",
    verbose_name="Journal entry",
    default_audience=Audience.ONLY_ME,
    detail_url_name="journal:detail",
)
class JournalEntry(SharedEntry):
    """A journal or gratitude entry. The model entry type every other one copies."""

    class Kind(models.TextChoices):
        JOURNAL = "journal", "Journal"
        GRATITUDE = "gratitude", "Gratitude"

    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.JOURNAL)
    title = EncryptedTextField(blank=True, default="")
    body = EncryptedTextField()
    prompt_key = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["author", "-created_at"], name="journal_author_recent"),
            models.Index(fields=["couple", "audience"], name="journal_couple_audience"),
        ]
        verbose_name_plural = "journal entries"

    def __str__(self) -> str:
        return f"Journal entry {self.pk}"  # never the content (logs, admin, errors)


class IdempotencyKey(models.Model):
    """Makes an offline re-send of the same new entry land exactly once (security.md R48)."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=80)
    fingerprint = models.CharField(max_length=64)
    entry = models.ForeignKey(JournalEntry, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["owner", "key"], name="journal_idem_owner_key")
        ]
