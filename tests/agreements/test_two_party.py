"""Two-party consent (SPEC C5): the agreement changes only when the partner who did not write a
proposal accepts it. No path (page, fragment, API) changes the document without the other
partner's acceptance: not its author accepting it himself, not a therapist who may read it, not
someone of another couple, not a former partner.

What is sent is discovered, not listed: every page of the "agreements" namespace and every API
operation under /api/agreements (tests/security/matrix.py), with the valid requests the security
hooks give for them (tests/security/entries.py), so a new page or operation is covered as soon
as it exists (and fails here, through the hooks, until it has valid data there).

Each request runs on the same starting state (Alex's proposals open, a review open) inside a
savepoint that is rolled back after the check, so an accept always meets an open proposal at the
version its sender read: only whose request it is can stop it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse

from tests.security.entries import (
    api_call,
    api_request,
    couple_api_request,
    couple_page_post,
    page_post_data,
)
from tests.security.matrix import (
    WRITE_ENTRY_OPS,
    discover_api,
    discover_pages,
    openapi_doc,
    walk_urls,
    widen_consents,
)
from trellis.agreements import services
from trellis.agreements.models import (
    Agreement,
    AgreementProposal,
    AgreementVersion,
    Clause,
    ClauseText,
)

NAMESPACE = "agreements"
API_PREFIX = "/api/agreements"
RESPOND_PAGE = "agreements:proposal_respond"
ACCEPT_OP = ("post", "/api/agreements/proposals/{proposal_id}/accept")
# Every action a page or operation of the agreements takes in an "action" field: each request
# whose valid data has one is sent with each of them too (an accept where the hook declines).
ACTIONS = ("accept", "decline", "call", "keep", "close")
ACTORS = ("alex", "lee", "casey", "pat")

MEETINGS = "Alex goes to his recovery meetings each week and says when he has to miss one."
CHECKIN = "We each do a short check-in every evening, even when there is little to say."
PHONES = "Phones stay out of the bedroom at night."
MONEY = "We share the month's budget on its first Sunday."


# --- discovery -------------------------------------------------------------------------------


@dataclass
class Surface:
    """What of the agreements can be reached, as discovered."""

    entry_pages: list[tuple[Any, type, str]]  # (route, model, op)
    couple_pages: list[Any]  # routes taking the agreement's id
    plain_pages: list[Any]  # routes without parameters (and collection pages)
    entry_ops: list[Any]
    couple_ops: list[Any]
    collection_ops: list[Any]
    plain_gets: list[str]

    def page_names(self) -> set[str]:
        return (
            {r.name for r, _, _ in self.entry_pages}
            | {r.name for r in self.couple_pages}
            | {r.name for r in self.plain_pages}
        )

    def api_keys(self) -> set[tuple[str, str]]:
        return {
            (op.method, op.path) for op in self.entry_ops + self.couple_ops + self.collection_ops
        } | {("get", path) for path in self.plain_gets}


def _ours(route: Any) -> bool:
    return bool(route.namespaces) and route.namespaces[0] == NAMESPACE


def discover() -> Surface:
    pages = discover_pages(walk_urls())
    apis = discover_api(openapi_doc(), pages.api_id_paths)
    problems = [p for p in pages.problems + apis.problems if NAMESPACE in p or API_PREFIX in p]
    assert not problems, "Discovery cannot check part of the agreements:\n" + "\n".join(problems)

    def api(ops: list[Any]) -> list[Any]:
        return [op for op in ops if op.path.startswith(API_PREFIX)]

    return Surface(
        entry_pages=[(r, m, op) for r, m, op in pages.entry_pages if _ours(r)],
        couple_pages=[r for r, _, _ in pages.couple_pages if _ours(r)],
        plain_pages=[r for r in pages.plain_pages if _ours(r)]
        + [r for r, _, _ in pages.collection_pages if _ours(r) and r not in pages.plain_pages],
        entry_ops=api(apis.entry_ops),
        couple_ops=api(apis.couple_ops),
        collection_ops=api(apis.collection_ops),
        plain_gets=[p for p in apis.plain_gets if p.startswith(API_PREFIX)],
    )


@pytest.fixture
def surface(db) -> Surface:
    return discover()


# --- the document ----------------------------------------------------------------------------


def document(agreement_id: Any) -> dict[str, Any]:
    """What two-party consent protects: the version in force, the versions made, and which
    wording of which clause is in force (with its words), plus every wording ever accepted."""
    in_force = (
        Clause.objects.filter(
            agreement_id=agreement_id, retired_at__isnull=True, current__isnull=False
        )
        .select_related("current")
        .order_by("pk")
    )
    return {
        "version": Agreement.objects.get(pk=agreement_id).version,
        "versions": list(
            AgreementVersion.objects.filter(agreement_id=agreement_id)
            .order_by("number")
            .values_list("number", flat=True)
        ),
        "in_force": {str(c.pk): (str(c.current_id), c.current.text) for c in in_force},
        "wordings": sorted(
            str(pk)
            for pk in ClauseText.objects.filter(clause__agreement_id=agreement_id).values_list(
                "pk", flat=True
            )
        ),
    }


def propose(author: Any, text: str = "", **kw: Any) -> AgreementProposal:
    agreement = services.agreement_for(author)
    assert agreement is not None
    kw.setdefault("kind", "add")
    kw.setdefault("section", "recovery")
    proposal, created = services.proposal_create(
        author=author, agreement=agreement, base_version=agreement.version, text=text, **kw
    )
    assert created
    return proposal


def agree(author: Any, partner: Any, text: str, **kw: Any) -> ClauseText:
    proposal = propose(author, text, **kw)
    services.proposal_accept(user=partner, proposal=proposal, expected_version=proposal.version)
    return ClauseText.objects.get(proposal=proposal)


@dataclass
class World:
    people: Any
    agreement: Agreement
    proposals: list[AgreementProposal]  # Alex's, all open
    wordings: list[ClauseText]  # in force

    def targets(self, model: type) -> list[Any]:
        by_model: dict[type, list[Any]] = {
            AgreementProposal: self.proposals,
            ClauseText: self.wordings,
        }
        if model not in by_model:
            pytest.fail(
                f"A page or operation of the agreements takes the id of a {model.__name__}, "
                "which tests/agreements/test_two_party.py has no target for: add one."
            )
        return by_model[model]


@pytest.fixture
def world(people) -> World:
    """Alex and Sam's agreement at version 2 (a clause each wrote, the other accepted), with
    three proposals of Alex's open (add a clause, change his clause, retire Sam's) and a review
    open in which Sam has kept Alex's clause."""
    widen_consents()
    alex, sam = people.alex, people.sam
    mine = agree(alex, sam, MEETINGS)
    theirs = agree(sam, alex, CHECKIN, section="digital")
    add = propose(alex, MONEY, section="money")
    change = propose(
        alex,
        MEETINGS + " Twice a week for now.",
        kind="change",
        clause_id=mine.clause_id,
        reason="Twice a week helps right now.",
    )
    retire = propose(
        alex, kind="retire", clause_id=theirs.clause_id, reason="We talk every day anyway."
    )
    agreement = services.agreement_for(alex)
    assert agreement is not None and agreement.version == 2
    services.review_call(user=sam, agreement=agreement)
    services.review_keep(user=sam, agreement=agreement, clause_id=mine.clause_id)
    return World(people, agreement, [add, change, retire], [mine, theirs])


