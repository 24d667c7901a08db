"""The therapist workspace API (SPEC C14), for the three people it serves:

- a therapist: the caseload, one couple (what each partner consented to share, warning signs,
  a timeline of ids, homework with completion as shared), link invitations, homework,
  appointments, private notes, ending a link, their confidences policy;
- a partner: their couple's therapist links, their own consent (password re-confirmed), their
  homework and its completion (an entry, `homework`, with an audience like any other);
- a clinic administrator: the clinic's therapists and invitations (never a couple or an entry).

Entries (homework completions, and everything on a couple's timeline) are read only through
`sharing.policy`. The therapist's own objects (links, homework, appointments, notes,
invitations) answer to their owner alone. Denied looks exactly like missing (404).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

from django.core.exceptions import ValidationError
from django.http import Http404
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.errors import ValidationError as ParamError

from trellis.api.schemas import COMMON_ERRORS, Error, PersonOut, StrictIn, person
from trellis.core.http import AuthedRequest
from trellis.couples.models import TherapistLink
from trellis.lib.dates import local_today
from trellis.sharing.policy import get_own_or_404, get_visible_or_404, record_reads, visible_to
from trellis.sharing.registry import for_model
from trellis.sharing.services import default_audience, entry_audience_set, validate_audience

from . import selectors, services, warnings
from .models import (
    Appointment,
    HomeworkCompletion,
    SessionNote,
)

router = Router(tags=["clinic"])

AudienceLiteral = Literal["me", "partner", "partner_therapist", "therapist"]
HomeworkKind = Literal[
    "journal_prompt", "meeting_prompts", "task", "questionnaire", "reading", "sensate_step"
]
AppointmentKind = Literal["session", "booster"]
NoteKind = Literal["session", "booster", "referral"]


def sharing(label: str, op: str) -> dict[str, Any]:
    """Marks an operation for the authorization matrix (tests/security)."""
    return {"x-sharing": {"entry_type": label, "op": op}}


# The therapist's own objects, and the couple's view of a link, are not entry types: like the
# agreements' "agreement" and the meetings' "meeting", these labels name the object behind the
# id for the matrix. `homework` is the registered entry type (a partner's completion).
LINK = "clinic_link"
HOMEWORK = "homework_assignment"
APPOINTMENT = "appointment"
NOTE = "session_note"
INVITATION = "link_invitation"
MEMBER = "clinic_member"
CLINIC_INVITATION = "clinic_invitation"
COMPLETION = HomeworkCompletion.entry_type_label

ANSWERS = {404: Error, **COMMON_ERRORS}
CONFLICTS = {404: Error, 409: Error, **COMMON_ERRORS}

# Where a service names a field differently from the request body.
BODY_NAMES = {"expires_at": "until", "code": "code"}
# Service "fields" that are not in any request body: the state of the thing, answered 409.
CONFLICT_FIELDS = {"homework", "link"}


# --- schemas ---------------------------------------------------------------------------------


class PartnerConsentOut(Schema):
    """A partner of a linked couple and what they consented to share with this therapist
    (entry type labels; empty: nothing)."""

    person: PersonOut
    scopes: list[str]
    until: datetime | None
    purpose: str


class SignalOut(Schema):
    kind: str
    label: str
    person_id: str


class CaseOut(Schema):
    link_id: str
    couple: str
    linked_at: datetime
    partners: list[PartnerConsentOut]
    signals: list[SignalOut]
    last_shared_at: datetime | None  # the last one within 30 days (selectors.LAST_SHARED_DAYS)
    overdue: int
    next_appointment: datetime | None
    attention: int


class TimelineItemOut(Schema):
    """An entry the therapist may open (GET it from its own API to read it; the read is
    recorded for its author)."""

    entry_type: str
    id: str
    author_id: str
    created_at: datetime


class CompletionMarkOut(Schema):
    """A completion as the viewer may see it: its id and when; the note is read by opening
    the completion."""

    id: str
    completed_at: datetime


class AssigneeOut(Schema):
    person: PersonOut
    completion: CompletionMarkOut | None


class HomeworkOut(Schema):
    """Homework as its therapist sees it; `completion` per partner is null unless that partner
    shared it with this therapist (the `homework` audience and consent)."""

    id: str
    link_id: str
    kind: str
    ref: str
    title: str
    instructions: str
    due_on: date
    created_at: datetime
    cancelled: bool
    overdue: bool
    assignees: list[AssigneeOut]


class AppointmentOut(Schema):
    id: str
    link_id: str
    kind: str
    starts_at: datetime
    minutes: int
    cancelled: bool


class CoupleOut(Schema):
    link_id: str
    couple: str
    linked_at: datetime
    ended_at: datetime | None
    partners: list[PartnerConsentOut]
    signals: list[SignalOut]
    timeline: list[TimelineItemOut]
    homework: list[HomeworkOut]
    appointments: list[AppointmentOut]


class NoteOut(Schema):
    id: str
    link_id: str
    kind: str
    on_date: date
    body: str
    referral_to: str
    created_at: datetime
    updated_at: datetime
    version: int


class InvitationOut(Schema):
    """`token` (for a link) and `code` (to type) are shown once, at creation; only their hashes
    are kept."""

    id: str
    expires_at: datetime
    token: str | None = None
    code: str | None = None


class PolicyOut(Schema):
    accepts_confidences: bool


class MyConsentOut(Schema):
    scopes: list[str]
    purpose: str
    until: datetime
    given_at: datetime


class UpcomingOut(Schema):
    id: str
    kind: str
    starts_at: datetime
    minutes: int


class MyLinkOut(Schema):
    """A therapist linked with my couple space, what they accept and what I consented to
    (null: nothing — the therapist sees none of my entries)."""

    id: str
    therapist: PersonOut
    accepts_confidences: bool
    linked_at: datetime
    ended_at: datetime | None
    my_consent: MyConsentOut | None
    appointments: list[UpcomingOut]


class MyCompletionOut(Schema):
    id: str
    completed_at: datetime
    audience: str
    note: str


class MyHomeworkOut(Schema):
    id: str
    kind: str
    ref: str
    title: str
    instructions: str
    due_on: date
    therapist: PersonOut
    overdue: bool
    completion: MyCompletionOut | None


class CompletionOut(Schema):
    id: str
    homework_id: str
    homework_title: str
    note: str
    audience: str
    author: PersonOut
    is_mine: bool
    created_at: datetime


class TherapistOut(Schema):
    member_id: str
    therapist: PersonOut
    email: str
    joined_at: datetime


class ClinicInvitationOut(Schema):
    """`token` is shown once, at creation: send it to the therapist (only its hash is kept)."""

    id: str
    email: str
    expires_at: datetime
    token: str | None = None


class JoinedOut(Schema):
    clinic: str
    member_id: str


class HomeworkIn(StrictIn):
    """Send an `Idempotency-Key` header to make retries safe: the same key gives back the same
    homework (200) instead of a second one."""

    kind: HomeworkKind
    title: str = Field(..., min_length=1, max_length=200)
    instructions: str = Field("", max_length=4000)
    ref: str = Field("", max_length=80)
    due_on: date
    assignees: list[UUID] = Field(..., min_length=1, max_length=2)


class AppointmentIn(StrictIn):
    starts_at: datetime
    kind: AppointmentKind = "session"
    minutes: int = Field(50, ge=10, le=240)


class NoteIn(StrictIn):
    kind: NoteKind = "session"
    on_date: date
    body: str = Field(..., min_length=1, max_length=20000)
    referral_to: str = Field("", max_length=120)


class NotePut(StrictIn):
    """`version`: the version you loaded; a stale one answers 412 and changes nothing."""

    version: int = Field(..., ge=1)
    body: str = Field(..., min_length=1, max_length=20000)
    kind: NoteKind | None = None
    on_date: date | None = None
    referral_to: str | None = Field(None, max_length=120)


class PolicyIn(StrictIn):
    accepts_confidences: bool


class LinkIn(StrictIn):
    code: str = Field(..., min_length=1, max_length=100)


class ConsentIn(StrictIn):
    """`scopes`: the kinds of entry (entry type labels) the therapist may read of mine, when I
    chose an audience that includes them. `password`: my password, to confirm it is me."""

    scopes: list[str] = Field(..., min_length=1, max_length=30)
    purpose: str = Field(..., min_length=1, max_length=200)
    until: date
    password: str = Field(..., min_length=1, max_length=4096)


class CompleteIn(StrictIn):
    """`audience`: who sees that I did it (default: my default for homework)."""

    note: str = Field("", max_length=4000)
    audience: AudienceLiteral | None = None


class AudienceIn(StrictIn):
    audience: AudienceLiteral


class ClinicInviteIn(StrictIn):
    email: str = Field(..., min_length=3, max_length=254)


class JoinIn(StrictIn):
    token: str = Field(..., min_length=1, max_length=100)


class CompletionFilter(Schema):
    limit: int = Field(50, ge=1, le=200)


# --- helpers ---------------------------------------------------------------------------------


@contextmanager
def _answering() -> Iterator[None]:
    """Service outcomes as HTTP: not mine is 404 (like missing), a stale note 412, the state of
    the thing (a link ended, homework taken back) 409, and field names as the body spells them."""
    try:
        yield
    except services.NotYours:
        raise Http404 from None
    except services.Stale:
        raise HttpError(
            412, "This note changed since you loaded it. Reload and try again."
        ) from None
    except ValidationError as exc:
        if not hasattr(exc, "error_dict"):
            raise
        fields = exc.message_dict
        for name in CONFLICT_FIELDS & set(fields):
            raise HttpError(409, fields[name][0]) from None
        raise ValidationError(
            {BODY_NAMES.get(name, name): msgs for name, msgs in fields.items()}
        ) from None


def _therapist(request: AuthedRequest) -> Any:
    if request.user.role != "therapist":
        raise Http404
    return request.user


def _own_link(request: AuthedRequest, link_id: str) -> TherapistLink:
    """The viewing therapist's own link (active or ended)."""
    link = selectors.therapist_link(_therapist(request), link_id, active=False)
    if link is None:
        raise Http404
    return link


