"""Agreement pages (SPEC C5). Thin: access (couple membership / sharing) -> form -> service.

The `Agreement` and its versions are couple-scoped (current members only); every wording and
proposal is an entry read through sharing's policy, which records the read. Nothing here
decides whose turn it is or what a clause needs: the services do, and their ValidationError,
`Stale` and `NotYours` become a 400, a 409 (the person's draft kept) and a 404.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.dateformat import format as date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_http_methods

from trellis.core.http import AuthedRequest
from trellis.couples.selectors import partner_of
from trellis.lib.dates import local_today
from trellis.sharing.policy import record_reads
from trellis.sharing.registry import for_model
from trellis.sharing.services import default_audience
from trellis.sharing.views_meta import entry_view

from . import diff, presenters, selectors, services
from .forms import ProposalForm, audience_default, put_errors
from .models import Agreement, AgreementProposal, AgreementVersion, Clause, ClauseText, Section
from .suggestions import BY_KEY, for_section

CHANNEL = "page"
Kind = AgreementProposal.Kind
Status = AgreementProposal.Status
SECTION_TITLES = presenters.SECTION_TITLES


def _today(user: Any) -> date:
    return local_today(user.time_zone)


def _partner_name(user: Any) -> str:
    partner = partner_of(user)
    return partner.display_name if partner is not None else "your partner"


def _is_member_of(user: Any, agreement_id: Any) -> bool:
    return selectors.agreements_for_member(user).filter(pk=agreement_id).exists()


@dataclass
class AskedVersion:
    """The version a page was asked for (`?version=N`): its number, its row (None for version
    0, the document before anything was agreed), and a message when there is no such version."""

    number: int
    row: AgreementVersion | None
    past: bool
    problem: str = ""


def _asked_version(agreement: Agreement, raw: str | None) -> AskedVersion:
    """The version asked for, reading one version row: the one asked for, or (when none is
    asked for, or no such version exists) the one in force."""
    latest = agreement.version

    def in_force(problem: str = "") -> AskedVersion:
        row = selectors.version_of(agreement, latest) if latest else None
        return AskedVersion(latest, row, False, problem)

    if raw in (None, ""):
        return in_force()
    try:
        number = int(str(raw))
    except ValueError:
        number = -1
    if number == latest:
        return in_force()
    if number == 0:
        return AskedVersion(0, None, True)
    row = selectors.version_of(agreement, number) if 0 < number < latest else None
    if row is None:
        return in_force(
            f"Your agreement has no version “{str(raw)[:12]}”. Here is the version in force."
            if latest
            else "Nothing has been agreed yet, so there are no versions to show."
        )
    return AskedVersion(number, row, True)


# --- the document ----------------------------------------------------------------------------


@login_required
@require_http_methods(["GET"])
def agreement_home(request: AuthedRequest) -> HttpResponse:
    agreement = services.agreement_for(request.user)
    if agreement is not None:
        return redirect("agreements:detail", pk=agreement.pk)
    return render(request, "agreements/none.html")


def _word_lines(
    reader: Any, lines: list[selectors.Line], *, on_paper: bool = False, past: bool = False
) -> None:
    """Name the people on each line and date its next look together. A past version shows the
    review date its wording was agreed with; the version in force, the clause's own. On paper
    everyone is named (the reader too), with the day each wording was accepted."""
    for line in lines:
        text = line.text
        if text is not None:
            line.proposed_by = presenters.who(
                reader, text.author_id, line.author_name, named=on_paper
            )
            line.accepted_by = presenters.who(
                reader, text.accepted_by_id, line.accepted_by_name, named=on_paper
            )
            if on_paper:
                line.accepted_on = presenters.local_day(text.accepted_at)
        line.review_on = presenters.day(
            text.review_on if past and text is not None else line.clause.review_on
        )


def _url_for(name: str) -> Callable[[Any], str]:
    """The URL of route `name` for any id, resolved once: the same string reverse() gives, for
    lists where reversing every row shows in the page's time."""
    marker = uuid.UUID(int=0)
    head, tail = reverse(name, args=[marker]).split(str(marker))
    return lambda pk: f"{head}{pk}{tail}"


