"""S1: the authorization matrix, generated from what the code registers (see matrix.py)."""

from __future__ import annotations

import copy
import uuid

import pytest
from django.db.models import Q
from django.http import HttpResponse
from django.urls import URLResolver, get_resolver, path
from django.urls.resolvers import RegexPattern

from tests.security.entries import LISTED_THROUGH
from tests.security.matrix import (
    discover_api,
    discover_pages,
    openapi_doc,
    run_matrix,
    walk_urls,
)
from trellis.journal.models import JournalEntry
from trellis.meetings.models import Meeting, MeetingAnswer
from trellis.recovery.models import RecoveryTrack
from trellis.sharing import policy
from trellis.sharing.registry import entry_types
from trellis.sharing.views_meta import entry_view

# Cells the matrix must reach at least: with twelve entry types (homework done among them) and
# the therapist workspace's objects it checks about 21,750; with eleven entry types (the four
# of recovery among them, plans in five rounds), the weekly meeting and the agreement, 18,250
# (seven types gave ~13,200; five types and the meeting ~9,900; one entry type alone ~2,900).
# A drop means discovery silently lost a surface.
CELL_FLOOR = 21000


def test_discovery_sees_every_entry_surface():
    pages = discover_pages(walk_urls())
    apis = discover_api(openapi_doc(), pages.api_id_paths)
    assert pages.problems == []
    assert apis.problems == []
    labels = {et.label for et in entry_types()}
    assert labels, "no entry type is registered"
    for et in entry_types():
        # Every registered type has a detail page and a read in the API, both in the matrix.
        assert any(m is et.model and op == "read" for _, m, op in pages.entry_pages)
        assert any(o.entry_type == et.label and o.op == "read" for o in apis.entry_ops)
        # ...and a list in the API: its own, or the couple object's pages that show it (a
        # meeting's answers and notes are read on the meeting).
        through = LISTED_THROUGH.get(et.label)
        if through is None:
            assert any(o.entry_type == et.label and o.op == "list" for o in apis.collection_ops)
        else:
            assert any(o.entry_type == through and o.method == "get" for o in apis.couple_ops)
    ops = {(r.name, op) for r, _, op in pages.entry_pages}
    assert ("journal:detail", "read") in ops
    assert ("journal:edit", "author") in ops
    assert ("checkins:trust_acknowledge", "respond") in ops
    assert ("meetings:note_confirm", "respond") in ops
    assert {
        ("agreements:proposal", "read"),
        ("agreements:proposal_respond", "respond"),
        ("agreements:proposal_counter", "respond"),
        ("agreements:proposal_withdraw", "author"),
        ("agreements:proposal_revise", "author"),
        ("agreements:clause_text", "read"),
    } <= ops
    # Recovery: logging a lapse is a change to the track (it takes the track's id); answering
    # "I'm struggling" is a response.
    assert {
        ("recovery:track", "read"),
        ("recovery:track_edit", "author"),
        ("recovery:track_end", "author"),
        ("recovery:track_audience", "author"),
        ("recovery:lapse_new", "author"),
        ("recovery:lapse", "read"),
        ("recovery:lapse_audience", "author"),
        ("recovery:plan", "read"),
        ("recovery:message", "read"),
        ("recovery:message_reply", "respond"),
    } <= ops
    assert {("recovery:lapse_new", RecoveryTrack)} <= {(r.name, m) for r, m, _ in pages.entry_pages}
    assert {r.name for r, _, _ in pages.collection_pages} >= {
        "journal:list",
        "journal:search",
        "checkins:history",
        "checkins:trust",
        "recovery:home",
    }
    assert {(r.name, label) for r, label, _ in pages.couple_pages} >= {
        ("meetings:detail", "meeting"),
        ("meetings:answer_save", "meeting"),
        ("meetings:note_add", "meeting"),
        ("meetings:close", "meeting"),
        ("agreements:detail", "agreement"),
        ("agreements:propose", "agreement"),
        ("agreements:history", "agreement"),
        ("agreements:compare", "agreement"),
        ("agreements:print", "agreement"),
        ("agreements:review", "agreement"),
    }
    # The agreement's own page without an id is a plain page (crawled), not an entry surface.
    assert "agreements:home" in {r.name for r in pages.plain_pages}
    # So are the plan editor and "I'm struggling" (each person's own), and the recovery home.
    assert {"recovery:plan_edit", "recovery:struggling", "recovery:home"} <= {
        r.name for r in pages.plain_pages
    }
    methods = {(o.method, o.path) for o in apis.entry_ops}
    assert ("delete", "/api/journal/entries/{entry_id}") in methods
    assert ("post", "/api/checkins/trust/{moment_id}/acknowledge") in methods
    assert {
        ("post", "/api/agreements/proposals/{proposal_id}/accept"),
        ("post", "/api/agreements/proposals/{proposal_id}/decline"),
        ("post", "/api/agreements/proposals/{proposal_id}/counter"),
        ("post", "/api/agreements/proposals/{proposal_id}/withdraw"),
        ("put", "/api/agreements/proposals/{proposal_id}"),
        ("get", "/api/agreements/clauses/{clause_text_id}"),
    } <= methods
    assert {
        ("get", "/api/recovery/tracks/{track_id}"),
        ("patch", "/api/recovery/tracks/{track_id}"),
        ("put", "/api/recovery/tracks/{track_id}/audience"),
        ("post", "/api/recovery/tracks/{track_id}/end"),
        ("post", "/api/recovery/tracks/{track_id}/lapses"),
        ("get", "/api/recovery/lapses/{lapse_id}"),
        ("put", "/api/recovery/lapses/{lapse_id}/audience"),
        ("get", "/api/recovery/plans/{plan_id}"),
        ("get", "/api/recovery/messages/{message_id}"),
        ("post", "/api/recovery/messages/{message_id}/reply"),
    } <= methods
    assert {(o.entry_type, o.path) for o in apis.collection_ops} >= {
        ("agreement_proposal", "/api/agreements/proposals"),
        ("agreement_clause", "/api/agreements/clauses"),
        ("recovery_track", "/api/recovery/tracks"),
        ("recovery_lapse", "/api/recovery/lapses"),
        ("recovery_plan", "/api/recovery/plans"),
        ("support_message", "/api/recovery/messages"),
    }
    # The plan editor and "I'm struggling" over the API are the person's own (no id).
    assert {"/api/recovery/plan"} <= set(apis.plain_gets)
    couple_methods = {(o.method, o.path) for o in apis.couple_ops}
    assert ("get", "/api/meetings/meetings/{meeting_id}") in couple_methods
    assert ("put", "/api/meetings/meetings/{meeting_id}/answer") in couple_methods
    assert {
        ("get", "/api/agreements/agreements/{agreement_id}"),
        ("get", "/api/agreements/agreements/{agreement_id}/versions"),
        ("get", "/api/agreements/agreements/{agreement_id}/diff"),
        ("post", "/api/agreements/agreements/{agreement_id}/proposals"),
        ("post", "/api/agreements/agreements/{agreement_id}/review"),
    } <= couple_methods