def _today(request: AuthedRequest) -> date:
    return local_today(request.user.time_zone)


def _partner_out(pc: selectors.PartnerConsent) -> PartnerConsentOut:
    return PartnerConsentOut(
        person=PersonOut(id=str(pc.person_id), display_name=pc.name),
        scopes=list(pc.scopes),
        until=pc.until,
        purpose=pc.purpose,
    )


def _signal_out(s: warnings.Signal) -> SignalOut:
    return SignalOut(kind=s.kind, label=s.label, person_id=str(s.person_id))


def _homework_out(row: selectors.HomeworkRow) -> HomeworkOut:
    hw = row.homework
    return HomeworkOut(
        id=str(hw.pk),
        link_id=str(hw.link_id),
        kind=hw.kind,
        ref=hw.ref,
        title=hw.title,
        instructions=hw.instructions,
        due_on=hw.due_on,
        created_at=hw.created_at,
        cancelled=hw.cancelled_at is not None,
        overdue=row.overdue,
        assignees=[
            AssigneeOut(
                person=PersonOut(id=str(pid), display_name=name),
                completion=CompletionMarkOut(id=str(done.pk), completed_at=done.created_at)
                if done is not None
                else None,
            )
            for pid, name, done in row.assignees
        ],
    )


def _appointment_out(a: Appointment) -> AppointmentOut:
    return AppointmentOut(
        id=str(a.pk),
        link_id=str(a.link_id),
        kind=a.kind,
        starts_at=a.starts_at,
        minutes=a.minutes,
        cancelled=a.cancelled_at is not None,
    )


