"""Every write to an agreement. Each one takes a row lock on the couple's `Agreement` first, so
two partners acting at the same moment are served one after the other: nothing is lost,
nothing is applied twice, and a proposal made against an older wording is caught as stale.

Two-party consent: the document changes only in `proposal_accept`, and only the partner who
did not write the proposal can accept it. Writing a proposal is its author's consent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from trellis.couples.models import Membership
from trellis.lib.dates import local_today
from trellis.sharing.audiences import Audience
from trellis.sharing.models import AuditEvent
from trellis.sharing.policy import audit
from trellis.sharing.services import current_couple_id

from .models import (
    SECTION_ORDER,
    Agreement,
    AgreementProposal,
    AgreementReview,
    AgreementVersion,
    Clause,
    ClauseKeep,
    ClauseText,
    Section,
)

MAX_TEXT = 2000
MAX_NOTE = 2000
PROPOSAL_AUDIENCES = (Audience.PARTNER, Audience.PARTNER_THERAPIST)
DEFAULT_REVIEW_DAYS = 90
MIN_REVIEW_DAYS = 14
MAX_REVIEW_DAYS = 3 * 366


class Stale(Exception):
    """What the person acted on changed a moment ago. `what` says what, for the message."""

    def __init__(self, message: str, *, current_version: int):
        super().__init__(message)
        self.message = message
        self.current_version = current_version


class NotYours(PermissionError):
    """The action belongs to the other partner (or to a member, and this is not one)."""


# --- reading the state under the lock --------------------------------------------------------


def _is_member(user: Any, couple_id: Any) -> bool:
    return Membership.objects.filter(user=user, couple_id=couple_id, left_at__isnull=True).exists()


def agreement_for(user: Any) -> Agreement | None:
    """The agreement of the user's current couple space, made the first time it is needed."""
    couple_id = current_couple_id(user)
    if couple_id is None:
        return None
    agreement = Agreement.objects.filter(couple_id=couple_id).first()
    if agreement is not None:
        return agreement
    try:
        with transaction.atomic():
            return Agreement.objects.create(couple_id=couple_id)
    except IntegrityError:  # the partner opened it at the same moment
        return Agreement.objects.get(couple_id=couple_id)


def _lock(agreement: Agreement, user: Any) -> Agreement:
    locked = Agreement.objects.select_for_update().get(pk=agreement.pk)
    if not _is_member(user, locked.couple_id):
        raise NotYours("Only the couple's members change their agreement.")
    return locked


def proposal_is_stale(proposal: AgreementProposal, clause: Clause | None = None) -> bool:
    """A proposal on a clause is stale when that clause changed (a new wording, or retired)
    after the version the proposal was made against. Adding a clause is never stale."""
    if proposal.kind == AgreementProposal.Kind.ADD or proposal.clause_id is None:
        return False
    clause = clause or proposal.clause
    if clause is None:
        return True
    if clause.retired_in is not None:
        return True
    current_in = clause.current.in_version if clause.current_id and clause.current else 0
    return current_in > proposal.base_version


# --- checking what a person wrote ------------------------------------------------------------


@dataclass
class Terms:
    kind: str
    section: str
    text: str
    rationale: str
    reason: str
    review_on: date | None
    clause: Clause | None


def _review_date(value: Any, today: date, errors: dict[str, str]) -> date | None:
    if value in (None, ""):
        return today + timedelta(days=DEFAULT_REVIEW_DAYS)
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            errors["review_on"] = "Give the review date as a date, e.g. 2027-03-01."
            return None
    if not isinstance(value, date):
        errors["review_on"] = "Give the review date as a date, e.g. 2027-03-01."
        return None
    if value <= today:
        errors["review_on"] = "Choose a review date after today."
        return None
    if value > today + timedelta(days=MAX_REVIEW_DAYS):
        errors["review_on"] = "Choose a review date within the next three years."
        return None
    return value