def test_a_couple_tag_for_an_unknown_model_fails_discovery():
    """A page tagged "couple" for a model the matrix cannot make fails, as an untagged one does."""
    odd = entry_view(JournalEntry, "couple")(lambda request, pk: HttpResponse("ok"))
    resolver = URLResolver(
        RegexPattern(r"^/"),
        [path("odd/<uuid:pk>/", odd, name="odd"), *get_resolver().url_patterns],
    )
    problems = discover_pages(walk_urls(resolver)).problems
    assert any("odd/<uuid:pk>/" in p for p in problems), problems
    doc = copy.deepcopy(openapi_doc())
    doc["paths"]["/api/meetings/meetings/{meeting_id}"]["get"]["x-sharing"]["entry_type"] = "mtg"
    problems = discover_api(doc).problems
    assert any("GET /api/meetings/meetings/{meeting_id}" in p for p in problems), problems


def _view(request, pk):
    return HttpResponse("hello")


def test_an_untagged_entry_url_fails_discovery():
    """A new view taking an entry id, forgotten by the matrix, must fail the test."""
    tagged = entry_view(JournalEntry, "read")(lambda request, pk: HttpResponse("ok"))
    resolver = URLResolver(
        RegexPattern(r"^/"),
        [
            path("new/<uuid:pk>/", _view, name="forgotten"),
            path("ok/<uuid:pk>/", tagged, name="tagged"),
            path("old/<str:entry_id>/", _view, name="by_name"),
            *get_resolver().url_patterns,
        ],
    )
    problems = discover_pages(walk_urls(resolver)).problems
    assert any("new/<uuid:pk>/" in p for p in problems), problems
    assert any("old/<str:entry_id>/" in p for p in problems), problems
    assert not any("ok/<uuid:pk>/" in p for p in problems), problems


