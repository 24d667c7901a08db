from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from django.http import Http404
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError

from trellis.api.schemas import COMMON_ERRORS, Error, PersonOut, StrictIn, person
from trellis.core.http import AuthedRequest

from . import selectors, services
from .models import Meeting, MeetingAnswer, MeetingNote

router = Router(tags=["meetings"])


def sharing(label: str, op: str) -> dict[str, Any]:
    return {"x-sharing": {"entry_type": label, "op": op}}


class PromptOut(Schema):
    key: str
    section: str
    text: str


class AnswerOut(Schema):
    id: str
    author: PersonOut
    is_mine: bool
    submitted: bool
    audience: str
    answers: dict[str, str]


class NoteOut(Schema):
    id: str
    author: PersonOut
    kind: str
    text: str
    confirmed: bool | None
    created_at: datetime


class MeetingOut(Schema):
    id: str
    week_of: date
    title: str
    prompts: list[PromptOut]
    revealed: bool
    closed: bool
    version: int
    answers: list[AnswerOut]
    notes: list[NoteOut]


class StartIn(StrictIn):
    prompt_set: str = Field("weekly", max_length=60)


class AnswerIn(StrictIn):
    answers: dict[str, str]
    submit: bool = False
    audience: Literal["partner", "partner_therapist"] = "partner"


class NoteIn(StrictIn):
    kind: Literal["note", "i_statement", "reflection", "next_step"] = "note"
    text: str = Field(..., min_length=1, max_length=4000)


class ConfirmIn(StrictIn):
    confirmed: bool


class CloseIn(StrictIn):
    version: int = Field(..., ge=1)


def answer_out(a: MeetingAnswer, viewer: Any) -> AnswerOut:
    return AnswerOut(
        id=str(a.pk),
        author=person(a.author),
        is_mine=a.author_id == viewer.pk,
        submitted=a.submitted_at is not None,
        audience=a.audience,
        answers=selectors.decoded(a),
    )


def note_out(n: MeetingNote) -> NoteOut:
    return NoteOut(
        id=str(n.pk),
        author=person(n.author),
        kind=n.kind,
        text=n.text,
        confirmed=n.confirmed,
        created_at=n.created_at,
    )


def meeting_out(request: AuthedRequest, m: Meeting) -> MeetingOut:
    answers, notes = selectors.meeting_entries_visible(request.user, m, channel="api")
    return MeetingOut(
        id=str(m.pk),
        week_of=m.week_of,
        title=m.prompt_set_title,
        prompts=[PromptOut(**p) for p in m.prompts],
        revealed=m.revealed_at is not None,
        closed=m.closed_at is not None,
        version=m.version,
        answers=[answer_out(a, request.user) for a in answers],
        notes=[note_out(n) for n in notes],
    )


class MeetingSummary(Schema):
    id: str
    week_of: date
    title: str
    revealed: bool
    closed: bool


@router.get("/meetings", response={200: list[MeetingSummary], **COMMON_ERRORS})
def list_meetings(request: AuthedRequest) -> Any:
    return [
        MeetingSummary(
            id=str(m.pk),
            week_of=m.week_of,
            title=m.prompt_set_title,
            revealed=m.revealed_at is not None,
            closed=m.closed_at is not None,
        )
        for m in selectors.meeting_summaries_for_member(request.user, limit=52)
    ]


@router.post("/meetings", response={200: MeetingOut, 201: MeetingOut, **COMMON_ERRORS})
def start_meeting(request: AuthedRequest, payload: StartIn) -> Any:
    meeting, created = services.meeting_start(user=request.user, prompt_set=payload.prompt_set)
    return Status(201 if created else 200, meeting_out(request, meeting))


@router.get(
    "/meetings/{uuid:meeting_id}",
    response={200: MeetingOut, 404: Error, **COMMON_ERRORS},
    openapi_extra=sharing("meeting", "couple"),
)
def get_meeting(request: AuthedRequest, meeting_id: str) -> Any:
    return meeting_out(request, selectors.meeting_for_member(request.user, meeting_id))


@router.put(
    "/meetings/{uuid:meeting_id}/answer",
    response={200: MeetingOut, 404: Error, **COMMON_ERRORS},
    openapi_extra=sharing("meeting", "couple"),
)
def save_answer(request: AuthedRequest, meeting_id: str, payload: AnswerIn) -> Any:
    meeting = selectors.meeting_for_member(request.user, meeting_id)
    answer = services.answer_save(
        author=request.user,
        meeting=meeting,
        answers=payload.answers,
        submit=payload.submit,
        audience=payload.audience,
    )
    return meeting_out(request, answer.meeting)


@router.delete(
    "/meetings/{uuid:meeting_id}/answer/submission",
    response={200: MeetingOut, 404: Error, **COMMON_ERRORS},
    openapi_extra=sharing("meeting", "couple"),
)
def withdraw_answer(request: AuthedRequest, meeting_id: str) -> Any:
    meeting = selectors.meeting_for_member(request.user, meeting_id)
    services.answer_withdraw(author=request.user, meeting=meeting)
    return meeting_out(request, meeting)


@router.post(
    "/meetings/{uuid:meeting_id}/notes",
    response={201: NoteOut, 404: Error, **COMMON_ERRORS},
    openapi_extra=sharing("meeting", "couple"),
)
def add_note(request: AuthedRequest, meeting_id: str, payload: NoteIn) -> Any:
    meeting = selectors.meeting_for_member(request.user, meeting_id)
    return Status(
        201,
        note_out(
            services.note_add(
                author=request.user, meeting=meeting, kind=payload.kind, text=payload.text
            )
        ),
    )


@router.post(
    "/meetings/{uuid:meeting_id}/close",
    response={200: MeetingOut, 404: Error, 412: Error, **COMMON_ERRORS},
    openapi_extra=sharing("meeting", "couple"),
)
def close_meeting(request: AuthedRequest, meeting_id: str, payload: CloseIn) -> Any:
    meeting = selectors.meeting_for_member(request.user, meeting_id)
    try:
        meeting = services.meeting_close(
            user=request.user, meeting=meeting, expected_version=payload.version
        )
    except services.MeetingStale:
        raise HttpError(
            412, "The meeting changed since you loaded it. Reload and try again."
        ) from None
    return meeting_out(request, meeting)


@router.get(
    "/answers/{uuid:answer_id}",
    response={200: AnswerOut, 404: Error, **COMMON_ERRORS},
    openapi_extra=sharing(MeetingAnswer.entry_type_label, "read"),
)
def get_answer(request: AuthedRequest, answer_id: str) -> Any:
    return answer_out(
        selectors.answer_for_reader(request.user, answer_id, channel="api"), request.user
    )


@router.get(
    "/notes/{uuid:note_id}",
    response={200: NoteOut, 404: Error, **COMMON_ERRORS},
    openapi_extra=sharing(MeetingNote.entry_type_label, "read"),
)
def get_note(request: AuthedRequest, note_id: str) -> Any:
    return note_out(selectors.note_for_reader(request.user, note_id, channel="api"))


@router.post(
    "/notes/{uuid:note_id}/confirm",
    response={200: NoteOut, 404: Error, **COMMON_ERRORS},
    openapi_extra=sharing(MeetingNote.entry_type_label, "respond"),
)
def confirm_note(request: AuthedRequest, note_id: str, payload: ConfirmIn) -> Any:
    note = selectors.note_for_reader(request.user, note_id, channel="api")
    try:
        return note_out(
            services.reflection_confirm(
                speaker=request.user, note=note, confirmed=payload.confirmed
            )
        )
    except PermissionError:
        raise Http404 from None
