"""The recovery API (SPEC C7): tracks with lapse-aware counts, lapses, the relapse-prevention
plan and the "I'm struggling" message. Every one of them is an entry: reads go through sharing's
policy via the selectors (which record the reads), writes through the services, and denied looks
exactly like missing (404). A stale version answers 409 and changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.http import Http404
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.errors import ValidationError as ParamError

from trellis.api.schemas import COMMON_ERRORS, Error, PersonOut, StrictIn, person
from trellis.core.http import AuthedRequest
from trellis.sharing.policy import record_reads, visible_to
from trellis.sharing.services import entry_audience_set

from . import counting, selectors, services
from . import plan as plan_shape
from .models import Lapse, RecoveryPlan, RecoveryTrack, SupportMessage

router = Router(tags=["recovery"])

AudienceLiteral = Literal["me", "partner", "partner_therapist", "therapist"]
TellLiteral = Literal["partner", "partner_therapist"]
KindLiteral = Literal["substance", "behaviour"]
GoalLiteral = Literal["abstinence", "boundaries"]
HaltLiteral = Literal["hungry", "angry", "lonely", "tired"]
ReplyLiteral = Literal["here", "coming", "later"]


def sharing(label: str, op: str) -> dict[str, Any]:
    """Marks an operation for the authorization matrix (tests/security)."""
    return {"x-sharing": {"entry_type": label, "op": op}}


TRACK = RecoveryTrack.entry_type_label
LAPSE = Lapse.entry_type_label
PLAN = RecoveryPlan.entry_type_label
MESSAGE = SupportMessage.entry_type_label

ANSWERS = {404: Error, **COMMON_ERRORS}
CHANGES = {404: Error, 409: Error, **COMMON_ERRORS}


# --- schemas ---------------------------------------------------------------------------------


class MilestoneOut(Schema):
    key: str
    label: str
    on: date


class RunOut(Schema):
    """An earlier run of days, ended by the lapse on `ended_by`, with the milestones it reached."""

    start: date
    ended_by: date
    days: int
    milestones: list[MilestoneOut]


class CountsOut(Schema):
    """Counted in the author's own calendar days. `current_run` restarts the day after a lapse;
    `recovery_days` keeps every day before it. An ended track is counted up to the day it
    ended (`today`), with no next milestone."""

    today: date
    run_start: date
    current_run: int
    recovery_days: int
    longest_run: int
    lapses: int
    milestones: list[MilestoneOut]
    next_milestone: MilestoneOut | None
    earlier_runs: list[RunOut]


class TrackOut(Schema):
    id: str
    kind: str
    what: str
    since: date
    goal_kind: str
    goal: str
    inner_circle: str
    middle_circle: str
    outer_circle: str
    ended_at: datetime | None
    audience: str
    author: PersonOut
    is_mine: bool
    created_at: datetime
    updated_at: datetime
    version: int
    counts: CountsOut


class LapseOut(Schema):
    id: str
    track_id: str
    local_date: date
    what_led: str
    what_helps: str
    who_to_tell: str
    impact: str
    prevention: str
    audience: str
    author: PersonOut
    is_mine: bool
    created_at: datetime
    updated_at: datetime
    version: int


class SituationOut(Schema):
    situation: str
    coping: str


class ContactOut(Schema):
    name: str
    how: str
    email: str
    notify: bool


class PlanContentOut(Schema):
    situations: list[SituationOut]
    warning_signs: list[str]
    halt: list[str]
    lifestyle: str
    lapse_plan: str
    contacts: list[ContactOut]
    reasons: str
    partner_can: str


class RevisionOut(Schema):
    number: int
    saved_at: datetime
    audience: str


class PlanOut(Schema):
    """`revisions` (every saved version, newest first) is the author's alone: empty for others."""

    id: str
    content: PlanContentOut
    audience: str
    author: PersonOut
    is_mine: bool
    created_at: datetime
    updated_at: datetime
    version: int
    revisions: list[RevisionOut]


class MessageOut(Schema):
    """`emailed` (how many support contacts were told by email) is shown to the author only."""

    id: str
    note: str
    audience: str
    author: PersonOut
    is_mine: bool
    created_at: datetime
    emailed: int | None
    seen_at: datetime | None
    reply: str
    reply_text: str