@login_required
@require_http_methods(["GET"])
@entry_view(Agreement, "couple")
def agreement_detail(request: AuthedRequest, pk: str) -> HttpResponse:
    """The document at one version (the one in force unless `?version=N`): that version's
    clauses only, with the proposals waiting for an answer. Its reads recorded in one go."""
    user = request.user
    agreement = selectors.agreement_for_member(user, pk)
    asked = _asked_version(agreement, request.GET.get("version"))
    lines = selectors.lines_of(user, agreement, asked.row, channel=CHANNEL, record=False)
    blocks = selectors.sections_of(lines, None if asked.past else _today(user))
    proposals = [] if asked.past else selectors.proposals_waiting(user, agreement)
    # One audit INSERT for everything the page shows.
    record_reads(user, [*selectors.texts_of(lines), *proposals], channel=CHANNEL)
    _word_lines(user, lines, past=asked.past)
    propose_url = reverse("agreements:propose", args=[agreement.pk])
    proposal_url = _url_for("agreements:proposal")
    for block in blocks:
        block.items = presenters.document_items(
            block.lines, propose_url=propose_url, past=asked.past
        )
    return render(
        request,
        "agreements/detail.html",
        {
            "agreement": agreement,
            "asked": asked,
            "version": asked.row,
            "sections": [(b, for_section(b.key)) for b in blocks],
            "in_force": len(lines),
            "due": sum(1 for line in lines if line.due),
            "for_me": presenters.waiting_items(
                [p for p in proposals if p.author_id != user.pk],
                reader=user,
                proposal_url=proposal_url,
            ),
            "mine": presenters.waiting_items(
                [p for p in proposals if p.author_id == user.pk],
                reader=user,
                proposal_url=proposal_url,
            ),
            "partner": selectors.partner_in(user, agreement),
            "review": None if asked.past else selectors.open_review(agreement),
            "propose_url": propose_url,
        },
        status=400 if asked.problem else 200,
    )


# Twenty entries a page: the ten newest versions and the ten newest proposals (on a phone, forty
# cards were a long scroll, and every entry shown is read and recorded).
HISTORY_PAGE_SIZE = 10


def _page_number(raw: str | None, pages: int) -> tuple[int, str]:
    """The history page asked for (`?page=N`, 1 is the newest), and a message when there is
    no such page (then the nearest one is shown)."""
    if raw in (None, ""):
        return 1, ""
    try:
        number = int(str(raw))
    except ValueError:
        number = 0
    if 1 <= number <= pages:
        return number, ""
    if number > pages:
        return pages, (
            f"Your history has {pages} page{'s' if pages != 1 else ''}, so there is no page "
            f"{str(raw)[:12]}. Here is the oldest one."
        )
    return 1, f"There is no page “{str(raw)[:12]}” in your history. Here is the newest one."


@login_required
@require_http_methods(["GET"])
@entry_view(Agreement, "couple")
def agreement_history(request: AuthedRequest, pk: str) -> HttpResponse:
    """Versions and proposals, newest first, a page at a time: one pager for both lists, so
    "Older" goes further back in each. Only what the page shows is read (and recorded)."""
    user = request.user
    agreement = selectors.agreement_for_member(user, pk)
    latest = agreement.version
    size = HISTORY_PAGE_SIZE
    proposal_count = selectors.proposals_count(user, agreement)
    paginator = Paginator(range(max(latest, proposal_count)), size)
    number, problem = _page_number(request.GET.get("page"), paginator.num_pages)
    page = paginator.page(number)
    skip = (number - 1) * size
    newest, oldest = latest - skip, max(latest - skip - size + 1, 1)
    versions = selectors.versions_between(agreement, newest, oldest) if newest >= 1 else []
    proposals = (
        selectors.proposals_page(user, agreement, start=skip, size=size)
        if skip < proposal_count
        else []
    )
    retired = selectors.texts_for_reader(
        user,
        [v.clause_text_id for v in versions if v.kind == "retire"],  # type: ignore[attr-defined]
        channel=CHANNEL,
        record=False,
    )
    record_reads(user, [*proposals, *retired.values()], channel=CHANNEL)
    partner = selectors.partner_in(user, agreement)
    detail_url = reverse("agreements:detail", args=[agreement.pk])
    compare_url = reverse("agreements:compare", args=[agreement.pk])
    versions_html = presenters.version_items(
        versions,
        reader=user,
        latest=latest,
        detail_url=detail_url,
        compare_url=compare_url,
        clause_url=_url_for("agreements:clause_text"),
        retired=retired,
    )
    proposals_html = presenters.proposal_items(
        proposals,
        reader=user,
        partner_name=partner.display_name if partner is not None else "your partner",
        proposal_url=_url_for("agreements:proposal"),
    )
    return render(
        request,
        "agreements/history.html",
        {
            "agreement": agreement,
            "page": page,
            "problem": problem,
            "versions": versions_html,
            "newest": newest,
            "oldest": oldest,
            "proposals": proposals_html,
            "proposal_count": proposal_count,
            "first_proposal": skip + 1,
            "last_proposal": skip + len(proposals),
            "detail_url": detail_url,
            "compare_url": compare_url,
        },
        status=400 if problem else 200,
    )


