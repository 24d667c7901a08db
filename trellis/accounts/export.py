"""Export of everything that is mine (SPEC C16, security.md R39). Entries come from sharing's
`authored_by`: an export never holds anything another person wrote. A partner's export adds the
consents they gave; a therapist's adds their own practice records (private notes, homework they
assigned, appointments) and carries the redisclosure notice (R9)."""

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


def _when(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _consents(user: Any) -> list[dict[str, Any]]:
    """Every consent I gave (withdrawn and expired ones too: the record is mine)."""
    from trellis.couples.models import Consent

    return [
        {
            "id": str(c.pk),
            "therapist": c.therapist.display_name,
            "scopes": sorted(s.entry_type for s in c.scopes.all()),
            "purpose": c.purpose,
            "given_at": _when(c.given_at),
            "expires_at": _when(c.expires_at),
            "withdrawn_at": _when(c.withdrawn_at),
        }
        for c in Consent.objects.filter(grantor=user)
        .select_related("therapist")
        .prefetch_related("scopes")
        .order_by("given_at")
    ]


def _practice(therapist: Any) -> dict[str, Any]:
    """The therapist's own records: what they wrote and scheduled, never a partner's entry."""
    from trellis.clinic.models import Appointment, Homework, SessionNote

    return {
        "notes": [
            {
                "id": str(n.pk),
                "link_id": str(n.link_id),
                "kind": n.kind,
                "on_date": n.on_date.isoformat(),
                "body": n.body,
                "referral_to": n.referral_to,
                "created_at": _when(n.created_at),
                "updated_at": _when(n.updated_at),
            }
            for n in SessionNote.objects.filter(therapist=therapist).order_by("created_at")
        ],
        "homework": [
            {
                "id": str(h.pk),
                "link_id": str(h.link_id),
                "kind": h.kind,
                "ref": h.ref,
                "title": h.title,
                "instructions": h.instructions,
                "due_on": h.due_on.isoformat(),
                "assignees": sorted(str(a.assignee_id) for a in h.assignments.all()),
                "created_at": _when(h.created_at),
                "cancelled_at": _when(h.cancelled_at),
            }
            for h in Homework.objects.filter(therapist=therapist)
            .prefetch_related("assignments")
            .order_by("created_at")
        ],
        "appointments": [
            {
                "id": str(a.pk),
                "link_id": str(a.link_id),
                "kind": a.kind,
                "starts_at": _when(a.starts_at),
                "minutes": a.minutes,
                "cancelled_at": _when(a.cancelled_at),
            }
            for a in Appointment.objects.filter(therapist=therapist).order_by("starts_at")
        ],
    }


def export_for(user: Any, *, channel: str = "export") -> dict[str, Any]:
    entries: dict[str, list[dict[str, Any]]] = {}
    for et in entry_types():
        entries[et.label] = [
            _entry_dict(e) for e in authored_by(user, et.model).order_by("created_at")
        ]
    data: dict[str, Any] = {
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
        "consents": _consents(user),
    }
    if user.role == "therapist":
        from trellis.clinic.notice import REDISCLOSURE_NOTICE

        data["notice"] = REDISCLOSURE_NOTICE
        data["practice"] = _practice(user)
    audit(
        owner=user,
        actor=user,
        action=AuditEvent.Action.EXPORTED,
        channel=channel,
        detail={"counts": {k: len(v) for k, v in entries.items()}},
    )
    return data