def test_an_api_operation_without_x_sharing_fails_discovery():
    doc = copy.deepcopy(openapi_doc())
    op = doc["paths"]["/api/journal/entries/{entry_id}"]["get"]
    del op["x-sharing"]
    problems = discover_api(doc).problems
    assert any("GET /api/journal/entries/{entry_id}" in p for p in problems), problems
    # A route served by the API but hidden from the document fails too.
    problems = discover_api(openapi_doc(), {"/api/journal/hidden/{entry_id}"}).problems
    assert any("/api/journal/hidden/{entry_id}" in p for p in problems), problems


def test_authorization_matrix(people, capsys):
    report = run_matrix(people)
    with capsys.disabled():
        print(f"\n[S1 matrix] {report.summary()}")
        kinds = {}
        for op, n in report.per_op.items():
            kinds[op.split(" ")[0]] = kinds.get(op.split(" ")[0], 0) + n
        print(f"[S1 matrix] cells by channel: {dict(sorted(kinds.items()))}")
    assert report.cells > CELL_FLOOR, report.summary()
    assert report.unexpected_allows == [], report.summary()
    assert report.unexpected_denies == [], report.summary()
    assert report.denial_shape == [], report.summary()
    assert report.errors == [], report.summary()
    assert report.audit == [], report.summary()
    assert report.allowed_non_author_reads > 0


def test_matrix_catches_a_planted_leak(people, monkeypatch, capsys):
    """Prove the matrix can fail: a one-line mutant letting a partner see "only me" entries."""
    from trellis.couples.models import Membership

    original = policy._visible_q

    def leaky(viewer, label, gate=None):
        mine = Membership.objects.filter(user_id=viewer.pk, left_at__isnull=True)
        return original(viewer, label, gate) | Q(
            audience="me", couple_id__in=mine.values("couple_id")
        )

    monkeypatch.setattr(policy, "_visible_q", leaky)
    report = run_matrix(
        people, only_actors={"author", "partner"}, couple_objects=False, clinic_objects=False
    )
    with capsys.disabled():
        print(f"\n[S1 planted mutant] {report.summary()}")
    leaks = report.unexpected_allows
    assert len(leaks) > 0
    # It is exactly the partner reading the other's "only me" entries, everywhere they can read.
    assert {(m.actor, *m.entry.split("/")[1:3]) for m in leaks} == {
        ("author", "sam", "me"),
        ("partner", "alex", "me"),
    }
    # ...of every entry type, on every channel that reads: detail page, fragment, API, lists,
    # searches, the meeting page and the meeting API, and by responding to them.
    assert {m.entry.split("/")[0] for m in leaks} == {et.label for et in entry_types()}
    channels = {m.op for m in leaks}
    assert {"page GET journal:detail", "page GET journal:card"} <= channels, channels
    assert {"API get /api/journal/entries/{entry_id}", "API search GET /api/journal/entries"} <= (
        channels
    )
    assert {
        "page GET checkins:detail",
        "page list checkins:history",
        "API list GET /api/checkins/checkins",
        "page list checkins:trust",
        "page POST checkins:trust_acknowledge",
        "API post /api/checkins/trust/{moment_id}/acknowledge",
        "page GET meetings:answer",
        "API get /api/meetings/answers/{answer_id}",
        "meeting API /api/meetings/meetings/{meeting_id}",
        "meeting page meetings:detail",
        "page POST meetings:note_confirm",
        "page GET agreements:proposal",
        "page POST agreements:proposal_respond",
        "page GET agreements:proposal_counter",
        "API get /api/agreements/proposals/{proposal_id}",
        "API post /api/agreements/proposals/{proposal_id}/accept",
        "API list GET /api/agreements/proposals",
        "page GET agreements:clause_text",
        "API get /api/agreements/clauses/{clause_text_id}",
        "API list GET /api/agreements/clauses",
        "page GET recovery:track",
        "page list recovery:home",
        "API list GET /api/recovery/tracks",
        "page GET recovery:lapse",
        "API get /api/recovery/lapses/{lapse_id}",
        "page GET recovery:plan",
        "API list GET /api/recovery/plans",
        "page GET recovery:message",
        "page POST recovery:message_reply",
        "API post /api/recovery/messages/{message_id}/reply",
        "API list GET /api/recovery/messages",
    } <= channels, channels
    assert report.audit, "the leaked reads were recorded as disclosures and must be flagged"
    assert report.unexpected_denies == []