def _note_out(n: SessionNote) -> NoteOut:
    return NoteOut(
        id=str(n.pk),
        link_id=str(n.link_id),
        kind=n.kind,
        on_date=n.on_date,
        body=n.body,
        referral_to=n.referral_to,
        created_at=n.created_at,
        updated_at=n.updated_at,
        version=n.version,
    )


def _completion_out(c: HomeworkCompletion, viewer: Any) -> CompletionOut:
    hw = c.assignment.homework
    return CompletionOut(
        id=str(c.pk),
        homework_id=str(hw.pk),
        homework_title=hw.title,
        note=c.note,
        audience=c.audience,
        author=person(c.author),
        is_mine=c.author_id == viewer.pk,
        created_at=c.created_at,
    )


def _homework_row(request: AuthedRequest, homework_id: str) -> selectors.HomeworkRow:
    row = selectors.homework_row(_therapist(request), homework_id, _today(request))
    if row is None:
        raise Http404
    return row


# --- the therapist: caseload and one couple --------------------------------------------------


@router.get("/caseload", response={200: list[CaseOut], 404: Error, **COMMON_ERRORS})
def caseload(request: AuthedRequest) -> Any:
    """Every couple linked with me, those needing attention first: what each partner consented
    to share, warning signs over that alone, overdue homework and the next appointment."""
    therapist = _therapist(request)
    return [
        CaseOut(
            link_id=str(row.link.pk),
            couple=str(row.link.couple),
            linked_at=row.link.created_at,
            partners=[_partner_out(pc) for pc in row.partners],
            signals=[_signal_out(s) for s in row.signals],
            last_shared_at=row.last_shared_at,
            overdue=row.overdue,
            next_appointment=row.next_appointment,
            attention=row.attention,
        )
        for row in selectors.caseload(therapist, _today(request))
    ]


