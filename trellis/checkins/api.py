from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from django.http import Http404
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError

from trellis.api.schemas import COMMON_ERRORS, Error, PersonOut, StrictIn, person
from trellis.core.http import AuthedRequest
from trellis.sharing.policy import record_reads
from trellis.sharing.services import entry_audience_set

from . import selectors, services
from .models import DailyCheckin, TrustMoment

router = Router(tags=["checkins"])
AudienceLiteral = Literal["me", "partner", "partner_therapist", "therapist"]
Scale = Field(..., ge=1, le=5)


def sharing(model: Any, op: str) -> dict[str, Any]:
    return {"x-sharing": {"entry_type": model.entry_type_label, "op": op}}


class CheckinIn(StrictIn):
    mood: int = Scale
    stress: int = Scale
    sleep: int = Scale
    closeness: int = Scale
    safety: int = Scale
    desire: int | None = Field(None, ge=1, le=5)
    arousal: int | None = Field(None, ge=1, le=5)
    fatigue: int | None = Field(None, ge=1, le=5)
    craving: int | None = Field(None, ge=0, le=10)
    recovery: Literal["", "kept", "lapse", "in_person"] = ""
    halt_hungry: bool = False
    halt_angry: bool = False
    halt_lonely: bool = False
    halt_tired: bool = False
    gratitude: str = Field("", max_length=2000)
    note: str = Field("", max_length=2000)
    # Left out: the check-in's current audience, or for a new one the person's default.
    audience: AudienceLiteral | None = None


class CheckinOut(Schema):
    id: str
    local_date: date
    author: PersonOut
    is_mine: bool
    audience: str
    mood: int
    stress: int
    sleep: int
    closeness: int
    safety: int
    desire: int | None
    arousal: int | None
    fatigue: int | None
    craving: int | None
    recovery: str
    halt: list[str]
    gratitude: str
    note: str
    version: int
    updated_at: datetime


class CheckinPage(Schema):
    count: int
    items: list[CheckinOut]


class ListParams(Schema):
    show: Literal["all", "mine", "shared"] = "all"
    limit: int = Field(30, ge=1, le=100)
    offset: int = Field(0, ge=0, le=1_000_000)


class AudienceIn(StrictIn):
    audience: AudienceLiteral


def out(c: DailyCheckin, viewer: Any) -> CheckinOut:
    return CheckinOut(
        id=str(c.pk),
        local_date=c.local_date,
        author=person(c.author),
        is_mine=c.author_id == viewer.pk,
        audience=c.audience,
        mood=c.mood,
        stress=c.stress,
        sleep=c.sleep,
        closeness=c.closeness,
        safety=c.safety,
        desire=c.desire,
        arousal=c.arousal,
        fatigue=c.fatigue,
        craving=c.craving,
        recovery=c.recovery,
        halt=[str(h) for h in c.halt],
        gratitude=c.gratitude,
        note=c.note,
        version=c.version,
        updated_at=c.updated_at,
    )


@router.get(
    "/checkins",
    response={200: CheckinPage, **COMMON_ERRORS},
    openapi_extra=sharing(DailyCheckin, "list"),
)
def list_checkins(request: AuthedRequest, params: Query[ListParams]) -> Any:
    count, items = selectors.checkins_page(
        request.user, scope=params.show, offset=params.offset, limit=params.limit
    )
    record_reads(request.user, items, channel="api")
    return {"count": count, "items": [out(c, request.user) for c in items]}


@router.put(
    "/checkins/today", response={200: CheckinOut, 201: CheckinOut, 412: Error, **COMMON_ERRORS}
)
def save_today(request: AuthedRequest, payload: CheckinIn) -> Any:
    """Create or update today's check-in (the author's local day). Repeating the same request
    is harmless: it updates the one check-in of the day. Send `If-Match: "<version>"` to refuse
    overwriting a newer save (412)."""
    data = payload.dict()
    audience = data.pop("audience")
    match = request.headers.get("If-Match", "").strip().strip('"')
    expected = int(match) if match.isdigit() else None
    try:
        checkin, created = services.checkin_save(
            author=request.user,
            data=data,
            audience=audience,
            expected_version=expected,
            channel="api",
        )
    except services.StaleVersion:
        raise HttpError(
            412, "Today's check-in changed since you loaded it. Reload and try again."
        ) from None
    return Status(201 if created else 200, out(checkin, request.user))


@router.get(
    "/checkins/{uuid:checkin_id}",
    response={200: CheckinOut, 404: Error, **COMMON_ERRORS},
    openapi_extra=sharing(DailyCheckin, "read"),
)
def get_checkin(request: AuthedRequest, checkin_id: str) -> Any:
    return out(selectors.checkin_for_reader(request.user, checkin_id, channel="api"), request.user)


@router.put(
    "/checkins/{uuid:checkin_id}/audience",
    response={200: CheckinOut, 404: Error, **COMMON_ERRORS},
    openapi_extra=sharing(DailyCheckin, "author"),
)
def set_checkin_audience(request: AuthedRequest, checkin_id: str, payload: AudienceIn) -> Any:
    checkin = selectors.checkin_for_author(request.user, checkin_id)
    return out(
        entry_audience_set(
            actor=request.user, entry=checkin, audience=payload.audience, channel="api"
        ),
        request.user,
    )


# --- Trust moments -----------------------------------------------------------------------------


class TrustIn(StrictIn):
    intention: str = Field(..., min_length=1, max_length=500)


class AckIn(StrictIn):
    response: str = Field("", max_length=500)


class TrustOut(Schema):
    id: str
    local_date: date
    author: PersonOut
    intention: str
    acknowledged: bool
    response: str


def trust_out(m: TrustMoment) -> TrustOut:
    return TrustOut(
        id=str(m.pk),
        local_date=m.local_date,
        author=person(m.author),
        intention=m.intention,
        acknowledged=m.acknowledged_at is not None,
        response=m.response,
    )


@router.get(
    "/trust",
    response={200: list[TrustOut], **COMMON_ERRORS},
    openapi_extra=sharing(TrustMoment, "list"),
)
def list_trust(request: AuthedRequest) -> Any:
    moments = list(selectors.trust_moments_for_reader(request.user)[:30])
    record_reads(request.user, moments, channel="api")
    return [trust_out(m) for m in moments]


@router.put("/trust/today", response={200: TrustOut, **COMMON_ERRORS})
def state_intention(request: AuthedRequest, payload: TrustIn) -> Any:
    return trust_out(services.trust_moment_state(author=request.user, intention=payload.intention))


@router.get(
    "/trust/{uuid:moment_id}",
    response={200: TrustOut, 404: Error, **COMMON_ERRORS},
    openapi_extra=sharing(TrustMoment, "read"),
)
def get_trust(request: AuthedRequest, moment_id: str) -> Any:
    return trust_out(selectors.trust_moment_for_reader(request.user, moment_id, channel="api"))


@router.post(
    "/trust/{uuid:moment_id}/acknowledge",
    response={200: TrustOut, 404: Error, **COMMON_ERRORS},
    openapi_extra=sharing(TrustMoment, "respond"),
)
def acknowledge(request: AuthedRequest, moment_id: str, payload: AckIn) -> Any:
    moment = selectors.trust_moment_for_reader(request.user, moment_id, channel="api")
    try:
        return trust_out(
            services.trust_moment_acknowledge(
                partner=request.user, moment=moment, response=payload.response
            )
        )
    except PermissionError:
        raise Http404 from None