def test_matrix_catches_a_therapist_without_consent(people, monkeypatch, capsys):
    """A second mutant: every linked therapist reads "partner and our therapist" entries."""
    from trellis.couples.models import TherapistLink

    original = policy._visible_q

    def leaky(viewer, label, gate=None):
        linked = TherapistLink.objects.filter(therapist_id=viewer.pk, ended_at__isnull=True)
        return original(viewer, label, gate) | Q(
            audience="partner_therapist", couple_id__in=linked.values("couple_id")
        )

    monkeypatch.setattr(policy, "_visible_q", leaky)
    therapists = {"therapist_with_consent", "therapist_without_consent", "other_therapist"}
    report = run_matrix(
        people,
        only_actors=therapists | {"other_couple_member"},
        only_labels={"journal", "checkin"},
        couple_objects=False,
        clinic_objects=False,
    )
    with capsys.disabled():
        print(f"\n[S1 therapist mutant, therapists only] {report.summary()}")
    leaked_to = {m.actor for m in report.unexpected_allows}
    assert "therapist_without_consent" in leaked_to
    assert "other_couple_member" not in leaked_to


def test_matrix_catches_a_dropped_reveal_gate(people, monkeypatch, capsys):
    """A third mutant: the meeting answers' gate is gone, so a partner (and a consented
    therapist) reads an answer before both have submitted. Only "nobody goes first" catches it:
    every leak is an answer still being answered, read by someone who may read it afterwards."""
    monkeypatch.setattr(MeetingAnswer, "sharing_gate", classmethod(lambda cls: None))
    report = run_matrix(
        people,
        only_actors={"author", "partner", "therapist_with_consent", "other_couple_member"},
        only_labels={"meeting_answer"},
        couple_objects=False,
        clinic_objects=False,
    )
    with capsys.disabled():
        print(f"\n[S1 reveal-gate mutant] {report.summary()}")
    leaks = report.unexpected_allows
    assert len(leaks) > 0
    assert all(
        m.entry.startswith("meeting_answer/") and m.entry.endswith("/answering") for m in leaks
    ), {m.entry for m in leaks}
    assert {(m.actor, m.entry) for m in leaks} >= {
        ("partner", "meeting_answer/alex/partner/answering"),
        ("partner", "meeting_answer/alex/partner_therapist/answering"),
        ("author", "meeting_answer/sam/partner/answering"),
        ("therapist_with_consent", "meeting_answer/alex/partner_therapist/answering"),
    }
    assert "other_couple_member" not in {m.actor for m in leaks}
    channels = {m.op for m in leaks}
    assert {
        "page GET meetings:answer",
        "API get /api/meetings/answers/{answer_id}",
        "meeting API /api/meetings/meetings/{meeting_id}",
    } <= channels, channels
    assert report.audit, "the early reads were recorded as disclosures and must be flagged"
    assert report.unexpected_denies == []
    assert Meeting.objects.filter(revealed_at__isnull=True).exists()