@router.get(
    "/caseload/{uuid:link_id}",
    response={200: CoupleOut, **ANSWERS},
    openapi_extra=sharing(LINK, "clinician"),
)
def couple(request: AuthedRequest, link_id: str) -> Any:
    """One linked couple: consents, warning signs, the timeline of entries shared with me
    (ids only: opening one is what reads it), homework and upcoming appointments."""
    link = _own_link(request, link_id)
    therapist = request.user
    today = _today(request)
    # An ended link shows no consent and no sign (its notes stay reachable).
    active = link.ended_at is None
    partners = selectors.partners_of(therapist, link) if active else []
    signals = selectors.signals_for(therapist, link, today) if active else []
    return CoupleOut(
        link_id=str(link.pk),
        couple=str(link.couple),
        linked_at=link.created_at,
        ended_at=link.ended_at,
        partners=[_partner_out(pc) for pc in partners],
        signals=[_signal_out(s) for s in signals],
        timeline=[
            TimelineItemOut(
                entry_type=i.label,
                id=str(i.id),
                author_id=str(i.author_id),
                created_at=i.created_at,
            )
            for i in selectors.timeline(therapist, link.couple_id)
        ],
        homework=[_homework_out(r) for r in selectors.homework_for_link(therapist, link, today)],
        appointments=[_appointment_out(a) for a in selectors.upcoming_appointments(link)],
    )


@router.post(
    "/caseload/{uuid:link_id}/end",
    response={204: None, **ANSWERS},
    openapi_extra=sharing(LINK, "clinician"),
)
def end_link_as_therapist(request: AuthedRequest, link_id: str) -> Any:
    """End my link with this couple: every consent on it ends at once, upcoming appointments
    are cancelled, my notes stay mine."""
    with _answering():
        services.link_end(actor=_therapist(request), link_id=link_id)
    return Status(204, None)


# --- link invitations ------------------------------------------------------------------------


@router.post("/link-invitations", response={201: InvitationOut, 404: Error, **COMMON_ERRORS})
def create_link_invitation(request: AuthedRequest) -> Any:
    """A single-use invitation for a couple to link with me (7 days). The token and the code
    are shown only now."""
    with _answering():
        new = services.link_invitation_create(therapist=_therapist(request))
    return Status(
        201,
        InvitationOut(
            id=str(new.invitation.pk),
            expires_at=new.invitation.expires_at,
            token=new.token,
            code=new.code,
        ),
    )


@router.get("/link-invitations", response={200: list[InvitationOut], 404: Error, **COMMON_ERRORS})
def list_link_invitations(request: AuthedRequest) -> Any:
    """My invitations still open (without their secrets)."""
    therapist = _therapist(request)
    return [
        InvitationOut(id=str(inv.pk), expires_at=inv.expires_at)
        for inv in selectors.open_link_invitations(therapist)
    ]


@router.delete(
    "/link-invitations/{uuid:invitation_id}",
    response={204: None, **ANSWERS},
    openapi_extra=sharing(INVITATION, "clinician"),
)
def cancel_link_invitation(request: AuthedRequest, invitation_id: str) -> Any:
    with _answering():
        services.link_invitation_cancel(therapist=_therapist(request), invitation_id=invitation_id)
    return Status(204, None)


# --- homework (the therapist's side) ---------------------------------------------------------


