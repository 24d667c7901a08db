"""Reads of agreements. The `Agreement` and its versions, clauses and reviews are couple-scoped
(current members only) and hold no words; every wording and proposal is an entry and comes
through sharing's policy, which also records who read what."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import F, QuerySet
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


@dataclass(frozen=True)
class Partner:
    """The other member of a couple space, as the agreement's pages name them."""

    pk: Any
    display_name: str


def partner_in(user: Any, agreement: Agreement) -> Partner | None:
    """The other current member of the agreement's couple space (the user is a member: see
    `agreement_for_member`), or None while nobody has joined: `couples.selectors.partner_of`,
    as one small query for the pages that name the partner and nothing else of them."""
    row = (
        Membership.objects.filter(couple_id=agreement.couple_id, left_at__isnull=True)
        .exclude(user_id=user.pk)
        .values_list("user_id", "user__display_name")[:1]
    )
    return next((Partner(pk, name) for pk, name in row), None)


def version_of(agreement: Agreement, number: Any) -> AgreementVersion | None:
    """A version by number (None: the document before anything was agreed, or no such)."""
    try:
        n = int(number)
    except (TypeError, ValueError):
        return None
    # Only what the pages and the API use of it: its number, its date and its clauses.
    return (
        AgreementVersion.objects.filter(agreement=agreement, number=n)
        .only("id", "number", "created_at", "clauses")
        .first()
    )


@dataclass
class Line:
    """One clause of a version as a reader sees it. `text` is None when the reader may not
    read its wording (it was never shared with them)."""

    clause: Clause
    text: ClauseText | None
    due: bool = False
    # The names of who proposed and who accepted the wording (None: they have left Trellis).
    author_name: str | None = None
    accepted_by_name: str | None = None
    # As the page words them (set by the page): who proposed and who accepted the wording, and
    # the day to look at it together again.
    proposed_by: str = ""
    accepted_by: str = ""
    accepted_on: str = ""
    review_on: str = ""


@dataclass
class SectionBlock:
    key: str
    title: str
    lines: list[Line]
    # The section's clauses as HTML list items, for the page showing them (set by the page).
    items: str = ""


# What the pages and the API show of a clause and of a wording, and of the people named on it
# only their names (`author_name`, `accepted_by_name`): whole rows would decrypt and convert
# what nobody reads, for every clause of the document.
CLAUSE_FIELDS = ("id", "section", "review_on", "retired_at")
TEXT_FIELDS = ("id", "author", "text", "rationale", "review_on", "in_version", "accepted_by")
NAMES = {
    "author_name": F("author__display_name"),
    "accepted_by_name": F("accepted_by__display_name"),
}


def lines_of(
    reader: Any,
    agreement: Agreement,
    version: AgreementVersion | None,
    *,
    channel: str,
    rationale: bool = True,
    accepted_at: bool = False,
    record: bool = True,
) -> list[Line]:
    """The clauses of a version in reading order, each with its wording when the reader may read
    it and the names of who proposed and accepted it. `rationale=False` leaves the reasons
    undecrypted, for a page that does not show them; `accepted_at` also reads when each was
    accepted (the print view shows it); `record=False` leaves recording the reads to the
    caller, to record everything a page shows at once."""
    pairs = version.clauses if version is not None else []
    [lines] = lines_for(
        reader,
        agreement,
        [pairs],
        channel=channel,
        rationale=rationale,
        accepted_at=accepted_at,
        record=record,
    )
    return lines


def lines_for(
    reader: Any,
    agreement: Agreement,
    pair_lists: Sequence[Sequence[Sequence[str]]],
    *,
    channel: str,
    rationale: bool = True,
    accepted_at: bool = False,
    record: bool = True,
) -> list[list[Line]]:
    """`lines_of` for lists of [clause id, wording id] pairs (whole versions or parts of them),
    all read at once: the wordings the reader may read, each with its clause, in one query; the
    clauses whose wording they may not read (if any) in a second."""
    clause_ids = {c for pairs in pair_lists for c, _ in pairs}
    text_ids = {t for pairs in pair_lists for _, t in pairs}
    if not clause_ids:
        return [[] for _ in pair_lists]
    fields = [f for f in TEXT_FIELDS if rationale or f != "rationale"]
    if accepted_at:
        fields.append("accepted_at")
    texts = {
        str(t.pk): t
        for t in visible_to(reader, ClauseText)
        .filter(pk__in=text_ids, clause__agreement=agreement)
        .select_related("clause")
        .only(*fields, "clause", *(f"clause__{f}" for f in CLAUSE_FIELDS))
        .annotate(**NAMES)
        .order_by()
    }
    clauses = {str(t.clause_id): t.clause for t in texts.values()}
    hidden = clause_ids - clauses.keys()
    if hidden:
        clauses.update(
            (str(c.pk), c)
            for c in Clause.objects.filter(agreement=agreement, pk__in=hidden)
            .only(*CLAUSE_FIELDS)
            .order_by()
        )
    if record:
        record_reads(reader, texts.values(), channel=channel)
    return [
        [_line(clauses[c], texts.get(t)) for c, t in pairs if c in clauses] for pairs in pair_lists
    ]