def test_matrix_catches_a_non_member_answering_a_proposal(people, monkeypatch, capsys):
    """A fourth mutant: the agreement services forget to ask whether the person is a member of
    the couple (two-party consent rests on it). A therapist who may read a proposal could then
    accept, decline or answer it: every leak is such an answer, and nothing else moves."""
    from trellis.agreements import services

    monkeypatch.setattr(services, "_is_member", lambda user, couple_id: True)
    report = run_matrix(
        people,
        only_actors={"partner", "therapist_with_consent", "other_therapist", "other_couple_member"},
        only_labels={"agreement_proposal"},
        couple_objects=False,
        clinic_objects=False,
    )
    with capsys.disabled():
        print(f"\n[S1 non-member mutant] {report.summary()}")
    leaks = report.unexpected_allows
    assert {(m.actor, m.entry) for m in leaks} >= {
        ("therapist_with_consent", "agreement_proposal/alex/partner_therapist"),
        ("other_therapist", "agreement_proposal/casey/partner_therapist"),
    }
    assert {m.actor for m in leaks} == {"therapist_with_consent", "other_therapist"}
    assert {m.op for m in leaks} >= {
        "page POST agreements:proposal_respond",
        "API post /api/agreements/proposals/{proposal_id}/accept",
        "API post /api/agreements/proposals/{proposal_id}/decline",
        "API post /api/agreements/proposals/{proposal_id}/counter",
    }
    assert report.unexpected_denies == []


def test_matrix_catches_an_agreement_open_to_everyone(people, monkeypatch, capsys):
    """A fifth mutant: "the agreements of my couples" returns every agreement. Its pages and
    API then answer anyone who knows the id (another couple, a therapist, a former partner),
    and Alex may again withdraw and revise what he proposed in his old couple."""
    from trellis.agreements import selectors
    from trellis.agreements.models import Agreement

    monkeypatch.setattr(selectors, "agreements_for_member", lambda user: Agreement.objects.all())
    report = run_matrix(
        people,
        only_actors={"author", "former_partner", "therapist_with_consent", "other_couple_member"},
        only_labels={"agreement_proposal"},
    )
    with capsys.disabled():
        print(f"\n[S1 open-agreement mutant] {report.summary()}")
    leaks = report.unexpected_allows
    opened = {m.entry for m in leaks if m.entry.startswith("agreement/")}
    assert {"agreement/alex/agreed", "agreement/other/agreed", "agreement/old/agreed"} <= opened
    assert {m.op for m in leaks if m.entry == "agreement/alex/agreed"} >= {
        "page GET agreements:detail",
        "page GET agreements:history",
        "API get /api/agreements/agreements/{agreement_id}/versions",
    }
    assert ("author", "agreement_proposal/alex/partner/old-couple") in {
        (m.actor, m.entry) for m in leaks
    }
    assert not {m.entry for m in leaks if m.entry.startswith("meeting/")}
    assert report.unexpected_denies == []


def test_matrix_catches_agreement_pages_showing_hidden_wordings(people, monkeypatch, capsys):
    """A sixth mutant: the agreement's selectors read wordings without the policy. Its pages
    are open to the right people, so only the check that a couple object's pages never show an
    entry the actor may not read catches it: Sam sees Alex's "only me" and "my therapist only"
    wordings on every page and API answer that shows the document."""
    from trellis.agreements import selectors

    monkeypatch.setattr(selectors, "visible_to", lambda reader, model: model.objects.all())
    report = run_matrix(people, only_actors={"partner"}, only_labels={"agreement_clause"})
    with capsys.disabled():
        print(f"\n[S1 unfiltered-wordings mutant] {report.summary()}")
    leaks = report.unexpected_allows
    assert {m.entry for m in leaks} == {
        "agreement_clause/alex/me",
        "agreement_clause/alex/therapist",
    }
    assert {m.op for m in leaks} >= {
        f"{op} of agreement/alex/agreed"
        for op in (
            "page GET agreements:detail",
            "page GET agreements:print",
            "page GET agreements:review",
            # Not agreements:compare: it shows only clauses whose wording differs between the
            # two versions, and the matrix's agreement has the same wordings in both.
            "API get /api/agreements/agreements/{agreement_id}",
            "API get /api/agreements/agreements/{agreement_id}/diff",
        )
    }
    assert report.unexpected_denies == []