@router.post(
    "/caseload/{uuid:link_id}/homework",
    response={200: HomeworkOut, 201: HomeworkOut, **ANSWERS},
    openapi_extra=sharing(LINK, "clinician"),
)
def assign_homework(request: AuthedRequest, link_id: str, payload: HomeworkIn) -> Any:
    """Assign homework to one or both partners. The same `Idempotency-Key` again answers 200
    with the homework it made first."""
    therapist = _therapist(request)
    key = request.headers.get("Idempotency-Key", "").strip()
    if len(key) > 80:
        raise ParamError(
            [
                {
                    "loc": ["header", "Idempotency-Key"],
                    "msg": "Use at most 80 characters.",
                    "type": "value_error",
                }
            ]
        )
    with _answering():
        hw, created = services.homework_assign_once(
            therapist=therapist,
            link_id=link_id,
            kind=payload.kind,
            title=payload.title,
            instructions=payload.instructions,
            ref=payload.ref,
            due_on=payload.due_on,
            assignees=[str(a) for a in payload.assignees],
            idempotency_key=key,
        )
    if not created and (str(hw.link_id) != str(link_id) or hw.title != payload.title.strip()):
        raise ParamError(
            [
                {
                    "loc": ["header", "Idempotency-Key"],
                    "msg": "This key was already used for different homework.",
                    "type": "value_error",
                }
            ]
        )
    row = _homework_row(request, str(hw.pk))
    return Status(201 if created else 200, _homework_out(row))


@router.get(
    "/homework/{uuid:homework_id}",
    response={200: HomeworkOut, **ANSWERS},
    openapi_extra=sharing(HOMEWORK, "clinician"),
)
def get_homework(request: AuthedRequest, homework_id: str) -> Any:
    """Homework I assigned, with each partner's completion if they shared it with me."""
    return _homework_out(_homework_row(request, homework_id))


@router.delete(
    "/homework/{uuid:homework_id}",
    response={204: None, **ANSWERS},
    openapi_extra=sharing(HOMEWORK, "clinician"),
)
def cancel_homework(request: AuthedRequest, homework_id: str) -> Any:
    """Take homework back (kept, marked cancelled; completions stay their authors')."""
    with _answering():
        services.homework_cancel(therapist=_therapist(request), homework_id=homework_id)
    return Status(204, None)


# --- appointments ----------------------------------------------------------------------------


@router.post(
    "/caseload/{uuid:link_id}/appointments",
    response={201: AppointmentOut, **ANSWERS},
    openapi_extra=sharing(LINK, "clinician"),
)
def create_appointment(request: AuthedRequest, link_id: str, payload: AppointmentIn) -> Any:
    with _answering():
        appointment = services.appointment_create(
            therapist=_therapist(request),
            link_id=link_id,
            starts_at=payload.starts_at,
            kind=payload.kind,
            minutes=payload.minutes,
        )
    return Status(201, _appointment_out(appointment))


@router.delete(
    "/appointments/{uuid:appointment_id}",
    response={204: None, **ANSWERS},
    openapi_extra=sharing(APPOINTMENT, "clinician"),
)
def cancel_appointment(request: AuthedRequest, appointment_id: str) -> Any:
    with _answering():
        services.appointment_cancel(therapist=_therapist(request), appointment_id=appointment_id)
    return Status(204, None)


# --- private notes ---------------------------------------------------------------------------


@router.get(
    "/caseload/{uuid:link_id}/notes",
    response={200: list[NoteOut], **ANSWERS},
    openapi_extra=sharing(LINK, "clinician"),
)
def list_notes(request: AuthedRequest, link_id: str) -> Any:
    """My private notes on this couple (also after the link ended), newest first."""
    link = _own_link(request, link_id)
    return [_note_out(n) for n in selectors.notes_for_link(request.user, link)]


@router.post(
    "/caseload/{uuid:link_id}/notes",
    response={201: NoteOut, **ANSWERS},
    openapi_extra=sharing(LINK, "clinician"),
)
def create_note(request: AuthedRequest, link_id: str, payload: NoteIn) -> Any:
    """A session, booster-session or referral note. Nobody but me ever reads it."""
    with _answering():
        note = services.note_create(
            therapist=_therapist(request), link_id=link_id, **payload.dict()
        )
    return Status(201, _note_out(note))