class TrackIn(StrictIn):
    kind: KindLiteral
    what: str = Field(..., min_length=1, max_length=services.MAX_WHAT)
    since: date
    goal_kind: GoalLiteral = "abstinence"
    goal: str = Field("", max_length=services.MAX_CIRCLE)
    inner_circle: str = Field("", max_length=services.MAX_CIRCLE)
    middle_circle: str = Field("", max_length=services.MAX_CIRCLE)
    outer_circle: str = Field("", max_length=services.MAX_CIRCLE)
    audience: AudienceLiteral = "partner"


class TrackPatch(StrictIn):
    """Only the goal and the circles change (a new start is a lapse or a new track). `version`:
    the version you loaded."""

    version: int = Field(..., ge=1)
    goal_kind: GoalLiteral | None = None
    goal: str | None = Field(None, max_length=services.MAX_CIRCLE)
    inner_circle: str | None = Field(None, max_length=services.MAX_CIRCLE)
    middle_circle: str | None = Field(None, max_length=services.MAX_CIRCLE)
    outer_circle: str | None = Field(None, max_length=services.MAX_CIRCLE)


class AudienceIn(StrictIn):
    audience: AudienceLiteral


class LapseIn(StrictIn):
    local_date: date
    what_led: str = Field("", max_length=services.MAX_NOTE)
    what_helps: str = Field("", max_length=services.MAX_NOTE)
    who_to_tell: str = Field("", max_length=services.MAX_NOTE)
    impact: str = Field("", max_length=services.MAX_NOTE)
    prevention: str = Field("", max_length=services.MAX_NOTE)
    audience: AudienceLiteral = "me"


class SituationIn(StrictIn):
    situation: str = Field("", max_length=plan_shape.MAX_TEXT)
    coping: str = Field("", max_length=plan_shape.MAX_TEXT)


class ContactIn(StrictIn):
    name: str = Field("", max_length=80)
    how: str = Field("", max_length=200)
    email: str = Field("", max_length=254)
    notify: bool = False


class PlanContentIn(StrictIn):
    situations: list[SituationIn] = Field(default_factory=list, max_length=plan_shape.MAX_ITEMS)
    warning_signs: list[str] = Field(default_factory=list, max_length=plan_shape.MAX_ITEMS)
    halt: list[HaltLiteral] = Field(default_factory=list, max_length=len(plan_shape.HALT))
    lifestyle: str = Field("", max_length=plan_shape.MAX_TEXT)
    lapse_plan: str = Field("", max_length=plan_shape.MAX_TEXT)
    contacts: list[ContactIn] = Field(default_factory=list, max_length=plan_shape.MAX_ITEMS)
    reasons: str = Field("", max_length=plan_shape.MAX_TEXT)
    partner_can: str = Field("", max_length=plan_shape.MAX_TEXT)


class PlanIn(StrictIn):
    """Saves a new version of my plan (every version is kept). `version`: the version you
    loaded, or null for the first save; a stale one answers 409."""

    content: PlanContentIn
    audience: AudienceLiteral = "partner_therapist"
    version: int | None = Field(None, ge=0)


class StrugglingIn(StrictIn):
    note: str = Field("", max_length=500)
    audience: TellLiteral = "partner"


class ReplyIn(StrictIn):
    reply: ReplyLiteral


class TrackFilter(Schema):
    all: bool = False  # true: ended tracks too


class LapseFilter(Schema):
    limit: int = Field(50, ge=1, le=200)


class MessageFilter(Schema):
    others: bool = False  # true: only recent ones from others (what the notice shows)
    limit: int = Field(20, ge=1, le=100)


# --- building the answers --------------------------------------------------------------------


def _milestones(items: tuple[counting.Milestone, ...] | list[counting.Milestone]) -> list[Any]:
    return [MilestoneOut(key=m.key, label=m.label, on=m.on) for m in items]


def counts_out(c: counting.Counts) -> CountsOut:
    return CountsOut(
        today=c.today,
        run_start=c.run_start,
        current_run=c.current_run,
        recovery_days=c.recovery_days,
        longest_run=c.longest_run,
        lapses=c.lapses,
        milestones=_milestones(c.reached),
        next_milestone=(
            MilestoneOut(key=c.upcoming.key, label=c.upcoming.label, on=c.upcoming.on)
            if c.upcoming is not None
            else None
        ),
        earlier_runs=[
            RunOut(start=run.start, ended_by=run.end, days=run.days, milestones=_milestones(ms))
            for run, ms in c.earlier
            if run.end is not None
        ],
    )