def _clean_terms(
    *,
    agreement: Agreement,
    author: Any,
    kind: str,
    clause_id: Any,
    section: str,
    text: str,
    rationale: str,
    reason: str,
    review_on: Any,
) -> Terms:
    errors: dict[str, str] = {}
    text = (text or "").strip()
    rationale = (rationale or "").strip()
    reason = (reason or "").strip()
    clause: Clause | None = None
    if kind not in AgreementProposal.Kind.values:
        errors["kind"] = "Choose whether to add, change or retire a clause."
    if kind in (AgreementProposal.Kind.CHANGE, AgreementProposal.Kind.RETIRE):
        clause = (
            Clause.objects.filter(agreement=agreement, pk=_uuid(clause_id))
            .select_related("current")
            .first()
        )
        if clause is None:
            errors["clause"] = "Choose a clause of your agreement."
        elif clause.retired_at is not None:
            errors["clause"] = "That clause was retired; propose a new one instead."
        else:
            section = clause.section
    if section not in Section.values:
        errors["section"] = "Choose a section."
    if kind != AgreementProposal.Kind.RETIRE:
        if not text:
            errors["text"] = "Write the clause as you would like it to read."
        elif len(text) > MAX_TEXT:
            errors["text"] = f"Keep a clause under {MAX_TEXT:,} characters."
        elif (
            kind == AgreementProposal.Kind.CHANGE
            and clause is not None
            and clause.current is not None
            and clause.current.text == text
        ):
            errors["text"] = "This is the clause's wording now: change something, or keep it."
    else:
        text = ""
        if not reason:
            errors["reason"] = "Say in a few words why this clause can be retired."
    if len(rationale) > MAX_NOTE:
        errors["rationale"] = f"Keep the reason behind it under {MAX_NOTE:,} characters."
    if len(reason) > MAX_NOTE:
        errors["reason"] = f"Keep the reason under {MAX_NOTE:,} characters."
    today = local_today(author.time_zone)
    review = _review_date(review_on, today, errors) if kind != "retire" else None
    if errors:
        raise ValidationError(errors)
    return Terms(kind, section, text, rationale, reason, review, clause)


def _uuid(value: Any) -> Any:
    import uuid

    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        return None


def _audience(value: str) -> Audience:
    if value not in PROPOSAL_AUDIENCES:
        raise ValidationError(
            {"audience": "An agreement is for your partner (and, if you wish, your therapist)."}
        )
    return Audience(value)


def _check_base(locked: Agreement, terms: Terms, base_version: Any) -> int:
    """The version the person was looking at. If the clause they are changing has changed
    since, they must look again first: refused with a clear message, never overwritten."""
    try:
        base = int(base_version)
    except (TypeError, ValueError):
        raise ValidationError(
            {"base_version": "Say which version of the agreement this is based on."}
        ) from None
    if base < 0 or base > locked.version:
        raise ValidationError({"base_version": "That version of the agreement does not exist."})
    clause = terms.clause
    if clause is not None and clause.current is not None and clause.current.in_version > base:
        raise Stale(
            "This clause changed after you opened it: your partner and you agreed a new "
            f"wording in version {clause.current.in_version}. Read it, then make your proposal "
            "again.",
            current_version=locked.version,
        )
    return base


# --- the writes ------------------------------------------------------------------------------


@transaction.atomic
def proposal_create(
    *,
    author: Any,
    agreement: Agreement,
    kind: str,
    base_version: Any,
    clause_id: Any = None,
    section: str = "",
    text: str = "",
    rationale: str = "",
    reason: str = "",
    review_on: Any = None,
    audience: str = Audience.PARTNER_THERAPIST,
    counter_to: AgreementProposal | None = None,
) -> tuple[AgreementProposal, bool]:
    """Propose a change. Returns (proposal, created): the very same open proposal sent twice
    (a double tap, a retried request) is kept once."""
    locked = _lock(agreement, author)
    aud = _audience(audience)
    terms = _clean_terms(
        agreement=locked,
        author=author,
        kind=kind,
        clause_id=clause_id,
        section=section,
        text=text,
        rationale=rationale,
        reason=reason,
        review_on=review_on,
    )
    base = _check_base(locked, terms, base_version)
    for twin in AgreementProposal.objects.filter(
        agreement=locked,
        author=author,
        status=AgreementProposal.Status.OPEN,
        kind=terms.kind,
        clause=terms.clause,
        section=terms.section,
        counter_to=counter_to,
    ):
        if (twin.text, twin.rationale, twin.reason) == (terms.text, terms.rationale, terms.reason):
            return twin, False
    now = timezone.now()
    proposal = AgreementProposal.objects.create(
        author=author,
        couple_id=locked.couple_id,
        audience=aud,
        agreement=locked,
        kind=terms.kind,
        clause=terms.clause,
        section=terms.section,
        text=terms.text,
        rationale=terms.rationale,
        reason=terms.reason,
        review_on=terms.review_on,
        base_version=base,
        counter_to=counter_to,
        created_at=now,
        updated_at=now,
    )
    audit(owner=author, actor=author, action=AuditEvent.Action.CREATED, entry=proposal)
    return proposal, True


