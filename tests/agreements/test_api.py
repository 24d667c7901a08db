"""The agreements API (SPEC C5): propose, answer, compare versions, review; the same sharing
rules as the pages (denied looks like missing), strict input, stale proposals refused."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from trellis.accounts.services import api_token_create
from trellis.agreements import services
from trellis.agreements.models import Agreement, AgreementProposal, ClauseText
from trellis.couples.models import Consent, ConsentScope
from trellis.sharing.models import AuditEvent

API = "/api/agreements"
MEETINGS = "Alex goes to his recovery meetings each week and says when he has to miss one."
CHECKIN = "We each do a short check-in every evening, even when there is little to say."
PHONES = "Phones stay out of the bedroom at night."


@pytest.fixture
def api_for():
    """An API client authenticated with a fresh personal bearer token (no session, no CSRF)."""

    def make(user) -> Client:
        _, raw = api_token_create(user=user, name="tests")
        return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")

    return make


def _post(client: Client, url: str, data=None):
    return client.post(url, json.dumps(data or {}), content_type="application/json")


def _put(client: Client, url: str, data):
    return client.put(url, json.dumps(data), content_type="application/json")


def _locs(response) -> list[list]:
    return [d["loc"] for d in response.json()["detail"]]


def _agreement(user) -> Agreement:
    agreement = services.agreement_for(user)
    assert agreement is not None
    return agreement


def propose(author, text, *, kind="add", section="recovery", clause=None, reason="", audience=""):
    agreement = _agreement(author)
    proposal, created = services.proposal_create(
        author=author,
        agreement=agreement,
        kind=kind,
        base_version=agreement.version,
        clause_id=clause,
        section=section,
        text=text,
        reason=reason,
        **({"audience": audience} if audience else {}),
    )
    assert created
    return proposal


def agree(author, partner, text, **kw) -> ClauseText:
    """`author` proposes, `partner` accepts: the wording now in force."""
    proposal = propose(author, text, **kw)
    services.proposal_accept(user=partner, proposal=proposal, expected_version=proposal.version)
    return ClauseText.objects.get(proposal=proposal)


# --- the whole flow --------------------------------------------------------------------------


def test_propose_counter_accept_then_compare_versions(people, api_for):
    alex, sam = api_for(people.alex), api_for(people.sam)
    current = alex.get(f"{API}/agreement")
    assert current.status_code == 200
    doc = current.json()
    assert (doc["version"], doc["clauses"], doc["open_proposals"]) == (0, [], [])
    agreement_id = doc["id"]

    # Alex proposes; Sam sees it waiting for an answer.
    made = _post(
        alex,
        f"{API}/agreements/{agreement_id}/proposals",
        {"kind": "add", "base_version": 0, "section": "recovery", "text": MEETINGS},
    )
    assert made.status_code == 201, made.content
    first = made.json()
    assert (first["status"], first["author"]["display_name"], first["stale"]) == (
        "open",
        "Alex",
        False,
    )
    waiting = sam.get(f"{API}/proposals", {"status": "open"}).json()
    assert [p["id"] for p in waiting] == [first["id"]]

    # Sam answers with her own wording.
    countered = _post(
        sam,
        f"{API}/proposals/{first['id']}/counter",
        {"version": first["version"], "text": MEETINGS + " A text is enough."},
    )
    assert countered.status_code == 201, countered.content
    counter = countered.json()
    assert counter["counter_to"] == first["id"] and counter["author"]["display_name"] == "Sam"
    assert sam.get(f"{API}/proposals/{first['id']}").json()["status"] == "countered"

    # Alex accepts the counter-proposal: version 1.
    accepted = _post(alex, f"{API}/proposals/{counter['id']}/accept", {"version": 1})
    assert accepted.status_code == 200, accepted.content
    v1 = accepted.json()
    assert v1["number"] == 1 and v1["proposal_id"] == counter["id"]
    assert (v1["proposed_by"]["display_name"], v1["accepted_by"]["display_name"]) == ("Sam", "Alex")
    doc = sam.get(f"{API}/agreement").json()
    assert doc["version"] == 1
    [clause] = doc["clauses"]
    assert clause["text"] == MEETINGS + " A text is enough."
    assert clause["author"]["display_name"] == "Sam" and clause["in_version"] == 1

    # Sam proposes a change; Alex accepts: version 2.
    change = _post(
        sam,
        f"{API}/agreements/{agreement_id}/proposals",
        {
            "kind": "change",
            "base_version": 1,
            "clause_id": clause["clause_id"],
            "text": MEETINGS.replace("each week", "twice a week"),
            "reason": "We agreed with his sponsor to go twice a week for now.",
        },
    ).json()
    assert _post(alex, f"{API}/proposals/{change['id']}/accept", {"version": 1}).status_code == 200

    versions = alex.get(f"{API}/agreements/{agreement_id}/versions").json()
    assert [(v["number"], v["kind"]) for v in versions] == [(2, "change"), (1, "add")]

    compared = alex.get(f"{API}/agreements/{agreement_id}/diff", {"a": 1, "b": 2})
    assert compared.status_code == 200
    [changed] = compared.json()
    assert changed["op"] == "changed" and changed["clause_id"] == clause["clause_id"]
    assert ["del", "each"] in changed["old_parts"]
    assert ["ins", "twice a"] in changed["new_parts"]
    assert "".join(text for _, text in changed["new_parts"]) == changed["new_text"]

    # From the empty document (version 0) everything is added.
    [added] = alex.get(f"{API}/agreements/{agreement_id}/diff", {"a": 0, "b": 2}).json()
    assert (added["op"], added["old_text"]) == ("added", None)

    # An earlier version can be read as it stood.
    then = alex.get(f"{API}/agreements/{agreement_id}", {"version": 1}).json()
    assert [c["text"] for c in then["clauses"]] == [MEETINGS + " A text is enough."]


def test_an_author_cannot_accept_their_own_proposal(people, api_for):
    proposal = propose(people.alex, MEETINGS)
    response = _post(api_for(people.alex), f"{API}/proposals/{proposal.pk}/accept", {"version": 1})
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found"}
    assert _agreement(people.alex).version == 0
    proposal.refresh_from_db()
    assert proposal.status == AgreementProposal.Status.OPEN


def test_a_stale_proposal_is_refused_with_a_clear_message(people, api_for):
    text = agree(people.alex, people.sam, PHONES, section="digital")
    clause = str(text.clause_id)
    mine = propose(people.alex, PHONES + " Both of us.", kind="change", clause=clause)
    theirs = propose(
        people.sam, "Phones charge in the kitchen overnight.", kind="change", clause=clause
    )
    alex, sam = api_for(people.alex), api_for(people.sam)
    # Alex accepts Sam's change first; his own proposal was made on the older wording.
    assert _post(alex, f"{API}/proposals/{theirs.pk}/accept", {"version": 1}).status_code == 200
    assert sam.get(f"{API}/proposals/{mine.pk}").json()["stale"] is True

    refused = _post(sam, f"{API}/proposals/{mine.pk}/accept", {"version": 1})
    assert refused.status_code == 409
    assert "before the clause last changed" in refused.json()["detail"]
    assert _agreement(people.alex).version == 2
    assert ClauseText.objects.get(clause_id=clause, in_version=2).text == theirs.text

    # A new proposal made against the old version is refused the same way, naming the version.
    again = _post(
        alex,
        f"{API}/agreements/{_agreement(people.alex).pk}/proposals",
        {"kind": "change", "base_version": 1, "clause_id": clause, "text": "Phones away at 10."},
    )
    assert again.status_code == 409 and "version 2" in again.json()["detail"]

    # Alex rebases his proposal on the current wording; then Sam can accept it.
    revised = _put(
        alex,
        f"{API}/proposals/{mine.pk}",
        {"version": 1, "base_version": 2, "text": theirs.text + " Both of us."},
    )
    assert revised.status_code == 200, revised.content
    assert (revised.json()["stale"], revised.json()["version"]) == (False, 2)
    # Sam's answer begun on the first wording is refused: she has not read the new one.
    assert _post(sam, f"{API}/proposals/{mine.pk}/accept", {"version": 1}).status_code == 409
    assert _post(sam, f"{API}/proposals/{mine.pk}/accept", {"version": 2}).status_code == 200
    assert _agreement(people.alex).version == 3

    # By default the list shows the wordings in force; `all` shows the history too.
    in_force = sam.get(f"{API}/clauses").json()
    assert [c["in_version"] for c in in_force] == [3]
    every = sam.get(f"{API}/clauses", {"all": "true"}).json()
    assert [(c["in_version"], c["in_force"]) for c in every] == [(1, False), (2, False), (3, True)]


def test_retiring_a_clause_takes_it_out_of_the_document_not_the_history(people, api_for):
    kept = agree(people.alex, people.sam, MEETINGS)
    gone = agree(people.sam, people.alex, PHONES, section="digital")
    alex, sam = api_for(people.alex), api_for(people.sam)
    agreement_id = _agreement(people.alex).pk
    url = f"{API}/agreements/{agreement_id}/proposals"
    no_reason = _post(
        alex, url, {"kind": "retire", "base_version": 2, "clause_id": str(gone.clause_id)}
    )
    assert no_reason.status_code == 422 and _locs(no_reason) == [["body", "reason"]]
    retire = _post(
        alex,
        url,
        {
            "kind": "retire",
            "base_version": 2,
            "clause_id": str(gone.clause_id),
            "reason": "We both charge our phones in the kitchen now without thinking about it.",
        },
    ).json()
    assert _post(sam, f"{API}/proposals/{retire['id']}/accept", {"version": 1}).status_code == 200
    doc = sam.get(f"{API}/agreement").json()
    assert (doc["version"], [c["text_id"] for c in doc["clauses"]]) == (3, [str(kept.pk)])
    changes = sam.get(f"{API}/agreements/{agreement_id}/diff").json()  # the last change
    assert [(c["op"], c["old_text"]) for c in changes] == [("same", MEETINGS), ("removed", PHONES)]
    wording = sam.get(f"{API}/clauses/{gone.pk}").json()
    assert (wording["text"], wording["in_force"]) == (PHONES, False)


def test_a_duplicate_proposal_post_returns_the_same_proposal(people, api_for):
    alex = api_for(people.alex)
    url = f"{API}/agreements/{_agreement(people.alex).pk}/proposals"
    body = {"kind": "add", "base_version": 0, "section": "ok", "text": CHECKIN}
    first, second = _post(alex, url, body), _post(alex, url, body)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    assert AgreementProposal.objects.filter(author=people.alex).count() == 1


def test_decline_and_withdraw(people, api_for):
    alex, sam = api_for(people.alex), api_for(people.sam)
    proposal = propose(people.alex, CHECKIN)
    # Only the author withdraws; only the partner declines.
    assert _post(sam, f"{API}/proposals/{proposal.pk}/withdraw").status_code == 404
    assert _post(alex, f"{API}/proposals/{proposal.pk}/decline", {"version": 1}).status_code == 404
    declined = _post(
        sam,
        f"{API}/proposals/{proposal.pk}/decline",
        {"version": 1, "reason": "Evenings are when I'm most tired; could we try mornings?"},
    )
    assert declined.status_code == 200
    assert declined.json()["status"] == "declined"
    assert declined.json()["response"].startswith("Evenings")

    other = propose(people.alex, PHONES, section="digital")
    withdrawn = _post(alex, f"{API}/proposals/{other.pk}/withdraw")
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    # Answering what is no longer open names the proposal.
    late = _post(sam, f"{API}/proposals/{other.pk}/accept", {"version": 2})
    assert late.status_code == 422 and _locs(late) == [["body", "proposal"]]


def test_a_review_can_be_called_kept_and_closed(people, api_for):
    text = agree(people.alex, people.sam, MEETINGS)
    alex, sam = api_for(people.alex), api_for(people.sam)
    url = f"{API}/agreements/{_agreement(people.alex).pk}/review"
    called = _post(sam, url, {"action": "call"}).json()
    assert called["open"] is True and called["called_by"]["display_name"] == "Sam"
    assert alex.get(f"{API}/agreement").json()["review_open"] is True
    kept = _post(alex, url, {"action": "keep", "clause_id": str(text.clause_id)}).json()
    assert kept["kept_by"] == {str(text.clause_id): [str(people.alex.pk)]}
    missing = _post(alex, url, {"action": "keep", "clause_id": "not-a-clause"})
    assert missing.status_code == 422 and _locs(missing) == [["body", "clause_id"]]
    closed = _post(alex, url, {"action": "close"}).json()
    assert closed["open"] is False and closed["closed_at"] is not None
    assert alex.get(f"{API}/agreement").json()["review_open"] is False


def test_a_clause_past_its_review_date_is_due_and_stays_in_force(people, api_for):
    text = agree(people.alex, people.sam, MEETINGS)
    text.clause.review_on = timezone.now().date() - timedelta(days=1)
    text.clause.save(update_fields=["review_on"])
    doc = api_for(people.sam).get(f"{API}/agreement").json()
    assert doc["due_for_review"] == 1
    assert [(c["text"], c["due"]) for c in doc["clauses"]] == [(MEETINGS, True)]


# --- strict input ----------------------------------------------------------------------------


def test_unknown_fields_are_refused_naming_them(people, api_for):
    alex = api_for(people.alex)
    response = _post(
        alex,
        f"{API}/agreements/{_agreement(people.alex).pk}/proposals",
        {"kind": "add", "base_version": 0, "section": "ok", "text": CHECKIN, "status": "accepted"},
    )
    assert response.status_code == 422
    assert ["body", "status"] in _locs(response)
    assert not AgreementProposal.objects.exists()

    proposal = propose(people.sam, PHONES, section="digital")
    sneaky = _post(alex, f"{API}/proposals/{proposal.pk}/accept", {"version": 1, "author": "x"})
    assert sneaky.status_code == 422 and ["body", "author"] in _locs(sneaky)
    assert _agreement(people.alex).version == 0


@pytest.mark.parametrize("review_on", ["2020-01-01", "next spring", "9999-12-31"])
def test_a_bad_review_date_is_refused_naming_it(people, api_for, review_on):
    response = _post(
        api_for(people.alex),
        f"{API}/agreements/{_agreement(people.alex).pk}/proposals",
        {
            "kind": "add",
            "base_version": 0,
            "section": "ok",
            "text": CHECKIN,
            "review_on": review_on,
        },
    )
    assert response.status_code == 422
    assert ["body", "review_on"] in _locs(response)
    assert not AgreementProposal.objects.exists()


def test_unknown_versions_are_refused_naming_the_parameter(people, api_for):
    agree(people.alex, people.sam, MEETINGS)
    alex = api_for(people.alex)
    agreement_id = _agreement(people.alex).pk
    assert _locs(alex.get(f"{API}/agreements/{agreement_id}", {"version": 5})) == [
        ["query", "version"]
    ]
    assert _locs(alex.get(f"{API}/agreements/{agreement_id}/diff", {"a": 7, "b": 1})) == [
        ["query", "a"]
    ]
    assert _locs(alex.get(f"{API}/agreements/{agreement_id}/diff", {"a": 0, "b": -1})) == [
        ["query", "b"]
    ]


# --- who sees what ---------------------------------------------------------------------------


def _consent_to(people, entry_type: str) -> None:
    consent = Consent.objects.get(grantor=people.alex, therapist=people.lee)
    ConsentScope.objects.create(consent=consent, entry_type=entry_type)


def test_a_therapist_without_consent_sees_no_proposal_or_wording(people, api_for):
    text = agree(people.alex, people.sam, MEETINGS)
    proposal = propose(people.sam, CHECKIN, section="ok")
    for therapist in (people.lee, people.noor):  # Dr. Lee's consent covers the journal only
        client = api_for(therapist)
        for url in (f"{API}/proposals/{proposal.pk}", f"{API}/clauses/{text.pk}"):
            response = client.get(url)
            assert response.status_code == 404
            assert response.json() == {"detail": "Not found"}
        assert client.get(f"{API}/proposals").json() == []
        assert client.get(f"{API}/clauses", {"all": "true"}).json() == []
        assert client.get(f"{API}/agreement").status_code == 404
        agreement = f"{API}/agreements/{text.clause.agreement_id}"
        assert client.get(agreement).status_code == 404


def test_a_therapist_with_consent_reads_only_the_consenting_partners_wording(people, api_for):
    alex_text = agree(people.alex, people.sam, MEETINGS)
    sam_text = agree(people.sam, people.alex, CHECKIN, section="ok")
    _consent_to(people, "agreement_clause")
    lee = api_for(people.lee)

    listed = lee.get(f"{API}/clauses").json()
    assert [c["id"] for c in listed] == [str(alex_text.pk)]
    assert listed[0]["text"] == MEETINGS and listed[0]["in_force"] is True
    # Listing counts as reading: the author can see that their therapist read it.
    assert AuditEvent.objects.filter(
        owner=people.alex,
        actor=people.lee,
        action=AuditEvent.Action.READ,
        entry_id=alex_text.pk,
        channel="api",
    ).exists()
    assert lee.get(f"{API}/clauses/{alex_text.pk}").status_code == 200
    assert lee.get(f"{API}/clauses/{sam_text.pk}").status_code == 404
    # Consent to wordings is not consent to proposals, and a therapist never answers one.
    proposal = propose(people.alex, PHONES, section="digital")
    assert lee.get(f"{API}/proposals/{proposal.pk}").status_code == 404
    _consent_to(people, "agreement_proposal")
    assert lee.get(f"{API}/proposals/{proposal.pk}").status_code == 200
    assert _post(lee, f"{API}/proposals/{proposal.pk}/accept", {"version": 1}).status_code == 404
    assert _agreement(people.alex).version == 2


def test_a_wording_shared_with_the_partner_only_stays_from_the_therapist(people, api_for):
    text = agree(people.alex, people.sam, MEETINGS, audience="partner")
    _consent_to(people, "agreement_clause")
    assert api_for(people.lee).get(f"{API}/clauses/{text.pk}").status_code == 404
    assert api_for(people.sam).get(f"{API}/clauses/{text.pk}").status_code == 200


def test_another_couple_gets_404_on_everything_of_alex_and_sam(people, api_for):
    text = agree(people.alex, people.sam, MEETINGS)
    proposal = propose(people.sam, CHECKIN, section="ok")
    agreement = _agreement(people.alex)
    casey = api_for(people.casey)
    gets = [
        f"{API}/agreements/{agreement.pk}",
        f"{API}/agreements/{agreement.pk}/versions",
        f"{API}/agreements/{agreement.pk}/diff",
        f"{API}/proposals/{proposal.pk}",
        f"{API}/clauses/{text.pk}",
    ]
    posts = [
        (
            f"{API}/agreements/{agreement.pk}/proposals",
            {"kind": "add", "base_version": 1, "section": "ok", "text": "Ours now."},
        ),
        (f"{API}/agreements/{agreement.pk}/review", {"action": "call"}),
        (f"{API}/proposals/{proposal.pk}/accept", {"version": 1}),
        (f"{API}/proposals/{proposal.pk}/decline", {"version": 1}),
        (f"{API}/proposals/{proposal.pk}/counter", {"version": 1, "text": "Ours now."}),
        (f"{API}/proposals/{proposal.pk}/withdraw", {}),
    ]
    for url in gets:
        response = casey.get(url)
        assert (url, response.status_code, response.json()) == (url, 404, {"detail": "Not found"})
    for url, body in posts:
        response = _post(casey, url, body)
        assert (url, response.status_code, response.json()) == (url, 404, {"detail": "Not found"})
    revise = _put(casey, f"{API}/proposals/{proposal.pk}", {"version": 1, "base_version": 1})
    assert revise.status_code == 404
    # Casey's own agreement is a different one, and the lists show nothing of Alex and Sam.
    assert casey.get(f"{API}/agreement").json()["id"] != str(agreement.pk)
    assert casey.get(f"{API}/proposals").json() == []
    assert casey.get(f"{API}/clauses", {"all": "true"}).json() == []
    proposal.refresh_from_db()
    agreement.refresh_from_db()
    assert (proposal.status, agreement.version) == ("open", 1)
    assert not AgreementProposal.objects.filter(author=people.casey).exists()


def test_anonymous_gets_401(people):
    proposal = propose(people.alex, MEETINGS)
    assert Client().get(f"{API}/agreement").status_code == 401
    assert Client().get(f"{API}/proposals/{proposal.pk}").status_code == 401


# --- lists stay flat -------------------------------------------------------------------------


def _queries(client: Client, url: str, query: dict) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url, query).status_code == 200
    return len(ctx.captured_queries)


def test_lists_run_the_same_number_of_queries_however_many_rows(people, api_for):
    _consent_to(people, "agreement_clause")
    _consent_to(people, "agreement_proposal")
    sam, lee = api_for(people.sam), api_for(people.lee)
    agree(people.alex, people.sam, MEETINGS)
    propose(people.alex, CHECKIN, section="ok")
    reads = [
        (sam, f"{API}/proposals", {}),
        (sam, f"{API}/clauses", {"all": "true"}),
        (lee, f"{API}/clauses", {}),
        (sam, f"{API}/agreement", {}),
    ]
    for client, url, query in reads:  # the first use of a token records when it was used
        client.get(url, query)
    before = [_queries(client, url, query) for client, url, query in reads]
    for n in range(4):
        agree(people.alex, people.sam, f"{PHONES} ({n})", section="digital")
        propose(people.alex, f"{CHECKIN} ({n})", section="ok")
    after = [_queries(client, url, query) for client, url, query in reads]
    assert before == after
    assert len(sam.get(f"{API}/clauses").json()) == 5


# --- the OpenAPI document --------------------------------------------------------------------

OPERATIONS = {
    ("get", "/api/agreements/agreement"),
    ("get", "/api/agreements/agreements/{agreement_id}"),
    ("get", "/api/agreements/agreements/{agreement_id}/versions"),
    ("get", "/api/agreements/agreements/{agreement_id}/diff"),
    ("post", "/api/agreements/agreements/{agreement_id}/proposals"),
    ("post", "/api/agreements/agreements/{agreement_id}/review"),
    ("get", "/api/agreements/proposals"),
    ("get", "/api/agreements/proposals/{proposal_id}"),
    ("put", "/api/agreements/proposals/{proposal_id}"),
    ("post", "/api/agreements/proposals/{proposal_id}/accept"),
    ("post", "/api/agreements/proposals/{proposal_id}/decline"),
    ("post", "/api/agreements/proposals/{proposal_id}/counter"),
    ("post", "/api/agreements/proposals/{proposal_id}/withdraw"),
    ("get", "/api/agreements/clauses"),
    ("get", "/api/agreements/clauses/{clause_text_id}"),
}


def test_the_openapi_document_tags_every_agreement_operation(db):
    doc = Client().get("/api/openapi.json", secure=True).json()
    ops = {
        (method, path): op
        for path, methods in doc["paths"].items()
        if path.startswith("/api/agreements/")
        for method, op in methods.items()
    }
    assert set(ops) == OPERATIONS
    for (method, path), op in ops.items():
        where = f"{method} {path}"
        assert op["tags"] == ["agreements"], where
        assert {"401", "422"} <= set(op["responses"]), where
        if "{" in path:
            assert "404" in op["responses"], where
            assert op["x-sharing"]["op"] in {"couple", "read", "respond", "author"}, where
        if op.get("x-sharing", {}).get("op") in {"respond", "author"}:
            assert "409" in op["responses"], where


# --- the demo --------------------------------------------------------------------------------


def test_the_demo_agreement_has_a_real_history(db, api_for):
    from trellis.demo.seed import seed_demo

    demo = seed_demo(days=2)
    alex = api_for(demo.alex)
    doc = alex.get(f"{API}/agreement").json()
    assert doc["version"] >= 6
    sections = {c["section"] for c in doc["clauses"]}
    assert len(doc["clauses"]) >= 5 and len(sections) >= 4
    assert all(c["text"] for c in doc["clauses"])
    assert doc["due_for_review"] == 1 and [c["due"] for c in doc["clauses"]].count(True) == 1
    [waiting] = doc["open_proposals"]
    assert waiting["author"]["display_name"] == "Sam" and not waiting["stale"]

    proposals = alex.get(f"{API}/proposals").json()
    statuses = [p["status"] for p in proposals]
    assert statuses.count("countered") == 1 and statuses.count("declined") == 1
    [declined] = [p for p in proposals if p["status"] == "declined"]
    assert declined["response"]
    [counter] = [p for p in proposals if p["counter_to"]]
    assert counter["status"] == "accepted"

    versions = alex.get(f"{API}/agreements/{doc['id']}/versions").json()
    kinds = {v["number"]: v["kind"] for v in versions}
    assert "retire" in kinds.values()
    changed = next(n for n, kind in kinds.items() if kind == "change")
    compared = alex.get(f"{API}/agreements/{doc['id']}/diff", {"a": changed - 1, "b": changed})
    assert [c["op"] for c in compared.json()].count("changed") == 1
    # Dated over the past weeks, not all at the moment of seeding.
    dates = {v["created_at"][:10] for v in versions}
    assert len(dates) == len(versions)
