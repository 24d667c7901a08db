"""Every write to journal entries: keyword-only, typed, one transaction, audited."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from trellis.sharing.models import AuditEvent
from trellis.sharing.policy import audit
from trellis.sharing.services import current_couple_id, validate_audience

from .models import IdempotencyKey, JournalEntry
from .prompts import BY_KEY

MAX_BODY = 20_000
MAX_TITLE = 200


class StaleVersion(Exception):
    """The entry changed since the editor loaded it (optimistic concurrency, R49)."""

    def __init__(self, current: JournalEntry):
        self.current = current


class IdempotencyMismatch(Exception):
    """The same idempotency key was used for a different entry."""


def _clean(*, title: str, body: str, kind: str, prompt_key: str) -> dict[str, Any]:
    errors: dict[str, str] = {}
    body = (body or "").strip()
    title = (title or "").strip()
    if not body:
        errors["body"] = "Write something before saving."
    elif len(body) > MAX_BODY:
        errors["body"] = f"Keep an entry under {MAX_BODY:,} characters."
    if len(title) > MAX_TITLE:
        errors["title"] = f"Keep the title under {MAX_TITLE} characters."
    if kind not in JournalEntry.Kind.values:
        errors["kind"] = "Choose journal or gratitude."
    if prompt_key and prompt_key not in BY_KEY:
        errors["prompt_key"] = "That prompt does not exist."
    if errors:
        raise ValidationError(errors)
    return {"title": title, "body": body, "kind": kind, "prompt_key": prompt_key}


def _fingerprint(data: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


@transaction.atomic
def journal_entry_create(
    *,
    author: Any,
    body: str,
    audience: str,
    title: str = "",
    kind: str = JournalEntry.Kind.JOURNAL,
    prompt_key: str = "",
    idempotency_key: str = "",
    channel: str = "page",
) -> tuple[JournalEntry, bool]:
    """Create an entry. Returns (entry, created); a repeated idempotency key returns the first."""
    data = _clean(title=title, body=body, kind=kind, prompt_key=prompt_key)
    aud = validate_audience(author, audience, JournalEntry.entry_type_label)
    if idempotency_key:
        if len(idempotency_key) > 80:
            raise ValidationError({"idempotency_key": "Use at most 80 characters."})
        fp = _fingerprint({**data, "audience": str(aud)})
        prior = IdempotencyKey.objects.filter(owner=author, key=idempotency_key).first()
        if prior is not None:
            if prior.fingerprint != fp:
                raise IdempotencyMismatch
            return prior.entry, False
    now = timezone.now()
    entry = JournalEntry.objects.create(
        author=author,
        couple_id=current_couple_id(author),
        audience=aud,
        created_at=now,
        updated_at=now,
        **data,
    )
    if idempotency_key:
        try:
            with transaction.atomic():
                IdempotencyKey.objects.create(
                    owner=author, key=idempotency_key, fingerprint=fp, entry=entry
                )
        except IntegrityError:
            # A concurrent twin won the race: undo ours, hand back theirs.
            transaction.set_rollback(True)
            prior = IdempotencyKey.objects.get(owner=author, key=idempotency_key)
            if prior.fingerprint != fp:
                raise IdempotencyMismatch from None
            return prior.entry, False
    audit(
        owner=author, actor=author, action=AuditEvent.Action.CREATED, entry=entry, channel=channel
    )
    return entry, True


@transaction.atomic
def journal_entry_update(
    *,
    author: Any,
    entry: JournalEntry,
    body: str,
    title: str = "",
    expected_version: int,
    channel: str = "page",
) -> JournalEntry:
    if entry.author_id != author.pk:
        raise PermissionError("Only the author edits an entry.")
    data = _clean(title=title, body=body, kind=entry.kind, prompt_key=entry.prompt_key)
    # Compare-and-set on the version: of two writers who loaded version v, exactly one wins.
    updated = JournalEntry.objects.filter(pk=entry.pk, version=expected_version).update(
        # Clear text here: update() runs the field's get_prep_value, which encrypts (once).
        title=data["title"],
        body=data["body"],
        version=expected_version + 1,
        updated_at=timezone.now(),
    )
    if not updated:
        raise StaleVersion(JournalEntry.objects.get(pk=entry.pk))
    entry.refresh_from_db()
    audit(owner=author, actor=author, action=AuditEvent.Action.EDITED, entry=entry, channel=channel)
    return entry


@transaction.atomic
def journal_entry_delete(*, author: Any, entry: JournalEntry, channel: str = "page") -> None:
    if entry.author_id != author.pk:
        raise PermissionError("Only the author deletes an entry.")
    audit(
        owner=author, actor=author, action=AuditEvent.Action.DELETED, entry=entry, channel=channel
    )
    entry.delete()
