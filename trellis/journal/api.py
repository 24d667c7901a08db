from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError

from trellis.api.schemas import COMMON_ERRORS, Error, PersonOut, StrictIn, person
from trellis.core.http import AuthedRequest
from trellis.sharing.policy import record_reads
from trellis.sharing.selectors import readers_of_entry
from trellis.sharing.services import entry_audience_set

from . import selectors, services
from .models import JournalEntry

router = Router(tags=["journal"])

AudienceLiteral = Literal["me", "partner", "partner_therapist", "therapist"]
KindLiteral = Literal["journal", "gratitude"]


def sharing(op: str) -> dict[str, Any]:
    """Marks an operation for the authorization matrix (tests/security)."""
    return {"x-sharing": {"entry_type": JournalEntry.entry_type_label, "op": op}}


class EntryIn(StrictIn):
    body: str = Field(..., min_length=1, max_length=services.MAX_BODY)
    title: str = Field("", max_length=services.MAX_TITLE)
    kind: KindLiteral = "journal"
    audience: AudienceLiteral
    prompt_key: str = Field("", max_length=40)


class EntryPatch(StrictIn):
    body: str = Field(..., min_length=1, max_length=services.MAX_BODY)
    title: str = Field("", max_length=services.MAX_TITLE)


class AudienceIn(StrictIn):
    audience: AudienceLiteral


class EntryOut(Schema):
    id: str
    kind: str
    title: str
    body: str
    audience: str
    prompt_key: str
    author: PersonOut
    is_mine: bool
    created_at: datetime
    updated_at: datetime
    version: int


class EntryPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[EntryOut]


class ListParams(Schema):
    show: Literal["all", "mine", "shared"] = "all"
    q: str = Field("", max_length=200)
    limit: int = Field(20, ge=1, le=100)
    offset: int = Field(0, ge=0, le=1_000_000)


class ReadOut(Schema):
    at: datetime
    action: str
    who: str
    channel: str


def out(entry: JournalEntry, viewer: Any) -> EntryOut:
    return EntryOut(
        id=str(entry.pk),
        kind=entry.kind,
        title=entry.title,
        body=entry.body,
        audience=entry.audience,
        prompt_key=entry.prompt_key,
        author=person(entry.author),
        is_mine=entry.author_id == viewer.pk,
        created_at=entry.created_at,
        updated_at=entry.updated_at,
        version=entry.version,
    )


@router.get("/entries", response={200: EntryPage, **COMMON_ERRORS}, openapi_extra=sharing("list"))
def list_entries(request: AuthedRequest, params: Query[ListParams]) -> Any:
    if params.q.strip():
        found = selectors.journal_search_for_reader(request.user, params.q)
        count, items = len(found), found[params.offset : params.offset + params.limit]
    else:
        count, items = selectors.journal_entries_page(
            request.user, scope=params.show, offset=params.offset, limit=params.limit
        )
    record_reads(request.user, items, channel="api")
    return {
        "count": count,
        "limit": params.limit,
        "offset": params.offset,
        "items": [out(e, request.user) for e in items],
    }


@router.post("/entries", response={200: EntryOut, 201: EntryOut, 409: Error, **COMMON_ERRORS})
def create_entry(request: AuthedRequest, payload: EntryIn) -> Any:
    key = request.headers.get("Idempotency-Key", "")
    if len(key) > 80:
        raise HttpError(422, "Idempotency-Key: use at most 80 characters.")
    try:
        entry, created = services.journal_entry_create(
            author=request.user, idempotency_key=key, channel="api", **payload.dict()
        )
    except services.IdempotencyMismatch:
        raise HttpError(422, "Idempotency-Key was already used for a different entry.") from None
    return Status(201 if created else 200, out(entry, request.user))


@router.get(
    "/entries/{uuid:entry_id}",
    response={200: EntryOut, 404: Error, **COMMON_ERRORS},
    openapi_extra=sharing("read"),
)
def get_entry(request: AuthedRequest, entry_id: str) -> Any:
    entry = selectors.journal_entry_for_reader(request.user, entry_id, channel="api")
    return out(entry, request.user)


@router.patch(
    "/entries/{uuid:entry_id}",
    response={200: EntryOut, 404: Error, 412: Error, 428: Error, **COMMON_ERRORS},
    openapi_extra=sharing("author"),
)
def update_entry(request: AuthedRequest, entry_id: str, payload: EntryPatch) -> Any:
    """Send `If-Match: "<version>"`; a stale version answers 412 and changes nothing."""
    entry = selectors.journal_entry_for_author(request.user, entry_id)
    match = request.headers.get("If-Match", "").strip().strip('"').removeprefix('W/"')
    if not match:
        raise HttpError(428, 'If-Match: send the version you edited, e.g. If-Match: "3".')
    if not match.isdigit():
        raise HttpError(412, "If-Match: not a version of this entry.")
    try:
        entry = services.journal_entry_update(
            author=request.user,
            entry=entry,
            body=payload.body,
            title=payload.title,
            expected_version=int(match),
            channel="api",
        )
    except services.StaleVersion:
        raise HttpError(
            412, "This entry changed since you loaded it. Reload and try again."
        ) from None
    return out(entry, request.user)


@router.put(
    "/entries/{uuid:entry_id}/audience",
    response={200: EntryOut, 404: Error, **COMMON_ERRORS},
    openapi_extra=sharing("author"),
)
def set_audience(request: AuthedRequest, entry_id: str, payload: AudienceIn) -> Any:
    entry = selectors.journal_entry_for_author(request.user, entry_id)
    entry = entry_audience_set(
        actor=request.user, entry=entry, audience=payload.audience, channel="api"
    )
    return out(entry, request.user)


@router.get(
    "/entries/{uuid:entry_id}/seen",
    response={200: list[ReadOut], 404: Error, **COMMON_ERRORS},
    openapi_extra=sharing("author"),
)
def entry_seen(request: AuthedRequest, entry_id: str) -> Any:
    entry = selectors.journal_entry_for_author(request.user, entry_id)
    return [
        ReadOut(
            at=e.at,
            action=e.action,
            who=e.actor.display_name if e.actor else "a removed account",
            channel=e.channel,
        )
        for e in readers_of_entry(request.user, entry)[:200]
    ]


@router.delete(
    "/entries/{uuid:entry_id}",
    response={204: None, 404: Error, **COMMON_ERRORS},
    openapi_extra=sharing("author"),
)
def delete_entry(request: AuthedRequest, entry_id: str) -> Any:
    entry = selectors.journal_entry_for_author(request.user, entry_id)
    services.journal_entry_delete(author=request.user, entry=entry, channel="api")
    return Status(204, None)