def _require_open(current: AgreementProposal) -> None:
    if current.status != AgreementProposal.Status.OPEN:
        raise ValidationError(
            {"proposal": f"This proposal was already answered ({current.get_status_display()})."}
        )


def _require_version(
    current: AgreementProposal, expected_version: Any, locked: Agreement, message: str
) -> None:
    """Optimistic check: the person acted on the proposal as it was at `expected_version`."""
    try:
        expected = int(expected_version)
    except (TypeError, ValueError):
        raise ValidationError({"version": "Say which version of the proposal you read."}) from None
    if expected != current.version:
        raise Stale(message, current_version=locked.version)


def _open_for_answer(
    locked: Agreement, proposal: AgreementProposal, user: Any, expected_version: Any
) -> AgreementProposal:
    current = AgreementProposal.objects.select_for_update().get(pk=proposal.pk)
    if current.agreement_id != locked.pk:
        raise NotYours("This proposal is not part of your agreement.")
    if current.author_id == user.pk:
        raise NotYours("Your partner answers your proposal; you can withdraw it.")
    _require_open(current)
    _require_version(
        current,
        expected_version,
        locked,
        "This proposal was revised after you opened it. Read it again before you answer.",
    )
    return current


def _decide(
    proposal: AgreementProposal, user: Any, status: str, now: Any, **fields: Any
) -> AgreementProposal:
    """Close an open proposal (accepted, declined, countered, withdrawn) by `user`, with any
    extra fields (the decline's words, the resulting version); its version goes up."""
    proposal.status = status
    proposal.decided_by = user
    proposal.decided_at = now
    for name, value in fields.items():
        setattr(proposal, name, value)
    proposal.version += 1
    proposal.updated_at = now
    proposal.save(
        update_fields=["status", "decided_by", "decided_at", "version", "updated_at", *fields]
    )
    return proposal


def _snapshot(agreement: Agreement) -> list[list[str]]:
    rows = (
        Clause.objects.filter(agreement=agreement, retired_at__isnull=True, current__isnull=False)
        .values_list("id", "current_id", "section", "created_at")
        .order_by("created_at", "id")
    )
    ordered = sorted(rows, key=lambda r: (SECTION_ORDER.get(r[2], 99), r[3], str(r[0])))
    return [[str(cid), str(tid)] for cid, tid, _, _ in ordered]