@router.get(
    "/notes/{uuid:note_id}",
    response={200: NoteOut, **ANSWERS},
    openapi_extra=sharing(NOTE, "clinician"),
)
def get_note(request: AuthedRequest, note_id: str) -> Any:
    with _answering():
        return _note_out(services.own_note(_therapist(request), note_id))


@router.put(
    "/notes/{uuid:note_id}",
    response={200: NoteOut, 412: Error, **ANSWERS},
    openapi_extra=sharing(NOTE, "clinician"),
)
def update_note(request: AuthedRequest, note_id: str, payload: NotePut) -> Any:
    """Save a new wording; a stale `version` answers 412 and changes nothing."""
    with _answering():
        note = services.note_update(
            therapist=_therapist(request),
            note_id=note_id,
            version=payload.version,
            body=payload.body,
            on_date=payload.on_date,
            kind=payload.kind,
            referral_to=payload.referral_to,
        )
    return _note_out(note)


@router.delete(
    "/notes/{uuid:note_id}",
    response={204: None, **ANSWERS},
    openapi_extra=sharing(NOTE, "clinician"),
)
def delete_note(request: AuthedRequest, note_id: str) -> Any:
    with _answering():
        services.note_delete(therapist=_therapist(request), note_id=note_id)
    return Status(204, None)


@router.put("/policy", response={200: PolicyOut, 404: Error, **COMMON_ERRORS})
def set_policy(request: AuthedRequest, payload: PolicyIn) -> Any:
    """Whether I accept individual confidences ("my therapist only" entries)."""
    therapist = _therapist(request)
    services.therapist_policy_set(
        therapist=therapist, accepts_confidences=payload.accepts_confidences
    )
    return PolicyOut(accepts_confidences=therapist.accepts_confidences)


# --- a partner: links and consent ------------------------------------------------------------


def _my_links_out(user: Any, links: list[TherapistLink]) -> list[MyLinkOut]:
    """Two queries for any number of links: my active consents, the upcoming appointments."""
    mine = selectors.my_consents(user, links)
    upcoming = selectors.upcoming_appointments_by_link(links)
    out = []
    for lk in links:
        c = mine.get(lk.pk)
        out.append(
            MyLinkOut(
                id=str(lk.pk),
                therapist=person(lk.therapist),
                accepts_confidences=lk.therapist.accepts_confidences,
                linked_at=lk.created_at,
                ended_at=lk.ended_at,
                my_consent=MyConsentOut(
                    scopes=sorted(s.entry_type for s in c.scopes.all()),
                    purpose=c.purpose,
                    until=c.expires_at,
                    given_at=c.given_at,
                )
                if c is not None
                else None,
                appointments=[
                    UpcomingOut(id=str(a.pk), kind=a.kind, starts_at=a.starts_at, minutes=a.minutes)
                    for a in upcoming.get(lk.pk, [])
                ],
            )
        )
    return out


def _my_link(request: AuthedRequest, link_id: str) -> MyLinkOut:
    with _answering():
        link = services.member_link(request.user, link_id)
    return _my_links_out(request.user, [link])[0]


@router.get("/my/links", response={200: list[MyLinkOut], **COMMON_ERRORS})
def my_links(request: AuthedRequest) -> Any:
    """The therapists linked with my couple space (active first), what I consented to and our
    upcoming appointments."""
    return _my_links_out(request.user, selectors.member_links(request.user))


@router.post("/my/links", response={201: MyLinkOut, **COMMON_ERRORS})
def link_by_code(request: AuthedRequest, payload: LinkIn) -> Any:
    """Link my couple space with the therapist who gave us this code. They see nothing until
    one of us consents, each for themselves."""
    with _answering():
        link = services.link_accept(user=request.user, secret=payload.code)
    return Status(201, _my_links_out(request.user, [link])[0])