@dataclass
class CompareRow:
    change: diff.ClauseDiff
    section: str
    old: list[tuple[str, str]]
    new: list[tuple[str, str]]
    hidden_old: bool
    hidden_new: bool


def _compare_row(c: diff.ClauseDiff, hidden_a: set[str], hidden_b: set[str]) -> CompareRow:
    doc = c.new or c.old
    # A clause only on one side is marked as a whole, so it never relies on its column alone.
    old = [("del", t) for _, t in c.old_parts()] if c.op == "removed" else c.old_parts()
    new = [("ins", t) for _, t in c.new_parts()] if c.op == "added" else c.new_parts()
    return CompareRow(
        change=c,
        section=SECTION_TITLES.get(doc.section, "") if doc is not None else "",
        old=old,
        new=new,
        hidden_old=c.old is not None and c.clause_id in hidden_a,
        hidden_new=c.new is not None and c.clause_id in hidden_b,
    )


def _summary_text(counts: dict[str, int]) -> str:
    words = [
        ("added", "added"),
        ("changed", "reworded"),
        ("removed", "retired"),
        ("same", "unchanged"),
    ]
    parts = [f"{counts[key]} {word}" for key, word in words if counts.get(key)]
    if not counts.get("added") and not counts.get("changed") and not counts.get("removed"):
        return "no differences" + (f" ({', '.join(parts)})" if parts else "")
    return ", ".join(parts)


def _grouped(rows: list[CompareRow]) -> list[tuple[str, list[CompareRow]]]:
    """Consecutive rows of one section under one heading (the diff is in reading order)."""
    groups: list[tuple[str, list[CompareRow]]] = []
    for row in rows:
        if not groups or groups[-1][0] != row.section:
            groups.append((row.section, []))
        groups[-1][1].append(row)
    return groups


def _version_number(raw: str | None, default: int, latest: int, name: str) -> tuple[int, str]:
    if raw in (None, ""):
        return default, ""
    try:
        number = int(str(raw))
    except ValueError:
        number = -1
    if 0 <= number <= latest:
        return number, ""
    return default, (
        f"There is no version “{str(raw)[:12]}” to compare ({name}). Choose one between 0 "
        f"(before anything was agreed) and {latest}."
    )


def _version_options(latest: int, selected: int) -> SafeString:
    """The <option>s of a version picker, newest first (numbers only, so nothing to escape):
    built here rather than in a template loop, as there is one per version ever agreed."""
    options = [
        f'<option value="{n}"{" selected" if n == selected else ""}>Version {n}</option>'
        for n in range(latest, 0, -1)
    ]
    options.append(
        f'<option value="0"{" selected" if selected == 0 else ""}>Before anything was agreed'
        "</option>"
    )
    return mark_safe("".join(options))  # noqa: S308 - integers and fixed words only


