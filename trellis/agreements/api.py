"""The agreements API (SPEC C5). The document (`Agreement`, its versions, reviews) is for the
couple's current members; every wording and proposal is an entry and is read through sharing's
policy via the selectors, which record the reads. Denied looks exactly like missing (404)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.db.models import F
from django.http import Http404
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.errors import ValidationError as ParamError

from trellis.api.schemas import COMMON_ERRORS, Error, PersonOut, StrictIn, person
from trellis.core.http import AuthedRequest
from trellis.lib.dates import local_today
from trellis.sharing.policy import record_reads, visible_to

from . import diff, selectors, services
from .models import (
    Agreement,
    AgreementProposal,
    AgreementReview,
    AgreementVersion,
    ClauseText,
)

router = Router(tags=["agreements"])

KindLiteral = Literal["add", "change", "retire"]
AudienceLiteral = Literal["partner", "partner_therapist"]
StatusLiteral = Literal["open", "accepted", "declined", "countered", "withdrawn"]

# Where a service names a field differently from the request body.
BODY_NAMES = {"clause": "clause_id"}


def sharing(label: str, op: str) -> dict[str, Any]:
    """Marks an operation for the authorization matrix (tests/security)."""
    return {"x-sharing": {"entry_type": label, "op": op}}


COUPLE = sharing("agreement", "couple")
PROPOSAL = AgreementProposal.entry_type_label
CLAUSE = ClauseText.entry_type_label


# --- schemas ---------------------------------------------------------------------------------


class ClauseOut(Schema):
    """One clause of a version. `text_id`, `text` and `rationale` are null when the wording was
    not shared with the reader."""

    clause_id: str
    section: str
    text_id: str | None
    text: str | None
    rationale: str | None
    author: PersonOut | None
    accepted_by: PersonOut | None
    in_version: int | None
    review_on: date
    due: bool


class ProposalOut(Schema):
    id: str
    kind: str
    status: str
    stale: bool
    section: str
    clause_id: str | None
    text: str
    rationale: str
    reason: str
    review_on: date | None
    base_version: int
    version: int
    author: PersonOut
    decided_by: PersonOut | None
    decided_at: datetime | None
    response: str
    counter_to: str | None
    result_version: int | None
    created_at: datetime
    audience: str


class AgreementOut(Schema):
    id: str
    version: int
    clauses: list[ClauseOut]
    open_proposals: list[ProposalOut]
    review_open: bool
    due_for_review: int


class VersionOut(Schema):
    number: int
    created_at: datetime
    kind: str
    clause_id: str | None
    proposed_by: PersonOut | None
    accepted_by: PersonOut | None
    proposal_id: str | None


class ClauseDiffOut(Schema):
    op: str
    clause_id: str
    section: str
    old_text: str | None
    new_text: str | None
    old_parts: list[tuple[str, str]]
    new_parts: list[tuple[str, str]]


class ReviewOut(Schema):
    """The review now (`open` false and no id: none was called, or the last one was closed).
    `kept_by`: clause id -> ids of the partners who said "this still works for me"."""

    id: str | None
    open: bool
    called_by: PersonOut | None
    called_at: datetime | None
    closed_at: datetime | None
    kept_by: dict[str, list[str]]
    due_for_review: int


class ClauseTextOut(Schema):
    id: str
    clause_id: str
    section: str
    text: str
    rationale: str
    review_on: date
    in_version: int
    in_force: bool
    author: PersonOut
    accepted_by: PersonOut | None
    accepted_at: datetime
    audience: str


class ProposalIn(StrictIn):
    kind: KindLiteral
    base_version: int = Field(..., ge=0)
    clause_id: str | None = Field(None, max_length=64)
    section: str = Field("", max_length=20)
    text: str = ""
    rationale: str = ""
    reason: str = ""
    review_on: date | None = None
    audience: AudienceLiteral = "partner_therapist"


class ReviewIn(StrictIn):
    action: Literal["call", "keep", "close"]
    clause_id: str | None = Field(None, max_length=64)


class AcceptIn(StrictIn):
    version: int = Field(..., ge=1)


class DeclineIn(StrictIn):
    version: int = Field(..., ge=1)
    reason: str = ""


class CounterIn(StrictIn):
    version: int = Field(..., ge=1)
    text: str = ""
    rationale: str = ""
    reason: str = ""
    review_on: date | None = None
    audience: AudienceLiteral = "partner_therapist"


class ReviseIn(StrictIn):
    version: int = Field(..., ge=1)
    base_version: int = Field(..., ge=0)
    text: str = ""
    rationale: str = ""
    reason: str = ""
    review_on: date | None = None


class ProposalFilter(Schema):
    status: StatusLiteral | None = None
    limit: int = Field(100, ge=1, le=500)


class ClauseFilter(Schema):
    all: bool = False
    limit: int = Field(200, ge=1, le=500)


# --- building the answers --------------------------------------------------------------------


def _person(user: Any) -> PersonOut | None:
    return person(user) if user is not None else None


def _named(pk: Any, name: str | None) -> PersonOut | None:
    """A person from an id and the name read with the row (see selectors.Line)."""
    return PersonOut(id=str(pk), display_name=name or "") if pk is not None else None


def _id(value: Any) -> str | None:
    return str(value) if value is not None else None


def proposal_out(p: AgreementProposal) -> ProposalOut:
    return ProposalOut(
        id=str(p.pk),
        kind=p.kind,
        status=p.status,
        stale=p.status == AgreementProposal.Status.OPEN and services.proposal_is_stale(p),
        section=p.section,
        clause_id=_id(p.clause_id),
        text=p.text,
        rationale=p.rationale,
        reason=p.reason,
        review_on=p.review_on,
        base_version=p.base_version,
        version=p.version,
        author=person(p.author),
        decided_by=_person(p.decided_by),
        decided_at=p.decided_at,
        response=p.response,
        counter_to=_id(p.counter_to_id),
        result_version=p.result_version,
        created_at=p.created_at,
        audience=p.audience,
    )


def version_out(v: AgreementVersion) -> VersionOut:
    return VersionOut(
        number=v.number,
        created_at=v.created_at,
        kind=v.kind,
        clause_id=_id(v.clause_id),
        proposed_by=_person(v.proposed_by),
        accepted_by=_person(v.accepted_by),
        proposal_id=_id(v.proposal_id),
    )


def clause_text_out(t: ClauseText) -> ClauseTextOut:
    clause = t.clause
    return ClauseTextOut(
        id=str(t.pk),
        clause_id=str(t.clause_id),
        section=t.section,
        text=t.text,
        rationale=t.rationale,
        review_on=t.review_on,
        in_version=t.in_version,
        in_force=clause.current_id == t.pk and clause.retired_at is None,
        author=person(t.author),
        accepted_by=_person(t.accepted_by),
        accepted_at=t.accepted_at,
        audience=t.audience,
    )


def _today(request: AuthedRequest) -> date:
    return local_today(request.user.time_zone)


def agreement_out(request: AuthedRequest, agreement: Agreement, number: int) -> AgreementOut:
    user = request.user
    today = _today(request)
    version = selectors.version_of(agreement, number) if number else None
    clauses = []
    for line in selectors.lines_of(user, agreement, version, channel="api"):
        clause, text = line.clause, line.text
        clauses.append(
            ClauseOut(
                clause_id=str(clause.pk),
                section=clause.section,
                text_id=_id(text.pk) if text else None,
                text=text.text if text else None,
                rationale=text.rationale if text else None,
                author=_named(text.author_id, line.author_name) if text else None,
                accepted_by=_named(text.accepted_by_id, line.accepted_by_name) if text else None,
                in_version=text.in_version if text else None,
                review_on=clause.review_on,
                due=clause.retired_at is None and clause.review_on <= today,
            )
        )
    proposals = selectors.proposals_visible(user, agreement, open_only=True, channel="api")
    return AgreementOut(
        id=str(agreement.pk),
        version=number,
        clauses=clauses,
        open_proposals=[proposal_out(p) for p in proposals],
        review_open=selectors.open_review(agreement) is not None,
        due_for_review=selectors.due_count(agreement, today),
    )


def review_out(
    request: AuthedRequest, agreement: Agreement, review: AgreementReview | None
) -> ReviewOut:
    keeps = selectors.keeps_in(review) if review is not None and review.closed_at is None else {}
    return ReviewOut(
        id=_id(review.pk) if review else None,
        open=review is not None and review.closed_at is None,
        called_by=_person(review.called_by) if review else None,
        called_at=review.called_at if review else None,
        closed_at=review.closed_at if review else None,
        kept_by={k: sorted(str(u) for u in v) for k, v in keeps.items()},
        due_for_review=selectors.due_count(agreement, _today(request)),
    )


def _query_error(name: str, msg: str) -> ParamError:
    return ParamError([{"loc": ["query", name], "msg": msg, "type": "value_error"}])


def _number(agreement: Agreement, name: str, value: int | None, default: int) -> int:
    """A version number of this agreement (0: the empty document before anything was agreed)."""
    if value is None:
        return default
    if value < 0 or value > agreement.version:
        raise _query_error(
            name, f"This agreement has versions 0 to {agreement.version}; choose one of them."
        )
    return value


@contextmanager
def _answering() -> Iterator[None]:
    """Service outcomes as HTTP: the other partner's action (or not a member) is 404, a stale
    proposal 409 with what changed, and field names as the request body spells them."""
    try:
        yield
    except services.NotYours:
        raise Http404 from None
    except services.Stale as exc:
        raise HttpError(409, exc.message) from None
    except ValidationError as exc:
        if not hasattr(exc, "error_dict"):
            raise
        raise ValidationError(
            {BODY_NAMES.get(field, field): msgs for field, msgs in exc.message_dict.items()}
        ) from None


ANSWERS = {404: Error, 409: Error, **COMMON_ERRORS}


# --- the agreement (couple-scoped) -----------------------------------------------------------


@router.get("/agreement", response={200: AgreementOut, 404: Error, **COMMON_ERRORS})
def current_agreement(request: AuthedRequest) -> Any:
    """The agreement of my couple space as it stands now (404 when I am in none)."""
    agreement = services.agreement_for(request.user)
    if agreement is None:
        raise Http404
    return agreement_out(request, agreement, agreement.version)


@router.get(
    "/agreements/{uuid:agreement_id}",
    response={200: AgreementOut, 404: Error, **COMMON_ERRORS},
    openapi_extra=COUPLE,
)
def get_agreement(request: AuthedRequest, agreement_id: str, version: int | None = None) -> Any:
    """The agreement as it stood at `version` (default: now; 0 is the empty document)."""
    agreement = selectors.agreement_for_member(request.user, agreement_id)
    number = _number(agreement, "version", version, agreement.version)
    return agreement_out(request, agreement, number)


@router.get(
    "/agreements/{uuid:agreement_id}/versions",
    response={200: list[VersionOut], 404: Error, **COMMON_ERRORS},
    openapi_extra=COUPLE,
)
def list_versions(request: AuthedRequest, agreement_id: str) -> Any:
    agreement = selectors.agreement_for_member(request.user, agreement_id)
    return [version_out(v) for v in selectors.versions_of(agreement)]


@router.get(
    "/agreements/{uuid:agreement_id}/diff",
    response={200: list[ClauseDiffOut], 404: Error, **COMMON_ERRORS},
    openapi_extra=COUPLE,
)
def compare_versions(
    request: AuthedRequest, agreement_id: str, a: int | None = None, b: int | None = None
) -> Any:
    """Clause by clause from version `a` to version `b` (default: the last change)."""
    agreement = selectors.agreement_for_member(request.user, agreement_id)
    later = _number(agreement, "b", b, agreement.version)
    earlier = _number(agreement, "a", a, max(later - 1, 0))
    docs = []
    for n in (earlier, later):
        version = selectors.version_of(agreement, n) if n else None
        docs.append(
            selectors.doc_of(
                selectors.lines_of(request.user, agreement, version, channel="api", rationale=False)
            )
        )
    return [
        ClauseDiffOut(
            op=change.op,
            clause_id=change.clause_id,
            section=_section_of(change),
            old_text=change.old.text if change.old else None,
            new_text=change.new.text if change.new else None,
            old_parts=change.old_parts(),
            new_parts=change.new_parts(),
        )
        for change in diff.diff(docs[0], docs[1])
    ]


def _section_of(change: diff.ClauseDiff) -> str:
    shown = change.new or change.old
    return shown.section if shown is not None else ""


@router.post(
    "/agreements/{uuid:agreement_id}/proposals",
    response={200: ProposalOut, 201: ProposalOut, **ANSWERS},
    openapi_extra=COUPLE,
)
def propose(request: AuthedRequest, agreement_id: str, payload: ProposalIn) -> Any:
    """Propose adding, changing or retiring a clause. The very same open proposal sent twice
    answers 200 with the first one."""
    agreement = selectors.agreement_for_member(request.user, agreement_id)
    with _answering():
        proposal, created = services.proposal_create(
            author=request.user,
            agreement=agreement,
            kind=payload.kind,
            base_version=payload.base_version,
            clause_id=payload.clause_id,
            section=payload.section,
            text=payload.text,
            rationale=payload.rationale,
            reason=payload.reason,
            review_on=payload.review_on,
            audience=payload.audience,
        )
    return Status(201 if created else 200, proposal_out(proposal))


@router.post(
    "/agreements/{uuid:agreement_id}/review",
    response={200: ReviewOut, **ANSWERS},
    openapi_extra=COUPLE,
)
def review(request: AuthedRequest, agreement_id: str, payload: ReviewIn) -> Any:
    """Call a review (either partner, any time), keep a clause in it, or close it."""
    agreement = selectors.agreement_for_member(request.user, agreement_id)
    user = request.user
    current: AgreementReview | None
    with _answering():
        if payload.action == "call":
            current, _ = services.review_call(user=user, agreement=agreement)
        elif payload.action == "keep":
            if not payload.clause_id:
                raise ValidationError({"clause_id": "Say which clause still works for you."})
            services.review_keep(user=user, agreement=agreement, clause_id=payload.clause_id)
            current = selectors.open_review(agreement)
        else:
            current = services.review_close(user=user, agreement=agreement)
    return review_out(request, agreement, current)


# --- proposals (entries) ---------------------------------------------------------------------


@router.get(
    "/proposals",
    response={200: list[ProposalOut], **COMMON_ERRORS},
    openapi_extra=sharing(PROPOSAL, "list"),
)
def list_proposals(request: AuthedRequest, params: Query[ProposalFilter]) -> Any:
    """Every proposal I may read, newest first (`?status=open` for those waiting)."""
    qs = (
        visible_to(request.user, AgreementProposal)
        .select_related("author", "decided_by", "clause", "clause__current")
        .order_by("-created_at", "-pk")
    )
    if params.status:
        qs = qs.filter(status=params.status)
    proposals = list(qs[: params.limit])
    record_reads(request.user, proposals, channel="api")
    return [proposal_out(p) for p in proposals]


@router.get(
    "/proposals/{uuid:proposal_id}",
    response={200: ProposalOut, 404: Error, **COMMON_ERRORS},
    openapi_extra=sharing(PROPOSAL, "read"),
)
def get_proposal(request: AuthedRequest, proposal_id: str) -> Any:
    return proposal_out(selectors.proposal_for_reader(request.user, proposal_id, channel="api"))


@router.post(
    "/proposals/{uuid:proposal_id}/accept",
    response={200: VersionOut, **ANSWERS},
    openapi_extra=sharing(PROPOSAL, "respond"),
)
def accept_proposal(request: AuthedRequest, proposal_id: str, payload: AcceptIn) -> Any:
    """Accept my partner's proposal (`version`: the proposal's version I read). The only way
    the document changes; answers the new version."""
    proposal = selectors.proposal_for_reader(request.user, proposal_id, channel="api")
    with _answering():
        version = services.proposal_accept(
            user=request.user, proposal=proposal, expected_version=payload.version
        )
    return version_out(version)


@router.post(
    "/proposals/{uuid:proposal_id}/decline",
    response={200: ProposalOut, **ANSWERS},
    openapi_extra=sharing(PROPOSAL, "respond"),
)
def decline_proposal(request: AuthedRequest, proposal_id: str, payload: DeclineIn) -> Any:
    proposal = selectors.proposal_for_reader(request.user, proposal_id, channel="api")
    with _answering():
        declined = services.proposal_decline(
            user=request.user,
            proposal=proposal,
            expected_version=payload.version,
            reason=payload.reason,
        )
    return proposal_out(declined)


@router.post(
    "/proposals/{uuid:proposal_id}/counter",
    response={201: ProposalOut, **ANSWERS},
    openapi_extra=sharing(PROPOSAL, "respond"),
)
def counter_proposal(request: AuthedRequest, proposal_id: str, payload: CounterIn) -> Any:
    """Answer my partner's proposal with my own wording; answers the new counter-proposal."""
    proposal = selectors.proposal_for_reader(request.user, proposal_id, channel="api")
    with _answering():
        counter = services.proposal_counter(
            user=request.user,
            proposal=proposal,
            expected_version=payload.version,
            text=payload.text,
            rationale=payload.rationale,
            reason=payload.reason,
            review_on=payload.review_on,
            audience=payload.audience,
        )
    return Status(201, proposal_out(counter))