@router.put(
    "/my/links/{uuid:link_id}/consent",
    response={200: MyLinkOut, **CONFLICTS},
    openapi_extra=sharing(LINK, "couple"),
)
def set_my_consent(request: AuthedRequest, link_id: str, payload: ConsentIn) -> Any:
    """Give or change my consent: which kinds of my entries this therapist may read (when I
    share them with my therapist), why, and until when. Confirm with my password. It replaces
    my earlier consent at once; my partner's consent is theirs alone."""
    user = request.user
    with _answering():
        link = services.member_link(user, link_id)
    if not user.check_password(payload.password):
        raise ValidationError({"password": "That password isn't right."})
    with _answering():
        services.consent_set(
            user=user,
            link_id=link.pk,
            scopes=payload.scopes,
            purpose=payload.purpose,
            until=payload.until,
        )
    return _my_links_out(user, [link])[0]


@router.delete(
    "/my/links/{uuid:link_id}/consent",
    response={204: None, **ANSWERS},
    openapi_extra=sharing(LINK, "couple"),
)
def withdraw_my_consent(request: AuthedRequest, link_id: str) -> Any:
    """Withdraw my consent, effective on the therapist's very next request."""
    with _answering():
        services.consent_withdraw(user=request.user, link_id=link_id)
    return Status(204, None)


@router.post(
    "/my/links/{uuid:link_id}/end",
    response={204: None, **ANSWERS},
    openapi_extra=sharing(LINK, "couple"),
)
def end_link_as_partner(request: AuthedRequest, link_id: str) -> Any:
    """End the link for our couple space (either of us may): every consent on it ends."""
    with _answering():
        # Mine as a member of the couple: the therapist ends theirs from the caseload.
        services.member_link(request.user, link_id)
        services.link_end(actor=request.user, link_id=link_id)
    return Status(204, None)


# --- a partner: homework and completions -----------------------------------------------------


@router.get("/my/homework", response={200: list[MyHomeworkOut], **COMMON_ERRORS})
def my_homework(request: AuthedRequest) -> Any:
    """My own homework in my couple space, open first."""
    today = _today(request)
    out = []
    to_do, done_qs = selectors.my_homework(request.user)
    pairs = [(a, None) for a in to_do] + [(c.assignment, c) for c in done_qs]
    for a, done in pairs:
        hw = a.homework
        out.append(
            MyHomeworkOut(
                id=str(hw.pk),
                kind=hw.kind,
                ref=hw.ref,
                title=hw.title,
                instructions=hw.instructions,
                due_on=hw.due_on,
                therapist=person(hw.therapist),
                overdue=done is None and hw.due_on < today,
                completion=MyCompletionOut(
                    id=str(done.pk),
                    completed_at=done.created_at,
                    audience=done.audience,
                    note=done.note,
                )
                if done is not None
                else None,
            )
        )
    return out


@router.post(
    "/my/homework/{uuid:homework_id}/complete",
    response={200: CompletionOut, 201: CompletionOut, **CONFLICTS},
    openapi_extra=sharing(HOMEWORK, "assignee"),
)
def complete_homework(request: AuthedRequest, homework_id: str, payload: CompleteIn) -> Any:
    """Mark my homework done, with an optional note and who may see it. Sending it again
    keeps the first one (200)."""
    user = request.user
    with _answering():
        services.my_assignment(user, homework_id)
        audience = (
            validate_audience(user, payload.audience, COMPLETION)
            if payload.audience
            else default_audience(user, for_model(HomeworkCompletion))
        )
        done, created = services.homework_complete(
            user=user, homework_id=homework_id, note=payload.note, audience=audience
        )
    done = HomeworkCompletion.objects.select_related("author", "assignment__homework").get(
        pk=done.pk
    )
    return Status(201 if created else 200, _completion_out(done, user))


@router.get(
    "/completions",
    response={200: list[CompletionOut], **COMMON_ERRORS},
    openapi_extra=sharing(COMPLETION, "list"),
)
def list_completions(request: AuthedRequest, params: Query[CompletionFilter]) -> Any:
    """Homework completions I may read (mine, and those shared with me), newest first."""
    items = list(
        visible_to(request.user, HomeworkCompletion)
        .select_related("author", "assignment__homework")
        .order_by("-created_at", "-pk")[: params.limit]
    )
    record_reads(request.user, items, channel="api")
    return [_completion_out(c, request.user) for c in items]


@router.get(
    "/completions/{uuid:completion_id}",
    response={200: CompletionOut, **ANSWERS},
    openapi_extra=sharing(COMPLETION, "read"),
)
def get_completion(request: AuthedRequest, completion_id: str) -> Any:
    """One completion, if its author shared it with me (the read is recorded for them)."""
    done = get_visible_or_404(request.user, HomeworkCompletion, completion_id, channel="api")
    return _completion_out(done, request.user)