@login_required
@require_http_methods(["GET"])
@entry_view(Agreement, "couple")
def agreement_compare(request: AuthedRequest, pk: str) -> HttpResponse:
    """Two versions side by side. A clause whose wording is the same in both (the same wording
    row) is counted, not read: only what differs is read, compared word by word and shown."""
    user = request.user
    agreement = selectors.agreement_for_member(user, pk)
    latest = agreement.version
    a, problem_a = _version_number(request.GET.get("a"), max(latest - 1, 0), latest, "earlier")
    b, problem_b = _version_number(request.GET.get("b"), latest, latest, "later")
    problems = [p for p in (problem_a, problem_b) if p]
    context: dict[str, Any] = {
        "agreement": agreement,
        "a": a,
        "b": b,
        "options_a": _version_options(latest, a) if latest else "",
        "options_b": _version_options(latest, b) if latest else "",
        "problems": problems,
        "rows": [],
    }
    if latest and not problems:
        rows_of = selectors.versions_numbered(agreement, [n for n in (a, b) if n])
        va, vb = rows_of.get(a), rows_of.get(b)
        pairs_a = [tuple(p) for p in (va.clauses if va else [])]
        pairs_b = [tuple(p) for p in (vb.clauses if vb else [])]
        same = set(pairs_a) & set(pairs_b)
        lines_a, lines_b = selectors.lines_for(
            user,
            agreement,
            [[p for p in pairs_a if p not in same], [p for p in pairs_b if p not in same]],
            channel=CHANNEL,
            rationale=False,
        )
        hidden_a = {str(line.clause.pk) for line in lines_a if line.text is None}
        hidden_b = {str(line.clause.pk) for line in lines_b if line.text is None}
        changes = diff.diff(selectors.doc_of(lines_a), selectors.doc_of(lines_b))
        counts = diff.summary(changes)
        counts["same"] += len(same)
        rows = [_compare_row(c, hidden_a, hidden_b) for c in changes]
        context.update(
            version_a=va,
            version_b=vb,
            summary_text=_summary_text(counts),
            rows=rows,
            groups=_grouped(rows),
            unchanged=len(same),
            read_b_url=reverse("agreements:detail", args=[agreement.pk])
            + (f"?version={b}" if b != latest else ""),
        )
    return render(request, "agreements/compare.html", context, status=400 if problems else 200)


@login_required
@require_http_methods(["GET"])
@entry_view(Agreement, "couple")
def agreement_print(request: AuthedRequest, pk: str) -> HttpResponse:
    """The whole document at one version, for paper: every clause of it, everyone named."""
    user = request.user
    agreement = selectors.agreement_for_member(user, pk)
    asked = _asked_version(agreement, request.GET.get("version"))
    lines = selectors.lines_of(user, agreement, asked.row, channel=CHANNEL, accepted_at=True)
    _word_lines(user, lines, on_paper=True, past=asked.past)
    blocks = [b for b in selectors.sections_of(lines) if b.lines]
    for block in blocks:
        block.items = presenters.print_items(block.lines)
    return render(
        request,
        "agreements/print.html",
        {
            "agreement": agreement,
            "asked": asked,
            "version": asked.row,
            "sections": blocks,
        },
        status=400 if asked.problem else 200,
    )


# --- reviews ---------------------------------------------------------------------------------