def track_out(t: RecoveryTrack, counts: counting.Counts, viewer: Any) -> TrackOut:
    return TrackOut(
        id=str(t.pk),
        kind=t.kind,
        what=t.what,
        since=t.since,
        goal_kind=t.goal_kind,
        goal=t.goal,
        inner_circle=t.inner_circle,
        middle_circle=t.middle_circle,
        outer_circle=t.outer_circle,
        ended_at=t.ended_at,
        audience=t.audience,
        author=person(t.author),
        is_mine=t.author_id == viewer.pk,
        created_at=t.created_at,
        updated_at=t.updated_at,
        version=t.version,
        counts=counts_out(counts),
    )


def _one_track(t: RecoveryTrack, viewer: Any) -> TrackOut:
    return track_out(t, selectors.counts_for([t])[t.pk], viewer)


def lapse_out(lapse: Lapse, viewer: Any) -> LapseOut:
    return LapseOut(
        id=str(lapse.pk),
        track_id=str(lapse.track_id),
        local_date=lapse.local_date,
        what_led=lapse.what_led,
        what_helps=lapse.what_helps,
        who_to_tell=lapse.who_to_tell,
        impact=lapse.impact,
        prevention=lapse.prevention,
        audience=lapse.audience,
        author=person(lapse.author),
        is_mine=lapse.author_id == viewer.pk,
        created_at=lapse.created_at,
        updated_at=lapse.updated_at,
        version=lapse.version,
    )


def plan_out(plan: RecoveryPlan, viewer: Any, *, revisions: bool = False) -> PlanOut:
    content = selectors.plan_content(plan)
    return PlanOut(
        id=str(plan.pk),
        content=PlanContentOut(**content),
        audience=plan.audience,
        author=person(plan.author),
        is_mine=plan.author_id == viewer.pk,
        created_at=plan.created_at,
        updated_at=plan.updated_at,
        version=plan.version,
        revisions=[
            RevisionOut(number=r.number, saved_at=r.saved_at, audience=r.audience)
            for r in plan.revisions.all()
        ]
        if revisions and plan.author_id == viewer.pk
        else [],
    )


def message_out(m: SupportMessage, viewer: Any) -> MessageOut:
    mine = m.author_id == viewer.pk
    return MessageOut(
        id=str(m.pk),
        note=m.note,
        audience=m.audience,
        author=person(m.author),
        is_mine=mine,
        created_at=m.created_at,
        emailed=m.emailed if mine else None,
        seen_at=m.seen_at,
        reply=m.reply,
        reply_text=SupportMessage.REPLIES.get(m.reply, ""),
    )


@contextmanager
def _answering() -> Iterator[None]:
    """Service outcomes as HTTP: acting on what is not mine to act on is 404 (like missing)."""
    try:
        yield
    except PermissionError:
        raise Http404 from None


def _plan_errors(exc: ValidationError) -> ParamError:
    """The plan's field names ("situations.0.coping") as the request body spells them:
    ["body", "content", "situations", 0, "coping"], like the schema's own errors."""
    detail: list[dict[str, Any]] = []
    for field, msgs in exc.message_dict.items():
        if field == "audience":
            loc: list[Any] = ["body", "audience"]
        else:
            loc = ["body", "content", *(int(p) if p.isdigit() else p for p in field.split("."))]
        detail.extend({"loc": loc, "msg": msg, "type": "value_error"} for msg in msgs)
    return ParamError(detail)


# --- tracks ----------------------------------------------------------------------------------


@router.get(
    "/tracks",
    response={200: list[TrackOut], **COMMON_ERRORS},
    openapi_extra=sharing(TRACK, "list"),
)
def list_tracks(request: AuthedRequest, params: Query[TrackFilter]) -> Any:
    """The tracks I may see — mine and those shared with me — with their counts (`?all=true`:
    ended tracks too)."""
    tracks = selectors.tracks_visible(request.user, channel="api", open_only=not params.all)
    counts = selectors.counts_for(tracks)
    return [track_out(t, counts[t.pk], request.user) for t in tracks]