@router.put(
    "/completions/{uuid:completion_id}/audience",
    response={200: CompletionOut, **ANSWERS},
    openapi_extra=sharing(COMPLETION, "author"),
)
def set_completion_audience(request: AuthedRequest, completion_id: str, payload: AudienceIn) -> Any:
    done = get_own_or_404(request.user, HomeworkCompletion, completion_id)
    done = entry_audience_set(
        actor=request.user, entry=done, audience=payload.audience, channel="api"
    )
    return _completion_out(done, request.user)


@router.delete(
    "/completions/{uuid:completion_id}",
    response={204: None, **ANSWERS},
    openapi_extra=sharing(COMPLETION, "author"),
)
def delete_completion(request: AuthedRequest, completion_id: str) -> Any:
    """Take back my "done" and its note: the homework is open for me again."""
    done = get_own_or_404(request.user, HomeworkCompletion, completion_id)
    services.completion_delete(user=request.user, completion=done, channel="api")
    return Status(204, None)


# --- a clinic administrator ------------------------------------------------------------------


def _admin_clinic(request: AuthedRequest) -> Any:
    clinic = services.admin_clinic(request.user)
    if clinic is None:
        raise Http404
    return clinic


@router.get("/admin/therapists", response={200: list[TherapistOut], 404: Error, **COMMON_ERRORS})
def clinic_therapists(request: AuthedRequest) -> Any:
    """The therapists of the clinic I administer (never their couples or anything shared)."""
    clinic = _admin_clinic(request)
    return [
        TherapistOut(
            member_id=str(m.pk), therapist=person(m.user), email=m.user.email, joined_at=m.joined_at
        )
        for m in selectors.clinic_therapists(clinic)
    ]


@router.post("/admin/invitations", response={201: ClinicInvitationOut, 404: Error, **COMMON_ERRORS})
def invite_therapist(request: AuthedRequest, payload: ClinicInviteIn) -> Any:
    """Invite a therapist by email (single use, 7 days). The token is shown only now."""
    with _answering():
        new = services.clinic_invite(admin=request.user, email=payload.email)
    inv = new.invitation
    return Status(
        201,
        ClinicInvitationOut(
            id=str(inv.pk), email=inv.email, expires_at=inv.expires_at, token=new.token
        ),
    )


@router.get(
    "/admin/invitations", response={200: list[ClinicInvitationOut], 404: Error, **COMMON_ERRORS}
)
def clinic_invitations(request: AuthedRequest) -> Any:
    """The clinic's invitations still open (without their tokens)."""
    return [
        ClinicInvitationOut(id=str(inv.pk), email=inv.email, expires_at=inv.expires_at)
        for inv in selectors.open_clinic_invitations(_admin_clinic(request))
    ]


@router.delete(
    "/admin/invitations/{uuid:invitation_id}",
    response={204: None, **ANSWERS},
    openapi_extra=sharing(CLINIC_INVITATION, "clinic_admin"),
)
def cancel_clinic_invitation(request: AuthedRequest, invitation_id: str) -> Any:
    with _answering():
        services.clinic_invitation_cancel(admin=request.user, invitation_id=invitation_id)
    return Status(204, None)


@router.delete(
    "/admin/members/{uuid:member_id}",
    response={204: None, **ANSWERS},
    openapi_extra=sharing(MEMBER, "clinic_admin"),
)
def end_membership(request: AuthedRequest, member_id: str) -> Any:
    """A therapist leaves the clinic. Their couples' links and consents are the couples'."""
    with _answering():
        services.clinic_member_end(admin=request.user, member_id=member_id)
    return Status(204, None)


@router.post("/join-clinic", response={200: JoinedOut, **COMMON_ERRORS})
def join_clinic(request: AuthedRequest, payload: JoinIn) -> Any:
    """Join a clinic as a therapist with the invitation token the administrator sent."""
    with _answering():
        member = services.clinic_invitation_accept(user=request.user, token=payload.token)
    return JoinedOut(clinic=member.clinic.name, member_id=str(member.pk))
