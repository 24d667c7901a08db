from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Query, Router, Schema

from trellis.api.schemas import COMMON_ERRORS
from trellis.core.http import AuthedRequest

from .selectors import audit_events_for_owner

router = Router(tags=["sharing"])


class EventOut(Schema):
    at: datetime
    action: str
    actor: str
    actor_role: str
    entry_type: str
    entry_id: str | None
    channel: str


class EventPage(Schema):
    count: int
    items: list[EventOut]


class PageParams(Schema):
    limit: int = Field(50, ge=1, le=100)
    offset: int = Field(0, ge=0, le=1_000_000)


@router.get("/activity", response={200: EventPage, **COMMON_ERRORS})
def activity(request: AuthedRequest, params: Query[PageParams]) -> Any:
    """Who has seen my things and every change to who can see them."""
    qs = audit_events_for_owner(request.user)
    items = qs[params.offset : params.offset + params.limit]
    return {
        "count": qs.count(),
        "items": [
            EventOut(
                at=e.at,
                action=e.action,
                actor=e.actor.display_name if e.actor else "",
                actor_role=e.actor_role,
                entry_type=e.entry_type,
                entry_id=str(e.entry_id) if e.entry_id else None,
                channel=e.channel,
            )
            for e in items
        ],
    }