# --- sending everything ----------------------------------------------------------------------


@dataclass
class Sweep:
    per_actor: Counter = field(default_factory=Counter)
    changed: list[str] = field(default_factory=list)
    answers: dict[tuple[str, str], int] = field(default_factory=dict)


def _variants(data: Any, clause_id: str, *, api: bool) -> Iterator[Any]:
    yield data
    if isinstance(data, dict) and "action" in data:
        for action in ACTIONS:
            if action == data["action"]:
                continue
            other = {**data, "action": action}
            if action == "keep":
                other.setdefault("clause_id" if api else "clause", clause_id)
            yield other


def sweep(world: World, surface: Surface, actors: tuple[str, ...]) -> Sweep:
    """Every discovered page and operation, as each actor, on Alex's proposals, the agreement
    and its wordings; after each, the document must be as it was (then the request is undone)."""
    result = Sweep()
    agreement_id = world.agreement.pk
    before = document(agreement_id)
    clause_id = str(world.wordings[0].clause_id)

    for name in actors:
        user = getattr(world.people, name)
        client = Client()
        client.force_login(user)

        def send(what: str, request: Callable[[], Any], name: str = name) -> None:
            with transaction.atomic():
                response = request()
                after = document(agreement_id)
                transaction.set_rollback(True)
            result.per_actor[name] += 1
            result.answers[(name, what)] = response.status_code
            if after != before:
                result.changed.append(
                    f"{name}: {what} (answered {response.status_code}) changed the document: "
                    f"{before} -> {after}"
                )

        def fresh(obj: Any) -> Any:
            return type(obj).objects.get(pk=obj.pk)

        def page_posts(url: str, make: Callable[[], Any]) -> None:
            data = make()
            for variant in _variants(data if data is not None else {}, clause_id, api=False):
                for htmx in ({}, {"HX-Request": "true"}):
                    what = f"page POST {url} {variant}{' (htmx)' if htmx else ''}"
                    send(what, lambda v=variant, h=htmx: client.post(url, v, headers=h))

        # Pages about one entry: Alex's proposals, the wordings in force.
        for route, model, op in surface.entry_pages:
            for target in world.targets(model):
                url = reverse(route.name, kwargs={kw: target.pk for kw in route.id_kwargs})
                send(f"page GET {url} ({route.name})", lambda u=url: client.get(u))
                if op in WRITE_ENTRY_OPS:
                    page_posts(
                        url,
                        lambda r=route, t=target: page_post_data(r.name, fresh(t)),
                    )
                else:
                    send(f"page POST {url} ({route.name})", lambda u=url: client.post(u, {}))

        # Pages about the agreement itself.
        for route in surface.couple_pages:
            url = reverse(route.name, kwargs={kw: agreement_id for kw in route.id_kwargs})
            send(f"page GET {url} ({route.name})", lambda u=url: client.get(u))
            post = couple_page_post(route.name)
            page_posts(
                url,
                lambda p=post: p[1](fresh(world.agreement)) if p is not None else None,
            )

        for route in surface.plain_pages:
            url = reverse(route.name)
            send(f"page GET {url}", lambda u=url: client.get(u))
            send(f"page POST {url}", lambda u=url: client.post(u, {}))

        # The API, with the session (the client sends no CSRF check, as a browser's token would
        # pass it).
        for op in surface.entry_ops:
            param = op.path_params[0]
            model = next(
                m for m in (AgreementProposal, ClauseText) if m.entry_type_label == op.entry_type
            )
            for target in world.targets(model):
                url = op.path.replace("{" + param + "}", str(target.pk))
                body, headers = api_request(
                    op.method, op.path, fresh(target), needs_body=op.has_body
                )
                for variant in _variants(body, clause_id, api=True):
                    send(
                        f"API {op.method.upper()} {url} {variant}",
                        lambda o=op, u=url, b=variant, h=headers: api_call(
                            client, o.method, u, b, h
                        ),
                    )

        for op in surface.couple_ops:
            _states, make = couple_api_request(op.method, op.path)
            url = op.path.replace("{" + op.path_params[0] + "}", str(agreement_id))
            body, headers = make(fresh(world.agreement))
            for variant in _variants(body, clause_id, api=True):
                send(
                    f"API {op.method.upper()} {url} {variant}",
                    lambda o=op, u=url, b=variant, h=headers: api_call(client, o.method, u, b, h),
                )

        for op in surface.collection_ops:
            send(f"API GET {op.path}", lambda p=op.path: client.get(p))
        for path in surface.plain_gets:
            send(f"API GET {path}", lambda p=path: client.get(p))

    assert document(agreement_id) == before
    return result