@router.post(
    "/proposals/{uuid:proposal_id}/withdraw",
    response={200: ProposalOut, **ANSWERS},
    openapi_extra=sharing(PROPOSAL, "author"),
)
def withdraw_proposal(request: AuthedRequest, proposal_id: str) -> Any:
    proposal = selectors.proposal_for_author(request.user, proposal_id)
    with _answering():
        withdrawn = services.proposal_withdraw(author=request.user, proposal=proposal)
    return proposal_out(withdrawn)


@router.put(
    "/proposals/{uuid:proposal_id}",
    response={200: ProposalOut, **ANSWERS},
    openapi_extra=sharing(PROPOSAL, "author"),
)
def revise_proposal(request: AuthedRequest, proposal_id: str, payload: ReviseIn) -> Any:
    """Revise my open proposal, e.g. against the current version after it went stale."""
    proposal = selectors.proposal_for_author(request.user, proposal_id)
    with _answering():
        revised = services.proposal_rebase(
            author=request.user,
            proposal=proposal,
            expected_version=payload.version,
            base_version=payload.base_version,
            text=payload.text,
            rationale=payload.rationale,
            reason=payload.reason,
            review_on=payload.review_on,
        )
    return proposal_out(revised)


# --- clause wordings (entries) ---------------------------------------------------------------


@router.get(
    "/clauses",
    response={200: list[ClauseTextOut], **COMMON_ERRORS},
    openapi_extra=sharing(CLAUSE, "list"),
)
def list_clauses(request: AuthedRequest, params: Query[ClauseFilter]) -> Any:
    """The wordings in force that I may read, newest agreement first (`?all=true`: every
    wording, including earlier ones and retired clauses)."""
    qs = visible_to(request.user, ClauseText).select_related("author", "accepted_by", "clause")
    if not params.all:
        qs = qs.filter(clause__current_id=F("pk"), clause__retired_at__isnull=True)
    texts = list(
        qs.order_by(
            "-clause__agreement__created_at", "clause__agreement_id", "in_version", "created_at"
        )[: params.limit]
    )
    record_reads(request.user, texts, channel="api")
    return [clause_text_out(t) for t in texts]


@router.get(
    "/clauses/{uuid:clause_text_id}",
    response={200: ClauseTextOut, 404: Error, **COMMON_ERRORS},
    openapi_extra=sharing(CLAUSE, "read"),
)
def get_clause_text(request: AuthedRequest, clause_text_id: str) -> Any:
    return clause_text_out(
        selectors.clause_text_for_reader(request.user, clause_text_id, channel="api")
    )