@transaction.atomic
def proposal_accept(
    *, user: Any, proposal: AgreementProposal, expected_version: Any
) -> AgreementVersion:
    """The other partner accepts: the only way the document changes. Makes the next version."""
    locked = _lock(proposal.agreement, user)
    current = AgreementProposal.objects.get(pk=proposal.pk)
    if (
        current.status == AgreementProposal.Status.ACCEPTED
        and current.decided_by_id == user.pk
        and current.result_version
    ):
        # A repeated accept (a retry, a double tap) changes nothing the second time.
        return AgreementVersion.objects.get(agreement=locked, number=current.result_version)
    current = _open_for_answer(locked, proposal, user, expected_version)
    # of=("self",): PostgreSQL refuses FOR UPDATE on the nullable side of the outer join that
    # select_related("current") makes; the clause row is the one to lock.
    clause = (
        Clause.objects.select_for_update(of=("self",))
        .select_related("current")
        .get(pk=current.clause_id)
        if current.clause_id
        else None
    )
    if proposal_is_stale(current, clause):
        raise Stale(
            "This proposal was made before the clause last changed, so it cannot be accepted "
            "as it is. Your partner can update it to the current wording, or you can propose "
            "your own change.",
            current_version=locked.version,
        )
    now = timezone.now()
    number = locked.version + 1
    today = local_today(user.time_zone)
    if current.kind == AgreementProposal.Kind.RETIRE:
        assert clause is not None
        clause.retired_at = now
        clause.retired_in = number
        clause.save(update_fields=["retired_at", "retired_in"])
    else:
        review_on = current.review_on or today + timedelta(days=DEFAULT_REVIEW_DAYS)
        if clause is None:
            clause = Clause.objects.create(
                agreement=locked,
                section=current.section,
                created_at=now,
                created_in=number,
                review_on=review_on,
            )
        text = ClauseText.objects.create(
            author_id=current.author_id,
            couple_id=locked.couple_id,
            audience=current.audience,
            clause=clause,
            proposal=current,
            section=clause.section,
            text=current.text,
            rationale=current.rationale,
            review_on=review_on,
            in_version=number,
            accepted_at=now,
            accepted_by=user,
            created_at=now,
            updated_at=now,
        )
        clause.current = text
        clause.review_on = review_on
        clause.review_every_days = max(MIN_REVIEW_DAYS, (review_on - today).days)
        clause.save(update_fields=["current", "review_on", "review_every_days"])
    version = AgreementVersion.objects.create(
        agreement=locked,
        number=number,
        created_at=now,
        proposal=current,
        proposed_by_id=current.author_id,
        accepted_by=user,
        kind=current.kind,
        clause=clause,
        clauses=_snapshot(locked),
    )
    _decide(current, user, AgreementProposal.Status.ACCEPTED, now, result_version=number)
    locked.version = number
    locked.updated_at = now
    locked.save(update_fields=["version", "updated_at"])
    return version


@transaction.atomic
def proposal_decline(
    *, user: Any, proposal: AgreementProposal, expected_version: Any, reason: str = ""
) -> AgreementProposal:
    locked = _lock(proposal.agreement, user)
    current = _open_for_answer(locked, proposal, user, expected_version)
    reason = (reason or "").strip()
    if len(reason) > MAX_NOTE:
        raise ValidationError({"reason": f"Keep the reason under {MAX_NOTE:,} characters."})
    return _decide(
        current, user, AgreementProposal.Status.DECLINED, timezone.now(), response=reason
    )


@transaction.atomic
def proposal_counter(
    *,
    user: Any,
    proposal: AgreementProposal,
    expected_version: Any,
    text: str = "",
    rationale: str = "",
    reason: str = "",
    review_on: Any = None,
    audience: str = Audience.PARTNER_THERAPIST,
) -> AgreementProposal:
    """Answer a proposal with one's own version of it. The first proposal is kept, marked as
    countered; the counter-proposal is made against the current version, and now it is the
    first author's turn to accept, decline or counter."""
    locked = _lock(proposal.agreement, user)
    current = _open_for_answer(locked, proposal, user, expected_version)
    kind = current.kind
    if kind == AgreementProposal.Kind.RETIRE:
        # Countering a retirement means keeping the clause, reworded.
        kind = AgreementProposal.Kind.CHANGE
    counter, _ = proposal_create(
        author=user,
        agreement=locked,
        kind=kind,
        base_version=locked.version,
        clause_id=current.clause_id,
        section=current.section,
        text=text,
        rationale=rationale,
        reason=reason,
        review_on=review_on,
        audience=audience,
        counter_to=current,
    )
    _decide(current, user, AgreementProposal.Status.COUNTERED, timezone.now())
    return counter


@transaction.atomic
def proposal_withdraw(*, author: Any, proposal: AgreementProposal) -> AgreementProposal:
    locked = _lock(proposal.agreement, author)
    current = AgreementProposal.objects.select_for_update().get(pk=proposal.pk)
    if current.author_id != author.pk or current.agreement_id != locked.pk:
        raise NotYours("Only its author withdraws a proposal.")
    if current.status == AgreementProposal.Status.WITHDRAWN:
        return current
    _require_open(current)
    return _decide(current, author, AgreementProposal.Status.WITHDRAWN, timezone.now())


