"""Export of everything that is mine (SPEC C16, security.md R39). Entries come from sharing's
`authored_by`: an export never holds anything another person wrote."""

from __future__ import annotations

import uuid
from typing import Any

from django.utils import timezone

from trellis.recovery.models import RecoveryTrack
from trellis.sharing.models import AuditEvent
from trellis.sharing.policy import audit, authored_by
from trellis.sharing.registry import entry_types

EXPORT_FORMAT = "trellis-export/1"


def _entry_dict(entry: Any) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for field in entry._meta.concrete_fields:
        if field.name in {"author", "couple"}:
            continue
        value = getattr(entry, field.attname)
        data[field.name] = (
            value.isoformat()
            if hasattr(value, "isoformat")
            else (str(value) if isinstance(value, uuid.UUID) else value)
        )
    return data


def export_for(user: Any, *, channel: str = "export") -> dict[str, Any]:
    entries: dict[str, list[dict[str, Any]]] = {}
    for et in entry_types():
        entries[et.label] = [
            _entry_dict(e) for e in authored_by(user, et.model).order_by("created_at")
        ]
    data = {
        "format": EXPORT_FORMAT,
        "exported_at": timezone.now().isoformat(),
        "profile": {
            "email": user.email,
            "display_name": user.display_name,
            "pronouns": user.pronouns,
            "time_zone": user.time_zone,
        },
        "recovery_tracks": [
            {"kind": t.kind, "what": t.what, "since": t.since.isoformat()}
            for t in RecoveryTrack.objects.filter(author=user)
        ],
        "entries": entries,
    }
    audit(
        owner=user,
        actor=user,
        action=AuditEvent.Action.EXPORTED,
        channel=channel,
        detail={"counts": {k: len(v) for k, v in entries.items()}},
    )
    return data
