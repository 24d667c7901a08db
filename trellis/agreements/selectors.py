"""Reads of agreements. The `Agreement` and its versions, clauses and reviews are couple-scoped
(current members only) and hold no words; every wording and proposal is an entry and comes
through sharing's policy, which also records who read what."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from trellis.couples.models import Membership
from trellis.sharing.policy import (
    _parse_pk,
    authored_by,
    get_visible_or_404,
    record_reads,
    visible_to,
)

from .diff import DocClause
from .models import (
    Agreement,
    AgreementProposal,
    AgreementReview,
    AgreementVersion,
    Clause,
    ClauseKeep,
    ClauseText,
    Section,
)


def agreements_for_member(user: Any) -> QuerySet[Agreement]:
    mine = Membership.objects.filter(user_id=user.pk, left_at__isnull=True).values("couple_id")
    return Agreement.objects.filter(couple_id__in=mine)


def agreement_for_member(user: Any, pk: Any) -> Agreement:
    agreement = agreements_for_member(user).filter(pk=_parse_pk(pk)).first()
    if agreement is None:
        raise Http404
    return agreement


def version_of(agreement: Agreement, number: Any) -> AgreementVersion | None:
    """A version by number (None: the document before anything was agreed, or no such)."""
    try:
        n = int(number)
    except (TypeError, ValueError):
        return None
    return (
        AgreementVersion.objects.filter(agreement=agreement, number=n)
        .select_related("proposed_by", "accepted_by")
        .first()
    )


@dataclass
class Line:
    """One clause of a version as a reader sees it. `text` is None when the reader may not
    read its wording (it was never shared with them)."""

    clause: Clause
    text: ClauseText | None
    due: bool = False


@dataclass
class SectionBlock:
    key: str
    title: str
    lines: list[Line]


def lines_of(
    reader: Any, agreement: Agreement, version: AgreementVersion | None, *, channel: str
) -> list[Line]:
    pairs = version.clauses if version is not None else []
    if not pairs:
        return []
    clause_ids = [c for c, _ in pairs]
    text_ids = [t for _, t in pairs]
    clauses = {str(c.pk): c for c in Clause.objects.filter(agreement=agreement, pk__in=clause_ids)}
    texts = {
        str(t.pk): t
        for t in visible_to(reader, ClauseText)
        .filter(pk__in=text_ids)
        .select_related("author", "accepted_by")
    }
    record_reads(reader, texts.values(), channel=channel)
    return [Line(clauses[c], texts.get(t)) for c, t in pairs if c in clauses]


def sections_of(lines: list[Line], today: date | None = None) -> list[SectionBlock]:
    blocks = []
    for key, title in Section.choices:
        section_lines = [line for line in lines if line.clause.section == key]
        if today is not None:
            for line in section_lines:
                line.due = line.clause.review_on <= today
        blocks.append(SectionBlock(key, title, section_lines))
    return blocks


def doc_of(lines: list[Line]) -> list[DocClause]:
    """A version as plain values for the diff (a wording the reader may not read is blank)."""
    return [
        DocClause(str(line.clause.pk), line.clause.section, line.text.text if line.text else "")
        for line in lines
    ]


def versions_of(agreement: Agreement) -> QuerySet[AgreementVersion]:
    return AgreementVersion.objects.filter(agreement=agreement).select_related(
        "proposed_by", "accepted_by"
    )


def proposals_visible(
    reader: Any, agreement: Agreement, *, open_only: bool = False, channel: str
) -> list[AgreementProposal]:
    qs = (
        visible_to(reader, AgreementProposal)
        .filter(agreement=agreement)
        .select_related("author", "decided_by", "clause", "clause__current")
        .order_by("-created_at")
    )
    if open_only:
        qs = qs.filter(status=AgreementProposal.Status.OPEN)
    proposals = list(qs)
    record_reads(reader, proposals, channel=channel)
    return proposals


def proposal_for_reader(reader: Any, pk: Any, *, channel: str) -> AgreementProposal:
    return get_visible_or_404(reader, AgreementProposal, pk, channel=channel)


def proposal_for_author(author: Any, pk: Any) -> AgreementProposal:
    """The author's own proposal, while it is part of their couple's agreement: after leaving a
    couple, a proposal to its agreement is no longer theirs to withdraw or revise (the services
    refuse it; the pages must not offer it either). Anything else: the plain 404."""
    proposal = (
        authored_by(author, AgreementProposal)
        .filter(pk=_parse_pk(pk), agreement__in=agreements_for_member(author))
        .first()
    )
    if proposal is None:
        raise Http404
    return proposal


def clause_text_for_reader(reader: Any, pk: Any, *, channel: str) -> ClauseText:
    return get_visible_or_404(reader, ClauseText, pk, channel=channel)


def current_text_for_reader(reader: Any, clause: Clause | None) -> ClauseText | None:
    """The wording in force of a clause, if the reader may read it (no audit: callers that
    show it record the read with the page)."""
    if clause is None or clause.current_id is None:
        return None
    return visible_to(reader, ClauseText).filter(pk=clause.current_id).first()


def open_review(agreement: Agreement) -> AgreementReview | None:
    return (
        AgreementReview.objects.filter(agreement=agreement, closed_at__isnull=True)
        .select_related("called_by")
        .first()
    )


def keeps_in(review: AgreementReview | None) -> dict[str, set[Any]]:
    """clause id -> ids of the people who kept it in this review."""
    out: dict[str, set[Any]] = {}
    if review is None:
        return out
    for clause_id, user_id in ClauseKeep.objects.filter(review=review).values_list(
        "clause_id", "user_id"
    ):
        out.setdefault(str(clause_id), set()).add(user_id)
    return out


def due_count(agreement: Agreement | None, today: date) -> int:
    if agreement is None:
        return 0
    return Clause.objects.filter(
        agreement=agreement, retired_at__isnull=True, review_on__lte=today
    ).count()


def due_count_for_member(user: Any, today: date) -> int:
    """`due_count` of the user's agreement, without fetching the agreement first (one query)."""
    return Clause.objects.filter(
        agreement__in=agreements_for_member(user), retired_at__isnull=True, review_on__lte=today
    ).count()


def retired_clauses(agreement: Agreement) -> QuerySet[Clause]:
    return Clause.objects.filter(agreement=agreement, retired_at__isnull=False).order_by(
        "-retired_at"
    )


def clause_in(agreement: Agreement, clause_id: Any) -> Clause | None:
    """A clause of this agreement by id (None for a malformed or foreign id). Holds no words."""
    try:
        key = _parse_pk(clause_id)
    except Http404:
        return None
    return Clause.objects.filter(agreement=agreement, pk=key).select_related("current").first()


def texts_for_reader(reader: Any, ids: list[Any], *, channel: str) -> dict[str, ClauseText]:
    """The wordings among `ids` the reader may read (recorded as read), by id."""
    ids = [i for i in ids if i is not None]
    if not ids:
        return {}
    texts = list(visible_to(reader, ClauseText).filter(pk__in=ids).select_related("author"))
    record_reads(reader, texts, channel=channel)
    return {str(t.pk): t for t in texts}


def counters_visible(reader: Any, proposal: AgreementProposal) -> list[AgreementProposal]:
    """The counter-proposals answering `proposal` that the reader may read (ids and status
    only are shown, so no read is recorded)."""
    return list(
        visible_to(reader, AgreementProposal)
        .filter(counter_to=proposal)
        .select_related("author")
        .order_by("created_at")
    )