def _review_page(
    request: AuthedRequest,
    agreement: Agreement,
    *,
    status: int = 200,
    errors: list[str] | None = None,
) -> HttpResponse:
    user = request.user
    version = selectors.version_of(agreement, agreement.version) if agreement.version else None
    lines = selectors.lines_of(user, agreement, version, channel=CHANNEL, rationale=False)
    _word_lines(user, lines)
    blocks = selectors.sections_of(lines, _today(user))
    review = selectors.open_review(agreement)
    keeps = selectors.keeps_in(review)
    partner = selectors.partner_in(user, agreement)
    review_url = reverse("agreements:review", args=[agreement.pk])
    propose_url = reverse("agreements:propose", args=[agreement.pk])
    # One token for every form of the page, as {% csrf_token %} gives within one render.
    csrf_input = format_html(
        '<input type="hidden" name="csrfmiddlewaretoken" value="{}">', get_token(request)
    )
    sections = []
    for block in blocks:
        if not block.lines:
            continue
        rows = []
        for line in block.lines:
            kept = keeps.get(str(line.clause.pk), set())
            rows.append(
                {
                    "line": line,
                    "kept_by_me": user.pk in kept,
                    "kept_by_partner": partner is not None and partner.pk in kept,
                }
            )
        block.items = presenters.review_items(
            rows,
            open_review=review is not None,
            partner_name=partner.display_name if partner is not None else "your partner",
            review_url=review_url,
            propose_url=propose_url,
            csrf_input=csrf_input,
        )
        sections.append(block)
    return render(
        request,
        "agreements/review.html",
        {
            "agreement": agreement,
            "review": review,
            "sections": sections,
            "partner": partner,
            "errors": errors or [],
            "review_url": review_url,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
@entry_view(Agreement, "couple")
def agreement_review(request: AuthedRequest, pk: str) -> HttpResponse:
    user = request.user
    agreement = selectors.agreement_for_member(user, pk)
    if request.method != "POST":
        return _review_page(request, agreement)
    action = request.POST.get("action", "")
    try:
        if action == "call":
            _, created = services.review_call(user=user, agreement=agreement)
            text = (
                "Review started. Go through the clauses together: keep what still works, "
                "propose a change where something does not."
                if created
                else "A review was already open; here it is."
            )
        elif action == "keep":
            clause = services.review_keep(
                user=user, agreement=agreement, clause_id=request.POST.get("clause", "")
            )
            review = selectors.open_review(agreement)
            both = (
                review is not None
                and clause.reviewed_at is not None
                and clause.reviewed_at >= review.called_at
            )
            text = (
                "You have both kept this clause. Its next look together is on "
                f"{date_format(clause.review_on, 'j F Y')}."
                if both
                else "Noted: this still works for you."
            )
        elif action == "close":
            closed = services.review_close(user=user, agreement=agreement)
            text = (
                "Review closed. Well done for looking at it together."
                if closed
                else ("There was no open review to close.")
            )
        else:
            raise ValidationError(
                {"action": "Choose what to do: start a review, keep a clause, or close it."}
            )
    except services.NotYours:
        raise Http404 from None
    except ValidationError as exc:
        return _review_page(request, agreement, status=400, errors=exc.messages)
    messages.success(request, text)
    return redirect("agreements:review", pk=agreement.pk)


# --- proposing -------------------------------------------------------------------------------


def _current_wording(user: Any, clause: Clause | None) -> ClauseText | None:
    """The wording in force of a clause, when the reader may read it (and then recorded)."""
    text = selectors.current_text_for_reader(user, clause)
    if text is not None:
        record_reads(user, [text], channel=CHANNEL)
    return text


def _default_review(user: Any) -> str:
    return (_today(user) + timedelta(days=services.DEFAULT_REVIEW_DAYS)).isoformat()


def _default_audience(user: Any) -> str:
    return audience_default(default_audience(user, for_model(AgreementProposal)))


def _sent(request: AuthedRequest, proposal: AgreementProposal, created: bool, to: str) -> None:
    if not created:
        messages.info(request, "You had already sent this proposal; here it is.")
    elif proposal.kind == Kind.RETIRE:
        messages.success(
            request, f"Sent to {to}. The clause stays in force unless they accept retiring it."
        )
    else:
        messages.success(
            request, f"Sent to {to}. It becomes part of your agreement once they accept it."
        )


@login_required
@require_http_methods(["GET", "POST"])
@entry_view(Agreement, "couple")
def proposal_new(request: AuthedRequest, pk: str) -> HttpResponse:
    user = request.user
    agreement = selectors.agreement_for_member(user, pk)
    partner = selectors.partner_in(user, agreement)
    partner_name = partner.display_name if partner is not None else "your partner"
    source = request.POST if request.method == "POST" else request.GET
    kind = source.get("kind") or Kind.ADD
    if kind not in Kind.values:
        kind = Kind.ADD
    clause = None
    if kind != Kind.ADD:
        clause = selectors.clause_in(agreement, source.get("clause"))
        if request.method != "POST" and (clause is None or clause.retired_at is not None):
            messages.info(
                request,
                "That clause is not part of your agreement now. Here is your agreement as it "
                "stands.",
            )
            return redirect("agreements:detail", pk=agreement.pk)
    status = 200
    stale = ""
    if request.method == "POST":
        form = ProposalForm(request.POST, kind=kind)
        if form.is_valid():
            data = form.cleaned_data
            try:
                proposal, created = services.proposal_create(
                    author=user,
                    agreement=agreement,
                    kind=kind,
                    base_version=data.get("base_version"),
                    clause_id=data.get("clause") or None,
                    section=data.get("section", ""),
                    text=data.get("text", ""),
                    rationale=data.get("rationale", ""),
                    reason=data.get("reason", ""),
                    review_on=data.get("review_on") or None,
                    audience=data["audience"],
                )
            except services.NotYours:
                raise Http404 from None
            except services.Stale as exc:
                stale = exc.message
                form.keep(base_version=str(exc.current_version))
                clause = selectors.clause_in(agreement, clause.pk) if clause else None
                status = 409
            except ValidationError as exc:
                put_errors(form, exc)
                status = 400
            else:
                _sent(request, proposal, created, partner_name)
                return redirect("agreements:proposal", pk=proposal.pk)
        else:
            status = 400
        current = _current_wording(user, clause)
    else:
        current = _current_wording(user, clause)
        initial: dict[str, Any] = {
            "kind": kind,
            "clause": str(clause.pk) if clause else "",
            "base_version": agreement.version,
            "review_on": _default_review(user),
            "audience": _default_audience(user),
        }
        if kind == Kind.ADD:
            suggestion = BY_KEY.get(request.GET.get("suggestion", ""))
            section = request.GET.get("section", "")
            if suggestion is not None:
                initial.update(
                    section=suggestion.section,
                    text=suggestion.text,
                    rationale=suggestion.rationale,
                )
            elif section in Section.values:
                initial["section"] = section
        elif kind == Kind.CHANGE and current is not None:
            initial.update(text=current.text, rationale=current.rationale)
        form = ProposalForm(initial=initial, kind=kind)
    return render(
        request,
        "agreements/propose.html",
        {
            "agreement": agreement,
            "form": form,
            "kind": kind,
            "clause": clause,
            "current": current,
            "section_title": SECTION_TITLES.get(clause.section, "") if clause else "",
            "stale": stale,
            "partner_name": partner_name,
            "from_suggestion": request.method != "POST"
            and kind == Kind.ADD
            and request.GET.get("suggestion", "") in BY_KEY,
        },
        status=status,
    )


# --- one proposal ----------------------------------------------------------------------------


def _proposal_page(
    request: AuthedRequest,
    proposal: AgreementProposal,
    *,
    status: int = 200,
    problem: str = "",
    decline_draft: str = "",
) -> HttpResponse:
    user = request.user
    is_author = proposal.author_id == user.pk
    is_member = _is_member_of(user, proposal.agreement_id)
    is_partner = is_member and not is_author and not user.is_therapist
    clause = proposal.clause
    current = _current_wording(user, clause) if clause is not None else None
    is_open = proposal.status == Status.OPEN
    stale = is_open and services.proposal_is_stale(proposal, clause)
    change = None
    if is_open and proposal.kind == Kind.CHANGE and current is not None and clause is not None:
        change = diff.diff(
            [diff.DocClause(str(clause.pk), clause.section, current.text)],
            [diff.DocClause(str(clause.pk), clause.section, proposal.text)],
        )[0]
    return render(
        request,
        "agreements/proposal.html",
        {
            "proposal": proposal,
            "entry": proposal,
            "is_author": is_author,
            "is_member": is_member,
            "is_partner": is_partner,
            "is_open": is_open,
            "current": current,
            "change": change,
            "stale": stale,
            "counters": (
                selectors.counters_visible(user, proposal)
                if proposal.status == Status.COUNTERED
                else []
            ),
            "problem": problem,
            "decline_draft": decline_draft,
            "clause": clause,
            "other_name": _partner_name(user) if is_author else proposal.author.display_name,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET"])
@entry_view(AgreementProposal, "read")
def proposal_detail(request: AuthedRequest, pk: str) -> HttpResponse:
    proposal = selectors.proposal_for_reader(request.user, pk, channel=CHANNEL)
    return _proposal_page(request, proposal)


@login_required
@require_http_methods(["POST"])
@entry_view(AgreementProposal, "respond")
def proposal_respond(request: AuthedRequest, pk: str) -> HttpResponse:
    user = request.user
    proposal = selectors.proposal_for_reader(user, pk, channel=CHANNEL)
    action = request.POST.get("action", "")
    reason = request.POST.get("reason", "")
    try:
        if action == "accept":
            version = services.proposal_accept(
                user=user, proposal=proposal, expected_version=request.POST.get("version")
            )
            messages.success(
                request, f"Accepted. Your agreement is now at version {version.number}."
            )
            return redirect("agreements:detail", pk=proposal.agreement_id)
        if action == "decline":
            services.proposal_decline(
                user=user,
                proposal=proposal,
                expected_version=request.POST.get("version"),
                reason=reason,
            )
            messages.success(
                request,
                f"You declined this for now. {proposal.author.display_name} will see that on "
                "the proposal. Either of you can propose something else at any time.",
            )
            return redirect("agreements:proposal", pk=proposal.pk)
        raise ValidationError({"action": "Choose whether to accept or decline the proposal."})
    except services.NotYours:
        raise Http404 from None
    except services.Stale as exc:
        proposal.refresh_from_db()
        return _proposal_page(
            request, proposal, status=409, problem=exc.message, decline_draft=reason
        )
    except ValidationError as exc:
        proposal.refresh_from_db()
        return _proposal_page(
            request, proposal, status=400, problem=" ".join(exc.messages), decline_draft=reason
        )


@login_required
@require_http_methods(["GET", "POST"])
@entry_view(AgreementProposal, "respond")
def proposal_counter(request: AuthedRequest, pk: str) -> HttpResponse:
    user = request.user
    proposal = selectors.proposal_for_reader(user, pk, channel=CHANNEL)
    if (
        proposal.author_id == user.pk
        or user.is_therapist
        or not _is_member_of(user, proposal.agreement_id)
    ):
        raise Http404
    # Countering a retirement means keeping the clause, reworded.
    kind = Kind.ADD if proposal.kind == Kind.ADD else Kind.CHANGE
    clause = proposal.clause
    status = 200
    stale = ""
    if request.method == "POST":
        form = ProposalForm(request.POST, kind=kind, mode="counter")
        if form.is_valid():
            data = form.cleaned_data
            try:
                counter = services.proposal_counter(
                    user=user,
                    proposal=proposal,
                    expected_version=data.get("version"),
                    text=data.get("text", ""),
                    rationale=data.get("rationale", ""),
                    reason=data.get("reason", ""),
                    review_on=data.get("review_on") or None,
                    audience=data["audience"],
                )
            except services.NotYours:
                raise Http404 from None
            except services.Stale as exc:
                proposal.refresh_from_db()
                stale = exc.message
                form.keep(version=str(proposal.version))
                status = 409
            except ValidationError as exc:
                proposal.refresh_from_db()
                put_errors(form, exc)
                status = 400
            else:
                _sent(request, counter, True, proposal.author.display_name)
                return redirect("agreements:proposal", pk=counter.pk)
        else:
            status = 400
        current = _current_wording(user, clause)
    else:
        if proposal.status != Status.OPEN:
            messages.info(request, "This proposal has already been answered.")
            return redirect("agreements:proposal", pk=proposal.pk)
        current = _current_wording(user, clause)
        text = proposal.text or (current.text if current is not None else "")
        form = ProposalForm(
            initial={
                "version": proposal.version,
                "text": text,
                "rationale": proposal.rationale
                or (current.rationale if current is not None else ""),
                "review_on": (proposal.review_on.isoformat() if proposal.review_on else None)
                or _default_review(user),
                "audience": _default_audience(user),
            },
            kind=kind,
            mode="counter",
        )
    return render(
        request,
        "agreements/counter.html",
        {
            "proposal": proposal,
            "form": form,
            "clause": clause,
            "current": current,
            "stale": stale,
            "section_title": SECTION_TITLES.get(proposal.section, ""),
        },
        status=status,
    )


@login_required
@require_http_methods(["POST"])
@entry_view(AgreementProposal, "author")
def proposal_withdraw(request: AuthedRequest, pk: str) -> HttpResponse:
    proposal = selectors.proposal_for_author(request.user, pk)
    try:
        services.proposal_withdraw(author=request.user, proposal=proposal)
    except services.NotYours:
        raise Http404 from None
    except ValidationError as exc:
        proposal.refresh_from_db()
        return _proposal_page(request, proposal, status=400, problem=" ".join(exc.messages))
    messages.success(request, "Withdrawn. It stays in your history, marked as withdrawn.")
    return redirect("agreements:proposal", pk=proposal.pk)


@login_required
@require_http_methods(["GET", "POST"])
@entry_view(AgreementProposal, "author")
def proposal_revise(request: AuthedRequest, pk: str) -> HttpResponse:
    user = request.user
    proposal = selectors.proposal_for_author(user, pk)
    agreement = proposal.agreement
    clause = proposal.clause
    status = 200
    stale = ""
    if request.method == "POST":
        form = ProposalForm(request.POST, kind=proposal.kind, mode="revise")
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.proposal_rebase(
                    author=user,
                    proposal=proposal,
                    expected_version=data.get("version"),
                    base_version=data.get("base_version"),
                    text=data.get("text", ""),
                    rationale=data.get("rationale", ""),
                    reason=data.get("reason", ""),
                    review_on=data.get("review_on") or None,
                )
            except services.NotYours:
                raise Http404 from None
            except services.Stale as exc:
                proposal.refresh_from_db()
                stale = exc.message
                form.keep(version=str(proposal.version), base_version=str(exc.current_version))
                status = 409
            except ValidationError as exc:
                proposal.refresh_from_db()
                put_errors(form, exc)
                status = 400
            else:
                messages.success(
                    request,
                    f"Updated. {_partner_name(user)} will see the new version of your proposal.",
                )
                return redirect("agreements:proposal", pk=proposal.pk)
        else:
            status = 400
    else:
        if proposal.status != Status.OPEN:
            messages.info(request, "This proposal has already been answered, so it stays as it is.")
            return redirect("agreements:proposal", pk=proposal.pk)
        form = ProposalForm(
            initial={
                "version": proposal.version,
                "base_version": agreement.version,
                "text": proposal.text,
                "rationale": proposal.rationale,
                "reason": proposal.reason,
                "review_on": proposal.review_on.isoformat()
                if proposal.review_on
                else _default_review(user),
            },
            kind=proposal.kind,
            mode="revise",
        )
    if clause is not None:
        clause.refresh_from_db()
    current = _current_wording(user, clause)
    change = None
    if proposal.kind == Kind.CHANGE and current is not None and clause is not None:
        change = diff.diff(
            [diff.DocClause(str(clause.pk), clause.section, current.text)],
            [diff.DocClause(str(clause.pk), clause.section, proposal.text)],
        )[0]
    return render(
        request,
        "agreements/revise.html",
        {
            "proposal": proposal,
            "form": form,
            "clause": clause,
            "current": current,
            "change": change,
            "stale": stale,
            "is_stale": services.proposal_is_stale(proposal, clause),
            "section_title": SECTION_TITLES.get(proposal.section, ""),
        },
        status=status,
    )


# --- one wording -----------------------------------------------------------------------------


@login_required
@require_http_methods(["GET"])
@entry_view(ClauseText, "read")
def clause_text(request: AuthedRequest, pk: str) -> HttpResponse:
    user = request.user
    text = selectors.clause_text_for_reader(user, pk, channel=CHANNEL)
    clause = text.clause
    return render(
        request,
        "agreements/clause.html",
        {
            "text": text,
            "entry": text,
            "clause": clause,
            "in_force": clause.current_id == text.pk and clause.retired_at is None,
            "is_member": _is_member_of(user, clause.agreement_id),
            "section_title": SECTION_TITLES.get(text.section, ""),
        },
    )
