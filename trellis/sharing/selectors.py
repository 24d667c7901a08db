from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from .models import AuditEvent


def audit_events_for_owner(owner: Any) -> QuerySet[AuditEvent]:
    """Everything recorded about the owner's data: who read, what changed, what was exported."""
    return AuditEvent.objects.filter(owner=owner).select_related("actor")


def readers_of_entry(owner: Any, entry: Any) -> QuerySet[AuditEvent]:
    return (
        AuditEvent.objects.filter(owner=owner, entry_type=entry.entry_type_label, entry_id=entry.pk)
        .exclude(actor=owner)
        .select_related("actor")
        .order_by("-at")
    )