# --- the tests -------------------------------------------------------------------------------


def test_discovery_finds_every_way_to_answer_a_proposal(surface):
    pages, ops = surface.page_names(), surface.api_keys()
    assert pages and ops
    assert RESPOND_PAGE in pages
    assert "agreements:propose" in pages and "agreements:review" in pages
    assert ACCEPT_OP in ops
    assert ("post", "/api/agreements/agreements/{agreement_id}/proposals") in ops


def test_no_path_changes_the_document_without_the_other_partners_acceptance(world, surface):
    result = sweep(world, surface, ACTORS)

    assert not result.changed, "\n".join(result.changed)
    assert set(result.per_actor) == set(ACTORS)
    assert len(set(result.per_actor.values())) == 1, result.per_actor  # the same for everyone
    # The requests reached what they aimed at. Every accept of each of Alex's proposals (on the
    # page, as a fragment, over the API) was refused as the plain 404 of "not yours to answer",
    # not turned away for a malformed request or a missing session...
    answers = result.answers
    for proposal in world.proposals:
        respond, accept = _respond_url(surface, proposal), _accept_url(surface, proposal)
        tries = {
            key: status
            for key, status in answers.items()
            if key[1].startswith(
                (f"page POST {respond} {{'action': 'accept'", f"API POST {accept} ")
            )
        }
        assert len(tries) == 3 * len(ACTORS), tries
        assert set(tries.values()) == {404}, tries
    # ...Dr. Lee may read Alex's proposals, so his accepts got as far as the service...
    proposal_page = reverse("agreements:proposal", kwargs={"pk": world.proposals[0].pk})
    assert answers[("lee", f"page GET {proposal_page} (agreements:proposal)")] == 200
    # ...and what Alex may do was done (then undone), without changing the document.
    propose_page = reverse("agreements:propose", kwargs={"pk": world.agreement.pk})
    propose_op = f"API POST {API_PREFIX}/agreements/{world.agreement.pk}/proposals "
    made = sorted(
        status
        for (name, what), status in answers.items()
        if name == "alex" and what.startswith((f"page POST {propose_page} ", propose_op))
    )
    assert made == [201, 302, 302], "Alex's own proposals were not made"