@transaction.atomic
def proposal_rebase(
    *,
    author: Any,
    proposal: AgreementProposal,
    expected_version: Any,
    base_version: Any,
    text: str = "",
    rationale: str = "",
    reason: str = "",
    review_on: Any = None,
) -> AgreementProposal:
    """Its author revises an open proposal against the current version (after reading what
    changed). The proposal keeps its id; its version goes up, so an answer the partner began
    on the old wording is refused as stale rather than applied to words they did not read."""
    locked = _lock(proposal.agreement, author)
    current = AgreementProposal.objects.select_for_update().get(pk=proposal.pk)
    if current.author_id != author.pk or current.agreement_id != locked.pk:
        raise NotYours("Only its author revises a proposal.")
    _require_open(current)
    _require_version(
        current,
        expected_version,
        locked,
        "This proposal changed after you opened it. Read it again first.",
    )
    terms = _clean_terms(
        agreement=locked,
        author=author,
        kind=current.kind,
        clause_id=current.clause_id,
        section=current.section,
        text=text,
        rationale=rationale,
        reason=reason,
        review_on=review_on,
    )
    base = _check_base(locked, terms, base_version)
    now = timezone.now()
    current.text = terms.text
    current.rationale = terms.rationale
    current.reason = terms.reason
    current.review_on = terms.review_on
    current.base_version = base
    current.version += 1
    current.updated_at = now
    current.save(
        update_fields=[
            "text",
            "rationale",
            "reason",
            "review_on",
            "base_version",
            "version",
            "updated_at",
        ]
    )
    audit(owner=author, actor=author, action=AuditEvent.Action.EDITED, entry=current)
    return current


# --- reviews ---------------------------------------------------------------------------------


@transaction.atomic
def review_call(*, user: Any, agreement: Agreement) -> tuple[AgreementReview, bool]:
    """Either partner calls a review, at any time. One open review at a time: calling again
    while one is open returns it."""
    locked = _lock(agreement, user)
    existing = AgreementReview.objects.filter(agreement=locked, closed_at__isnull=True).first()
    if existing is not None:
        return existing, False
    return AgreementReview.objects.create(agreement=locked, called_by=user), True


@transaction.atomic
def review_keep(*, user: Any, agreement: Agreement, clause_id: Any) -> Clause:
    """ "This still works for me." Once both partners have kept a clause in the open review,
    it counts as reviewed and its next review date moves the same distance ahead as before."""
    locked = _lock(agreement, user)
    review = AgreementReview.objects.filter(agreement=locked, closed_at__isnull=True).first()
    if review is None:
        raise ValidationError({"review": "Call a review first; then go through the clauses."})
    clause = (
        Clause.objects.select_for_update()
        .filter(agreement=locked, pk=_uuid(clause_id), retired_at__isnull=True)
        .first()
    )
    if clause is None:
        raise ValidationError({"clause": "Choose a clause of your agreement."})
    ClauseKeep.objects.get_or_create(review=review, clause=clause, user=user)
    members = Membership.objects.filter(couple_id=locked.couple_id, left_at__isnull=True).values(
        "user_id"
    )
    kept_by = ClauseKeep.objects.filter(review=review, clause=clause, user_id__in=members).count()
    if kept_by >= 2 and (clause.reviewed_at is None or clause.reviewed_at < review.called_at):
        today = local_today(user.time_zone)
        clause.reviewed_at = timezone.now()
        clause.review_on = today + timedelta(days=clause.review_every_days)
        clause.save(update_fields=["reviewed_at", "review_on"])
    return clause


@transaction.atomic
def review_close(*, user: Any, agreement: Agreement) -> AgreementReview | None:
    locked = _lock(agreement, user)
    review = AgreementReview.objects.filter(agreement=locked, closed_at__isnull=True).first()
    if review is None:
        return None
    review.closed_at = timezone.now()
    review.save(update_fields=["closed_at"])
    return review