def _line(clause: Clause, text: ClauseText | None) -> Line:
    if text is None:
        return Line(clause, None)
    row: Any = text  # read with the NAMES annotations
    return Line(clause, text, author_name=row.author_name, accepted_by_name=row.accepted_by_name)


def texts_of(lines: list[Line]) -> list[ClauseText]:
    return [line.text for line in lines if line.text is not None]


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


def versions_numbered(agreement: Agreement, numbers: list[int]) -> dict[int, AgreementVersion]:
    """Some versions by number, in one query (only what a comparison needs)."""
    return {
        v.number: v
        for v in AgreementVersion.objects.filter(agreement=agreement, number__in=numbers)
        .only("id", "number", "created_at", "clauses")
        .order_by()
    }


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


def proposals_waiting(reader: Any, agreement: Agreement) -> list[AgreementProposal]:
    """The open proposals the reader may read, newest first, as the agreement's page lists them
    (not recorded: the page records all it shows at once)."""
    return list(
        visible_to(reader, AgreementProposal)
        .filter(agreement=agreement, status=AgreementProposal.Status.OPEN)
        .only("id", "author", "kind", "section", "text", "created_at")
        .annotate(author_name=F("author__display_name"))
        .order_by("-created_at", "-pk")
    )


def proposals_count(reader: Any, agreement: Agreement) -> int:
    return visible_to(reader, AgreementProposal).filter(agreement=agreement).count()


def proposals_page(
    reader: Any, agreement: Agreement, *, start: int, size: int
) -> list[AgreementProposal]:
    """`size` of the proposals the reader may read, newest first, from the `start`-th, as the
    history lists them: words, what became of them, and names (`author_name`,
    `decided_by_name`); never their reasons. Not recorded: the page records what it shows."""
    qs = (
        visible_to(reader, AgreementProposal)
        .filter(agreement=agreement)
        .only(
            "id",
            "author",
            "kind",
            "section",
            "text",
            "status",
            "created_at",
            "result_version",
            "decided_by",
            "response",
        )
        .annotate(
            author_name=F("author__display_name"), decided_by_name=F("decided_by__display_name")
        )
        .order_by("-created_at", "-pk")
    )
    return list(qs[start : start + size])


def versions_between(agreement: Agreement, newest: int, oldest: int) -> list[AgreementVersion]:
    """Versions `newest` down to `oldest`, each with the names of who proposed and accepted it
    (`proposed_by_name`, `accepted_by_name`) and the clause it added, changed or retired: its
    section (`clause_section`) and its wording in force, or its last one (`clause_text_id`)."""
    return list(
        AgreementVersion.objects.filter(agreement=agreement, number__lte=newest, number__gte=oldest)
        .only("id", "number", "created_at", "kind", "proposed_by", "accepted_by", "clause")
        .annotate(
            proposed_by_name=F("proposed_by__display_name"),
            accepted_by_name=F("accepted_by__display_name"),
            clause_section=F("clause__section"),
            clause_text_id=F("clause__current_id"),
        )
        .order_by("-number")
    )


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
        .only(
            "id",
            "agreement",
            "called_at",
            "closed_at",
            "called_by",
            "called_by__id",
            "called_by__display_name",
        )
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


def texts_for_reader(
    reader: Any, ids: list[Any], *, channel: str, record: bool = True
) -> dict[str, ClauseText]:
    """The wordings among `ids` the reader may read, by id (only their words: no reasons, no
    people), recorded as read unless `record=False` leaves that to the caller."""
    ids = [i for i in ids if i is not None]
    if not ids:
        return {}
    texts = list(
        visible_to(reader, ClauseText)
        .filter(pk__in=ids)
        .only("id", "author", "clause", "section", "text", "in_version")
        .order_by()
    )
    if record:
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