def _respond_url(surface: Surface, proposal: AgreementProposal) -> str:
    route = next(r for r, _, _ in surface.entry_pages if r.name == RESPOND_PAGE)
    return reverse(route.name, kwargs={kw: proposal.pk for kw in route.id_kwargs})


def _accept_url(surface: Surface, proposal: AgreementProposal) -> str:
    op = next(o for o in surface.entry_ops if (o.method, o.path) == ACCEPT_OP)
    return op.path.replace("{" + op.path_params[0] + "}", str(proposal.pk))


def _one_version_more(before: dict[str, Any], after: dict[str, Any]) -> None:
    assert after["version"] == before["version"] + 1
    assert after["versions"] == [*before["versions"], before["version"] + 1]


def test_sam_accepting_on_the_page_makes_exactly_one_version(world, surface):
    sam = Client()
    sam.force_login(world.people.sam)
    add = world.proposals[0]
    before = document(world.agreement.pk)

    response = sam.post(
        _respond_url(surface, add), {"action": "accept", "version": str(add.version)}
    )

    assert response.status_code == 302
    after = document(world.agreement.pk)
    _one_version_more(before, after)
    assert MONEY in {text for _, text in after["in_force"].values()}


def test_sam_accepting_over_the_api_makes_exactly_one_version(world, surface):
    fresh = propose(world.people.alex, PHONES, section="digital")
    sam = Client()
    sam.force_login(world.people.sam)
    before = document(world.agreement.pk)

    response = api_call(sam, "post", _accept_url(surface, fresh), {"version": fresh.version}, {})

    assert response.status_code == 200, response.content
    assert response.json()["number"] == before["version"] + 1
    after = document(world.agreement.pk)
    _one_version_more(before, after)
    assert PHONES in {text for _, text in after["in_force"].values()}


def test_the_check_catches_an_author_accepting_his_own_proposal(world, surface, monkeypatch):
    """A planted bug: the author check taken out of `_open_for_answer`. The same sweep must see
    Alex's own accepts change the document, on the page and over the API."""
    original = services._open_for_answer

    class Someone:
        pk = None  # nobody's id: never the author's

    def author_allowed(locked, proposal, user, expected_version):
        return original(locked, proposal, Someone(), expected_version)

    monkeypatch.setattr(services, "_open_for_answer", author_allowed)

    result = sweep(world, surface, ("alex",))

    respond = {_respond_url(surface, p) for p in world.proposals}
    accept = {_accept_url(surface, p) for p in world.proposals}
    on_page = {
        u
        for u in respond
        if any(f"page POST {u} " in c and "'accept'" in c for c in result.changed)
    }
    over_api = {u for u in accept if any(f"API POST {u} " in c for c in result.changed)}
    assert on_page == respond, result.changed
    assert over_api == accept, result.changed
    # Only accepting changes the document, even with the bug.
    assert all("accept" in c for c in result.changed), result.changed