@router.post("/tracks", response={201: TrackOut, **COMMON_ERRORS})
def create_track(request: AuthedRequest, payload: TrackIn) -> Any:
    track = services.track_add(user=request.user, **payload.dict())
    return Status(201, _one_track(track, request.user))


@router.get(
    "/tracks/{uuid:track_id}",
    response={200: TrackOut, **ANSWERS},
    openapi_extra=sharing(TRACK, "read"),
)
def get_track(request: AuthedRequest, track_id: str) -> Any:
    track = selectors.track_for_reader(request.user, track_id, channel="api")
    return _one_track(track, request.user)


@router.patch(
    "/tracks/{uuid:track_id}",
    response={200: TrackOut, **CHANGES},
    openapi_extra=sharing(TRACK, "author"),
)
def update_track(request: AuthedRequest, track_id: str, payload: TrackPatch) -> Any:
    """Change the goal or the circles; a stale `version` answers 409."""
    track = selectors.track_for_author(request.user, track_id)
    changes = payload.dict(exclude_unset=True, exclude={"version"})
    try:
        track = services.track_update(
            user=request.user,
            track=track,
            expected_version=payload.version,
            **{k: v for k, v in changes.items() if v is not None},
        )
    except services.StaleVersion:
        raise HttpError(
            409, "This track changed since you loaded it. Reload and try again."
        ) from None
    return _one_track(track, request.user)


@router.put(
    "/tracks/{uuid:track_id}/audience",
    response={200: TrackOut, **ANSWERS},
    openapi_extra=sharing(TRACK, "author"),
)
def set_track_audience(request: AuthedRequest, track_id: str, payload: AudienceIn) -> Any:
    """Who sees the day count and celebrates its milestones."""
    track = selectors.track_for_author(request.user, track_id)
    track = entry_audience_set(
        actor=request.user, entry=track, audience=payload.audience, channel="api"
    )
    return _one_track(track, request.user)


@router.post(
    "/tracks/{uuid:track_id}/end",
    response={200: TrackOut, **ANSWERS},
    openapi_extra=sharing(TRACK, "author"),
)
def end_track(request: AuthedRequest, track_id: str) -> Any:
    """Stop tracking (the days and lapses stay). Ending an ended track changes nothing."""
    track = selectors.track_for_author(request.user, track_id)
    track = services.track_end(user=request.user, track=track)
    return _one_track(track, request.user)


@router.post(
    "/tracks/{uuid:track_id}/lapses",
    response={200: LapseOut, 201: LapseOut, **ANSWERS},
    openapi_extra=sharing(TRACK, "author"),
)
def log_lapse(request: AuthedRequest, track_id: str, payload: LapseIn) -> Any:
    """Log a lapse on my track: a specific day to learn from. It ends the current run and
    keeps every day before it. The same day sent again (a retry) is the same lapse: 200."""
    track = selectors.track_for_author(request.user, track_id)
    with _answering():
        lapse = services.lapse_log(user=request.user, track=track, **payload.dict())
    return Status(201 if lapse.version == 1 else 200, lapse_out(lapse, request.user))


# --- lapses ----------------------------------------------------------------------------------


@router.get(
    "/lapses",
    response={200: list[LapseOut], **COMMON_ERRORS},
    openapi_extra=sharing(LAPSE, "list"),
)
def list_lapses(request: AuthedRequest, params: Query[LapseFilter]) -> Any:
    """The lapses I may read, most recent day first."""
    lapses = selectors.lapses_visible(request.user, channel="api", limit=params.limit)
    return [lapse_out(lapse, request.user) for lapse in lapses]


@router.get(
    "/lapses/{uuid:lapse_id}",
    response={200: LapseOut, **ANSWERS},
    openapi_extra=sharing(LAPSE, "read"),
)
def get_lapse(request: AuthedRequest, lapse_id: str) -> Any:
    return lapse_out(
        selectors.lapse_for_reader(request.user, lapse_id, channel="api"), request.user
    )


@router.put(
    "/lapses/{uuid:lapse_id}/audience",
    response={200: LapseOut, **ANSWERS},
    openapi_extra=sharing(LAPSE, "author"),
)
def set_lapse_audience(request: AuthedRequest, lapse_id: str, payload: AudienceIn) -> Any:
    lapse = selectors.lapse_for_author(request.user, lapse_id)
    lapse = entry_audience_set(
        actor=request.user, entry=lapse, audience=payload.audience, channel="api"
    )
    return lapse_out(lapse, request.user)