def test_matrix_checks_every_audience_of_a_one_per_person_type(people, monkeypatch, capsys):
    """A person has one relapse-prevention plan, so the matrix checks a plan's audiences in
    rounds (matrix.entry_rounds). A mutant letting a partner read "my therapist only" entries
    is caught on plans too: on Alex's, made in the fourth round, and on no other."""
    from trellis.couples.models import Membership

    original = policy._visible_q

    def leaky(viewer, label, gate=None):
        mine = Membership.objects.filter(user_id=viewer.pk, left_at__isnull=True)
        return original(viewer, label, gate) | Q(
            audience="therapist", couple_id__in=mine.values("couple_id")
        )

    monkeypatch.setattr(policy, "_visible_q", leaky)
    report = run_matrix(
        people, only_actors={"partner"}, only_labels={"recovery_plan"}, couple_objects=False
    )
    with capsys.disabled():
        print(f"\n[S1 plan-rounds mutant] {report.summary()}")
    # Four audiences of three authors, and Alex's in his old couple space: every one was made.
    assert report.entries == 13
    leaks = report.unexpected_allows
    assert {m.entry for m in leaks} == {"recovery_plan/alex/therapist"}
    assert {m.op for m in leaks} >= {
        "page GET recovery:plan",
        "API get /api/recovery/plans/{plan_id}",
        "API list GET /api/recovery/plans",
    }
    assert report.audit, "the leaked reads were recorded as disclosures and must be flagged"
    assert report.unexpected_denies == []


@pytest.mark.parametrize("random_id", [uuid.uuid4()])
def test_denied_and_missing_look_the_same(people, client_for, random_id):
    """R4 spot check outside the generated run: Casey asks for Alex's entry and for nothing."""
    from trellis.journal.services import journal_entry_create

    entry, _ = journal_entry_create(author=people.alex, body="Only for Sam.", audience="partner")
    casey = client_for(people.casey)
    for url in ("/journal/{}/", "/journal/{}/card/", "/api/journal/entries/{}"):
        denied = casey.get(url.format(entry.pk))
        missing = casey.get(url.format(random_id))
        assert denied.status_code == missing.status_code == 404
        assert denied.content == missing.content
        assert b"Only for Sam" not in denied.content


def test_matrix_catches_a_therapist_opening_another_therapists_couple(people, monkeypatch, capsys):
    """A clinic mutant: the lookup of a therapist's link forgets whose link it is, so any
    therapist opens any couple's workspace page. The clinic objects' part of the matrix catches
    it on the pages and the API, for the other therapists only."""
    from trellis.clinic import selectors
    from trellis.couples.models import TherapistLink

    def careless(therapist, link_id, *, active=True):
        if getattr(therapist, "role", "") != "therapist":
            return None
        qs = TherapistLink.objects.select_related("couple").filter(pk=link_id)
        return (qs.filter(ended_at__isnull=True) if active else qs).first()

    monkeypatch.setattr(selectors, "therapist_link", careless)
    report = run_matrix(
        people,
        only_actors={"therapist_with_consent", "other_therapist", "partner"},
        only_labels={"journal"},
        couple_objects=False,
    )
    with capsys.disabled():
        print(f"\n[S1 clinic mutant] {report.summary()}")
    leaks = report.unexpected_allows
    assert leaks, "a therapist opening another therapist's couple must be caught"
    assert {m.actor for m in leaks} <= {"therapist_with_consent", "other_therapist"}
    assert any(m.op == "page GET clinic:notes" for m in leaks), {m.op for m in leaks}
    assert any(m.op.startswith("API get /api/clinic/caseload/") for m in leaks)
