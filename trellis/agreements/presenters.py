"""The agreement's long lists as HTML list items: the clauses of the document (the agreement,
its print view, a review), the proposals waiting on it, and the history's versions and
proposals.

Built as escaped strings rather than template loops, as the dashboard builds its tables
(trellis/dashboard/presenters.py): the document shows every clause in force and the history a
page of each list, and a template loop cost about as much per row as the whole rest of the page
(QUALITY P2). The markup and the wording are those the templates had; every value a person
wrote goes through `linebreaksbr` (escaped, line breaks kept), `excerpt` or `escape`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from django.template.defaultfilters import linebreaksbr
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator

from .models import AgreementProposal, AgreementVersion, ClauseText, Section
from .selectors import Line

SECTION_TITLES = dict(Section.choices)
KIND_TITLES = dict(AgreementProposal.Kind.choices)
VERSION_KINDS = {
    "add": "A clause added",
    "change": "A clause changed",
    "retire": "A clause retired",
}


# --- words -----------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def day(value: date) -> str:
    """A day as the pages write it: "3 March 2026" (the templates' `date:"j F Y"`)."""
    return f"{value.day} {value:%B} {value.year}"


def local_day(moment: datetime) -> str:
    return day(timezone.localtime(moment).date())


def short_day(moment: datetime) -> str:
    """`date:"j M"`: "3 Mar"."""
    value = timezone.localtime(moment).date()
    return f"{value.day} {value:%b}"


def who(reader: Any, person_id: Any, name: str | None, *, named: bool = False) -> str:
    """A person as the pages name them (as templates/agreements/_who.html does): "you" for the
    reader (unless `named`, as on paper), their name, or a calm placeholder once they left."""
    if person_id is None:
        return "someone who has left"
    if person_id == reader.pk and not named:
        return "you"
    return name or ""


def excerpt(text: str) -> str:
    return escape(Truncator(text).words(30, truncate=" …"))


# --- the document ----------------------------------------------------------------------------

WHY = '<p class="why"><span class="why-label">Why it matters:</span> {}</p>'
IN_FORCE = ' · <span class="in-force">in force</span>'
DUE = (
    '<p class="due-badge">Due for a look together <span class="due-note">· still in force</span>'
    "</p>"
)


def _words(value: str) -> str:
    return linebreaksbr(value, autoescape=True)


def _why(rationale: str) -> str:
    return WHY.format(_words(rationale)) if rationale else ""


def document_items(lines: list[Line], *, propose_url: str, past: bool) -> SafeString:
    """The <li>s of one section of the agreement's page. The version in force offers a change
    and a retirement of each clause; an earlier version only shows them."""
    propose_url = escape(propose_url)
    items = []
    for line in lines:
        cid = line.clause.pk
        text = line.text
        if text is not None:
            body = (
                f'<p class="clause-text" id="c-{cid}">{_words(text.text)}</p>'
                f"{_why(text.rationale)}"
                f'<p class="meta">Proposed by {escape(line.proposed_by)}, accepted by '
                f"{escape(line.accepted_by)} · since version {text.in_version}</p>"
            )
        else:
            body = f'<p class="clause-text empty" id="c-{cid}">Not shared with you</p>'
        actions = (
            ""
            if past
            else (
                f'<p class="actions clause-actions"><a class="btn small" href="{propose_url}'
                f'?kind=change&amp;clause={cid}" aria-describedby="c-{cid}">Propose a change</a> '
                f'<a class="text-action" href="{propose_url}?kind=retire&amp;clause={cid}" '
                f'aria-describedby="c-{cid}">Propose retiring</a></p>'
            )
        )
        items.append(
            f'<li class="clause{" due" if line.due else ""}">{body}'
            f'<p class="meta">Look at it together again on {escape(line.review_on)}</p>'
            f"{DUE if line.due else ''}{actions}</li>"
        )
    return mark_safe("\n".join(items))  # noqa: S308 - every value escaped above


def print_items(lines: list[Line]) -> SafeString:
    """The <li>s of one section of the printed agreement: everyone named, no buttons."""
    items = []
    for line in lines:
        text = line.text
        if text is None:
            items.append('<li><p class="clause-text empty">Not shared with you</p></li>')
            continue
        items.append(
            f'<li><p class="clause-text">{_words(text.text)}</p>{_why(text.rationale)}'
            f'<p class="meta">Proposed by {escape(line.proposed_by)}, accepted by '
            f"{escape(line.accepted_by)} on {escape(line.accepted_on)} · look at it together "
            f"again on {escape(line.review_on)}</p></li>"
        )
    return mark_safe("\n".join(items))  # noqa: S308 - every value escaped above


def review_items(
    rows: list[dict[str, Any]],
    *,
    open_review: bool,
    partner_name: str,
    review_url: str,
    propose_url: str,
    csrf_input: str,
) -> SafeString:
    """The <li>s of one section of a review: each clause, who has kept it in the open review,
    and the two answers to it ("This still works for me", or a change)."""
    partner = escape(partner_name)
    review_url, propose_url = escape(review_url), escape(propose_url)
    items = []
    for row in rows:
        line: Line = row["line"]
        cid = line.clause.pk
        if line.text is not None:
            body = f'<p class="clause-text" id="rc-{cid}">{_words(line.text.text)}</p>'
        else:
            body = f'<p class="clause-text empty" id="rc-{cid}">Not shared with you</p>'
        kept = ""
        keep = ""
        if open_review:
            if row["kept_by_me"] and row["kept_by_partner"]:
                said = "You have both kept this clause in this review."
            elif row["kept_by_me"]:
                said = f"You have kept this clause. Waiting for {partner}."
            elif row["kept_by_partner"]:
                said = f"{partner} has kept this clause."
            else:
                said = "Not looked at yet in this review."
            kept = f'<p class="kept">{said}</p>'
            if not row["kept_by_me"]:
                keep = (
                    f'<form method="post" action="{review_url}" class="inline">{csrf_input}'
                    f'<input type="hidden" name="clause" value="{cid}">'
                    '<button class="btn small primary" type="submit" name="action" value="keep" '
                    f'aria-describedby="rc-{cid}">This still works for me</button></form>'
                )
        items.append(
            f'<li class="clause{" due" if line.due else ""}">{body}'
            f'<p class="meta">Look at it together again on {escape(line.review_on)}</p>'
            f"{DUE if line.due else ''}{kept}"
            f'<div class="actions clause-actions">{keep}<a class="btn small" href="{propose_url}'
            f'?kind=change&amp;clause={cid}" aria-describedby="rc-{cid}">Propose a change</a>'
            "</div></li>"
        )
    return mark_safe("\n".join(items))  # noqa: S308 - every value escaped above


def waiting_items(
    proposals: list[AgreementProposal], *, reader: Any, proposal_url: Callable[[Any], str]
) -> SafeString:
    """The <li>s of the proposals waiting for an answer, on the agreement's page (see
    selectors.proposals_waiting): what each asks, whose it is, and the way to it."""
    items = []
    for p in proposals:
        mine = p.author_id == reader.pk
        whose = "yours" if mine else f"from {p.author_name}"  # type: ignore[attr-defined]
        words = f'<p class="excerpt">{excerpt(p.text)}</p>' if p.kind != "retire" else ""
        items.append(
            f'<li class="proposal-item"><p class="meta">'
            f"{escape(KIND_TITLES.get(p.kind, ''))} · {escape(SECTION_TITLES.get(p.section, ''))}"
            f" · {escape(whose)}, {short_day(p.created_at)}</p>{words}"
            f'<p><a href="{escape(proposal_url(p.pk))}">'
            f"{'Open your proposal' if mine else 'Read and answer'}</a></p></li>"
        )
    return mark_safe("\n".join(items))  # noqa: S308 - every value escaped above


# --- the history -----------------------------------------------------------------------------


def version_items(
    versions: list[AgreementVersion],
    *,
    reader: Any,
    latest: int,
    detail_url: str,
    compare_url: str,
    clause_url: Callable[[Any], str],
    retired: dict[str, ClauseText],
) -> SafeString:
    """The <li>s of the history's versions (see selectors.versions_between): who proposed and
    accepted each, what it changed, and links to read it and to compare it with the one
    before. A "retire" version shows the wording it retired, when the reader may read it."""
    detail_url, compare_url = escape(detail_url), escape(compare_url)
    items = []
    for v in versions:
        n = v.number
        what = VERSION_KINDS.get(v.kind, "A change")
        section = SECTION_TITLES.get(v.clause_section or "", "")  # type: ignore[attr-defined]
        if section:
            what = f"{what} ({section})"
        proposed = who(reader, v.proposed_by_id, v.proposed_by_name)  # type: ignore[attr-defined]
        accepted = who(reader, v.accepted_by_id, v.accepted_by_name)  # type: ignore[attr-defined]
        gone = ""
        if v.kind == "retire":
            text = retired.get(str(v.clause_text_id))  # type: ignore[attr-defined]
            gone = (
                f'<p class="excerpt">{excerpt(text.text)}</p><p><a href="'
                f'{escape(clause_url(text.pk))}">Read its last wording</a></p>'
                if text is not None
                else '<p class="empty">The clause it retired was not shared with you.</p>'
            )
        before = f"version {n - 1}" if n > 1 else "the start"
        items.append(
            f'<li class="card version-item"><p><strong>Version {n}</strong> · '
            f"{local_day(v.created_at)}{IN_FORCE if n == latest else ''}</p>"
            f"<p>{escape(what)}: proposed by {escape(proposed)}, accepted by "
            f"{escape(accepted)}.</p>{gone}"
            f'<p class="actions"><a href="{detail_url}?version={n}">Read version {n}</a> '
            f'<a href="{compare_url}?a={n - 1}&amp;b={n}">Compare with {before}</a></p></li>'
        )
    return mark_safe("\n".join(items))  # noqa: S308 - every value escaped above


def _fate(p: AgreementProposal, reader: Any, partner_name: str) -> str:
    """What became of a proposal, in a calm sentence."""
    mine = p.author_id == reader.pk
    decided = who(reader, p.decided_by_id, p.decided_by_name)  # type: ignore[attr-defined]
    if p.status == AgreementProposal.Status.OPEN:
        return f"Waiting for {partner_name}" if mine else "Waiting for your answer"
    if p.status == AgreementProposal.Status.ACCEPTED:
        version = f": version {p.result_version}" if p.result_version else ""
        return f"Accepted by {decided}{version}"
    if p.status == AgreementProposal.Status.DECLINED:
        return f"{decided[:1].upper()}{decided[1:]} declined this for now"
    if p.status == AgreementProposal.Status.COUNTERED:
        return "Answered with a counter-proposal"
    if p.status == AgreementProposal.Status.WITHDRAWN:
        return "Withdrawn"
    return ""


def proposal_items(
    proposals: list[AgreementProposal],
    *,
    reader: Any,
    partner_name: str,
    proposal_url: Callable[[Any], str],
) -> SafeString:
    """The <li>s of the history's proposals (see selectors.proposals_page): what each asked,
    whose it is and what became of it, with the words of a partner who declined it."""
    items = []
    for p in proposals:
        whose = "yours" if p.author_id == reader.pk else f"from {p.author_name}"  # type: ignore[attr-defined]
        words = f'<p class="excerpt">{excerpt(p.text)}</p>' if p.kind != "retire" else ""
        response = ""
        if p.status == AgreementProposal.Status.DECLINED and p.response:
            label = "Your words" if p.decided_by_id == reader.pk else "Their words"
            response = (
                f'<p class="response"><span class="why-label">{label}:</span> '
                f"{_words(p.response)}</p>"
            )
        items.append(
            f'<li class="entry proposal-item status-{escape(p.status)}"><p class="meta">'
            f"{escape(KIND_TITLES.get(p.kind, ''))} · {escape(SECTION_TITLES.get(p.section, ''))}"
            f" · {escape(whose)}, {local_day(p.created_at)}</p>{words}"
            f'<p class="status-line">{escape(_fate(p, reader, partner_name))}</p>{response}'
            f'<p><a href="{escape(proposal_url(p.pk))}">Open this proposal</a></p></li>'
        )
    return mark_safe("\n".join(items))  # noqa: S308 - every value escaped above