# --- the relapse-prevention plan -------------------------------------------------------------


@router.get("/plan", response={200: PlanOut, **ANSWERS})
def my_plan(request: AuthedRequest) -> Any:
    """My plan as it stands, with its saved versions (404 before the first save)."""
    plan = selectors.my_plan(request.user)
    if plan is None:
        raise Http404
    return plan_out(plan, request.user, revisions=True)


@router.put("/plan", response={200: PlanOut, 409: Error, **COMMON_ERRORS})
def save_plan(request: AuthedRequest, payload: PlanIn) -> Any:
    try:
        plan = services.plan_save(
            user=request.user,
            content=payload.content.dict(),
            audience=payload.audience,
            expected_version=payload.version,
        )
    except services.StaleVersion as exc:
        now = f" (it is at version {exc.current.version} now)" if exc.current else ""
        raise HttpError(
            409, f"Your plan changed since you loaded it{now}. Reload and try again."
        ) from None
    except ValidationError as exc:
        if not hasattr(exc, "error_dict"):
            raise
        raise _plan_errors(exc) from None
    return plan_out(plan, request.user, revisions=True)


@router.get(
    "/plans",
    response={200: list[PlanOut], **COMMON_ERRORS},
    openapi_extra=sharing(PLAN, "list"),
)
def list_plans(request: AuthedRequest) -> Any:
    """The plans I may read (mine too, once saved)."""
    return [plan_out(p, request.user) for p in selectors.plans_visible(request.user, channel="api")]


@router.get(
    "/plans/{uuid:plan_id}",
    response={200: PlanOut, **ANSWERS},
    openapi_extra=sharing(PLAN, "read"),
)
def get_plan(request: AuthedRequest, plan_id: str) -> Any:
    return plan_out(selectors.plan_for_reader(request.user, plan_id, channel="api"), request.user)


# --- "I'm struggling" ------------------------------------------------------------------------


@router.post("/struggling", response={201: MessageOut, **COMMON_ERRORS})
def struggling(request: AuthedRequest, payload: StrugglingIn) -> Any:
    """Tell the people I chose that I am having a hard moment. The note is shown in the app
    only; support contacts marked in my plan get a neutral email (never the note) when email
    is configured."""
    message = services.support_send(user=request.user, note=payload.note, audience=payload.audience)
    return Status(201, message_out(message, request.user))


@router.get(
    "/messages",
    response={200: list[MessageOut], **COMMON_ERRORS},
    openapi_extra=sharing(MESSAGE, "list"),
)
def list_messages(request: AuthedRequest, params: Query[MessageFilter]) -> Any:
    """The messages I may read, mine too, newest first. `?others=true`: only those from others
    in the last seven days (at most ten), as the "someone is having a hard moment" notice."""
    user = request.user
    if params.others:
        messages = selectors.messages_for(user, channel="api")[: params.limit]
    else:
        messages = list(
            visible_to(user, SupportMessage)
            .select_related("author")
            .order_by("-created_at", "-pk")[: params.limit]
        )
        record_reads(user, messages, channel="api")
    return [message_out(m, user) for m in messages]


@router.get(
    "/messages/{uuid:message_id}",
    response={200: MessageOut, **ANSWERS},
    openapi_extra=sharing(MESSAGE, "read"),
)
def get_message(request: AuthedRequest, message_id: str) -> Any:
    return message_out(
        selectors.message_for_reader(request.user, message_id, channel="api"), request.user
    )


@router.post(
    "/messages/{uuid:message_id}/reply",
    response={200: MessageOut, **ANSWERS},
    openapi_extra=sharing(MESSAGE, "respond"),
)
def reply_to_message(request: AuthedRequest, message_id: str, payload: ReplyIn) -> Any:
    """The partner answers with one of a few fixed replies; nobody else replies here (404)."""
    message = selectors.message_for_reader(request.user, message_id, channel="api")
    with _answering():
        answered = services.support_reply(user=request.user, message=message, reply=payload.reply)
    answered.author = message.author
    return message_out(answered, request.user)
