"""The recovery API (SPEC C7): tracks and their counts, lapses, the relapse-prevention plan and
"I'm struggling", over HTTP. The same sharing rules as the pages (denied looks like missing),
strict input naming the field, stale versions refused with 409, lists at a flat query count."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from trellis.accounts.services import api_token_create
from trellis.couples.models import Consent, ConsentScope
from trellis.recovery import plan as plan_shape
from trellis.recovery import services
from trellis.recovery.models import Lapse, RecoveryPlan, RecoveryTrack, SupportMessage
from trellis.sharing.models import AuditEvent

API = "/api/recovery"
TODAY = date(2026, 5, 4)


@pytest.fixture(autouse=True)
def midday():
    """Noon, UTC (everyone's time zone here): no test crosses midnight while it runs."""
    with time_machine.travel(datetime(2026, 5, 4, 12, 0, tzinfo=UTC), tick=True):
        yield


@pytest.fixture
def api_for():
    """An API client authenticated with a fresh personal bearer token (no session, no CSRF)."""

    def make(user) -> Client:
        _, raw = api_token_create(user=user, name="tests")
        return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")

    return make


def _send(client: Client, method: str, url: str, data=None):
    body = data if isinstance(data, str) else json.dumps({} if data is None else data)
    return getattr(client, method)(url, body, content_type="application/json")


def _post(client, url, data=None):
    return _send(client, "post", url, data)


def _put(client, url, data):
    return _send(client, "put", url, data)


def _patch(client, url, data):
    return _send(client, "patch", url, data)


def _locs(response) -> list[list]:
    return [d["loc"] for d in response.json()["detail"]]


def _today() -> date:
    return TODAY


def _days_ago(n: int) -> str:
    return (_today() - timedelta(days=n)).isoformat()


TRACK = {"kind": "substance", "what": "Alcohol", "since": _days_ago(40), "audience": "partner"}


def _track(user, *, audience="partner", days_ago=40) -> RecoveryTrack:
    return services.track_add(
        user=user,
        kind="substance",
        what="Alcohol",
        since=_today() - timedelta(days=days_ago),
        audience=audience,
    )


def _consent_to(people, entry_type: str) -> None:
    consent = Consent.objects.get(grantor=people.alex, therapist=people.lee)
    ConsentScope.objects.create(consent=consent, entry_type=entry_type)


def _count(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, (url, response.content[:300])
    return len(ctx.captured_queries)


# --- tracks ----------------------------------------------------------------------------------


def test_a_track_is_created_and_shown_with_its_counts(people, api_for):
    alex = api_for(people.alex)
    response = _post(alex, f"{API}/tracks", {**TRACK, "goal": "No drinks at home."})
    assert response.status_code == 201
    data = response.json()
    track = RecoveryTrack.objects.get(pk=data["id"])
    assert (track.author, track.audience, track.goal) == (
        people.alex,
        "partner",
        "No drinks at home.",
    )
    assert data["is_mine"] is True and data["version"] == 1
    counts = data["counts"]
    assert (counts["current_run"], counts["recovery_days"], counts["longest_run"]) == (40, 40, 40)
    assert counts["lapses"] == 0 and counts["run_start"] == TRACK["since"]
    assert [m["key"] for m in counts["milestones"]] == ["1d", "7d", "30d"]
    assert counts["next_milestone"]["key"] == "60d"
    assert alex.get(f"{API}/tracks/{track.pk}").json() == data


def test_the_partner_sees_a_shared_track_and_nobody_else_does(people, api_for):
    shared = _track(people.alex)
    private = _track(people.alex, audience="me", days_ago=3)
    sam = api_for(people.sam)
    assert [t["id"] for t in sam.get(f"{API}/tracks").json()] == [str(shared.pk)]
    got = sam.get(f"{API}/tracks/{shared.pk}")
    assert got.status_code == 200 and got.json()["is_mine"] is False
    assert got.json()["counts"]["current_run"] == 40
    assert sam.get(f"{API}/tracks/{private.pk}").status_code == 404
    assert AuditEvent.objects.filter(
        actor=people.sam, entry_id=shared.pk, action="read", channel="api"
    ).exists()
    mine = [t["id"] for t in api_for(people.alex).get(f"{API}/tracks").json()]
    assert mine == [str(shared.pk), str(private.pk)]
    for outsider in (people.casey, people.pat, people.lee, people.noor, people.reyes):
        client = api_for(outsider)
        assert client.get(f"{API}/tracks").json() == [], outsider
        assert client.get(f"{API}/tracks/{shared.pk}").status_code == 404, outsider


def test_only_the_author_changes_a_track(people, api_for):
    track = _track(people.alex)
    for other in (people.sam, people.casey, people.lee):
        client = api_for(other)
        url = f"{API}/tracks/{track.pk}"
        assert _patch(client, url, {"version": 1, "goal": "Theirs"}).status_code == 404
        assert _put(client, f"{url}/audience", {"audience": "me"}).status_code == 404
        assert _post(client, f"{url}/end").status_code == 404
        assert _post(client, f"{url}/lapses", {"local_date": _days_ago(1)}).status_code == 404
    stored = RecoveryTrack.objects.get(pk=track.pk)
    assert (stored.goal, stored.audience, stored.ended_at, stored.version) == (
        "",
        "partner",
        None,
        1,
    )
    assert not Lapse.objects.exists()


def test_a_track_update_needs_the_current_version(people, api_for):
    track = _track(people.alex)
    alex = api_for(people.alex)
    url = f"{API}/tracks/{track.pk}"
    response = _patch(
        alex, url, {"version": 1, "goal_kind": "boundaries", "inner_circle": "Drinking alone"}
    )
    assert response.status_code == 200
    assert (response.json()["version"], response.json()["inner_circle"]) == (2, "Drinking alone")
    stale = _patch(alex, url, {"version": 1, "goal": "Lost"})
    assert stale.status_code == 409 and "changed" in stale.json()["detail"]
    assert RecoveryTrack.objects.get(pk=track.pk).goal == ""
    # What and since are the story so far: not changed here.
    refused = _patch(alex, url, {"version": 2, "since": _days_ago(1), "what": "Wine"})
    assert refused.status_code == 422
    assert sorted(_locs(refused)) == [["body", "since"], ["body", "what"]]


def test_the_audience_of_a_track_is_chosen_by_its_author(people, api_for):
    track = _track(people.alex)
    alex = api_for(people.alex)
    response = _put(alex, f"{API}/tracks/{track.pk}/audience", {"audience": "me"})
    assert response.status_code == 200 and response.json()["audience"] == "me"
    assert api_for(people.sam).get(f"{API}/tracks/{track.pk}").status_code == 404
    bad = _put(alex, f"{API}/tracks/{track.pk}/audience", {"audience": "therapist"})
    assert bad.status_code == 422 and _locs(bad) == [["body", "audience"]]


def test_an_ended_track_leaves_the_list_but_stays_readable(people, api_for):
    track = _track(people.alex)
    alex = api_for(people.alex)
    ended = _post(alex, f"{API}/tracks/{track.pk}/end")
    assert ended.status_code == 200 and ended.json()["ended_at"]
    assert ended.json()["counts"]["next_milestone"] is None
    assert alex.get(f"{API}/tracks").json() == []
    assert [t["id"] for t in alex.get(f"{API}/tracks", {"all": "true"}).json()] == [str(track.pk)]
    assert _post(alex, f"{API}/tracks/{track.pk}/end").status_code == 200
    late = _post(alex, f"{API}/tracks/{track.pk}/lapses", {"local_date": _days_ago(1)})
    assert late.status_code == 422 and _locs(late) == [["body", "track"]]


def test_creating_a_track_names_each_bad_field(people, api_for):
    alex = api_for(people.alex)
    future = _post(alex, f"{API}/tracks", {**TRACK, "since": _days_ago(-2)})
    assert future.status_code == 422 and _locs(future) == [["body", "since"]]
    typed = _post(alex, f"{API}/tracks", {**TRACK, "kind": "habit", "what": ""})
    assert typed.status_code == 422
    assert sorted(_locs(typed)) == [["body", "kind"], ["body", "what"]]
    blank = _post(alex, f"{API}/tracks", {**TRACK, "what": "   "})
    assert blank.status_code == 422 and _locs(blank) == [["body", "what"]]
    assert not RecoveryTrack.objects.exists()


# --- lapses ----------------------------------------------------------------------------------

LAPSE = {
    "what_led": "A long day, then a work party where everyone had a glass.",
    "what_helps": "Telling Sam tonight and going to the Thursday meeting.",
    "who_to_tell": "Sam, and my sponsor.",
    "impact": "Sam felt shut out when I went quiet afterwards.",
    "prevention": "Leave work parties after the first hour.",
}


def test_a_lapse_is_logged_and_counted(people, api_for):
    track = _track(people.alex)
    alex = api_for(people.alex)
    url = f"{API}/tracks/{track.pk}/lapses"
    response = _post(alex, url, {**LAPSE, "local_date": _days_ago(10), "audience": "partner"})
    assert response.status_code == 201
    lapse = response.json()
    assert lapse["track_id"] == str(track.pk) and lapse["what_led"] == LAPSE["what_led"]
    assert Lapse.objects.get(pk=lapse["id"]).author == people.alex
    # The same day sent again (a retry) is the same lapse.
    again = _post(
        alex, url, {"local_date": _days_ago(10), "what_helps": "A walk.", "audience": "partner"}
    )
    assert again.status_code == 200 and again.json()["id"] == lapse["id"]
    assert again.json()["what_led"] == LAPSE["what_led"] and again.json()["what_helps"] == "A walk."
    counts = alex.get(f"{API}/tracks/{track.pk}").json()["counts"]
    assert (counts["current_run"], counts["recovery_days"], counts["longest_run"]) == (9, 39, 30)
    assert counts["lapses"] == 1 and counts["run_start"] == _days_ago(9)
    [earlier] = counts["earlier_runs"]
    assert (earlier["start"], earlier["ended_by"], earlier["days"]) == (
        _days_ago(40),
        _days_ago(10),
        30,
    )
    assert [m["key"] for m in earlier["milestones"]] == ["1d", "7d", "30d"]
    assert [m["key"] for m in counts["milestones"]] == ["1d", "7d"]
    assert counts["next_milestone"]["key"] == "30d"

    sam = api_for(people.sam)
    assert sam.get(f"{API}/lapses/{lapse['id']}").json()["what_led"] == LAPSE["what_led"]
    assert [item["id"] for item in sam.get(f"{API}/lapses").json()] == [lapse["id"]]
    for outsider in (people.casey, people.lee, people.noor):
        assert api_for(outsider).get(f"{API}/lapses/{lapse['id']}").status_code == 404
        assert api_for(outsider).get(f"{API}/lapses").json() == []


def test_a_lapse_is_kept_to_oneself_unless_shared(people, api_for):
    track = _track(people.alex)
    alex = api_for(people.alex)
    made = _post(alex, f"{API}/tracks/{track.pk}/lapses", {**LAPSE, "local_date": _days_ago(2)})
    lapse_id = made.json()["id"]
    assert made.json()["audience"] == "me"
    sam = api_for(people.sam)
    assert sam.get(f"{API}/lapses/{lapse_id}").status_code == 404
    assert sam.get(f"{API}/lapses").json() == []
    # The count stays honest; the words stay private.
    assert sam.get(f"{API}/tracks/{track.pk}").json()["counts"]["lapses"] == 1
    assert LAPSE["what_led"].encode() not in sam.get(f"{API}/tracks/{track.pk}").content

    assert (
        _put(sam, f"{API}/lapses/{lapse_id}/audience", {"audience": "partner"}).status_code == 404
    )
    shared = _put(alex, f"{API}/lapses/{lapse_id}/audience", {"audience": "partner"})
    assert shared.status_code == 200 and shared.json()["audience"] == "partner"
    assert sam.get(f"{API}/lapses/{lapse_id}").status_code == 200


def test_a_lapse_day_must_be_in_the_track(people, api_for):
    track = _track(people.alex, days_ago=5)
    alex = api_for(people.alex)
    url = f"{API}/tracks/{track.pk}/lapses"
    for day in (_days_ago(-1), _days_ago(6)):
        response = _post(alex, url, {"local_date": day})
        assert response.status_code == 422 and _locs(response) == [["body", "local_date"]], day
    wrong = _post(alex, url, {"local_date": "soon", "mood": "low"})
    assert wrong.status_code == 422
    assert sorted(_locs(wrong)) == [["body", "local_date"], ["body", "mood"]]
    assert not Lapse.objects.exists()


# --- the plan --------------------------------------------------------------------------------

CONTENT = {
    "situations": [
        {"situation": "Friday evenings after work", "coping": "Go to the gym on the way home."}
    ],
    "warning_signs": ["Skipping meals"],
    "halt": ["tired", "lonely"],
    "lifestyle": "Morning walks.",
    "lapse_plan": "Tell Sam the same day.",
    "contacts": [{"name": "Jo", "how": "Call after six", "email": "", "notify": False}],
    "reasons": "I want to be present for the people I love.",
    "partner_can": "Sit with me; ask later.",
}


def test_the_plan_is_saved_in_versions(people, api_for):
    alex = api_for(people.alex)
    assert alex.get(f"{API}/plan").status_code == 404
    first = _put(
        alex, f"{API}/plan", {"content": CONTENT, "audience": "partner_therapist", "version": None}
    )
    assert first.status_code == 200
    data = first.json()
    assert data["version"] == 1 and data["content"]["halt"] == ["lonely", "tired"]
    assert data["content"]["situations"] == CONTENT["situations"]
    second = _put(
        alex,
        f"{API}/plan",
        {"content": {**CONTENT, "reasons": "For us."}, "audience": "partner", "version": 1},
    )
    assert second.status_code == 200 and second.json()["version"] == 2
    mine = alex.get(f"{API}/plan").json()
    assert mine["content"]["reasons"] == "For us." and mine["audience"] == "partner"
    assert [(r["number"], r["audience"]) for r in mine["revisions"]] == [
        (2, "partner"),
        (1, "partner_therapist"),
    ]
    stale = _put(alex, f"{API}/plan", {"content": CONTENT, "audience": "partner", "version": 1})
    assert stale.status_code == 409 and "version 2" in stale.json()["detail"]
    assert RecoveryPlan.objects.get(author=people.alex).version == 2


def test_bad_plan_input_names_the_field_as_the_body_spells_it(people, api_for):
    alex = api_for(people.alex)
    bad = {
        **CONTENT,
        "situations": [{"situation": "Payday", "coping": ""}],
        "contacts": [{"name": "Jo", "email": "jo at home", "notify": True}],
    }
    response = _put(alex, f"{API}/plan", {"content": bad, "audience": "partner"})
    assert response.status_code == 422
    assert sorted(_locs(response), key=str) == [
        ["body", "content", "contacts", 0, "email"],
        ["body", "content", "situations", 0, "coping"],
    ]
    halt = _put(
        alex, f"{API}/plan", {"content": {**CONTENT, "halt": ["bored"]}, "audience": "partner"}
    )
    assert halt.status_code == 422 and _locs(halt) == [["body", "content", "halt", 0]]
    extra = _put(
        alex,
        f"{API}/plan",
        {"content": {**CONTENT, "diagnosis": "x"}, "audience": "partner", "author_id": "me"},
    )
    assert extra.status_code == 422
    assert sorted(_locs(extra)) == [["body", "author_id"], ["body", "content", "diagnosis"]]
    nested = _put(
        alex,
        f"{API}/plan",
        {"content": {**CONTENT, "contacts": [{"name": "Jo", "phone": "1"}]}, "audience": "partner"},
    )
    assert _locs(nested) == [["body", "content", "contacts", 0, "phone"]]
    assert not RecoveryPlan.objects.exists()


def test_who_reads_the_plan(people, api_for):
    services.plan_save(user=people.alex, content=CONTENT, audience="partner_therapist")
    plan = RecoveryPlan.objects.get(author=people.alex)
    url = f"{API}/plans/{plan.pk}"
    sam = api_for(people.sam)
    read = sam.get(url)
    assert read.status_code == 200
    assert read.json()["content"]["reasons"] == CONTENT["reasons"]
    assert read.json()["revisions"] == []  # the versions are the author's alone
    assert [p["id"] for p in sam.get(f"{API}/plans").json()] == [str(plan.pk)]
    assert sam.get(f"{API}/plan").status_code == 404  # Sam has none of her own
    # Dr. Lee's consent covers the journal only: no plan until Alex adds it.
    lee = api_for(people.lee)
    for outsider in (people.lee, people.noor, people.casey, people.reyes, people.pat):
        client = api_for(outsider)
        assert client.get(url).status_code == 404, outsider
        assert client.get(f"{API}/plans").json() == [], outsider
    _consent_to(people, "recovery_plan")
    assert lee.get(url).status_code == 200
    assert lee.get(url).json()["content"]["partner_can"] == CONTENT["partner_can"]
    assert [p["id"] for p in lee.get(f"{API}/plans").json()] == [str(plan.pk)]
    assert AuditEvent.objects.filter(
        actor=people.lee, entry_id=plan.pk, action="read", channel="api"
    ).exists()
    # Kept to Alex alone, nobody reads it.
    services.plan_save(user=people.alex, content=CONTENT, audience="me", expected_version=1)
    assert sam.get(url).status_code == 404 and lee.get(url).status_code == 404


# --- "I'm struggling" ------------------------------------------------------------------------


def test_struggling_tells_the_partner_who_replies(people, api_for):
    alex = api_for(people.alex)
    sent = _post(alex, f"{API}/struggling", {"note": "Rough evening, could use a call."})
    assert sent.status_code == 201
    message = sent.json()
    assert message["audience"] == "partner" and message["emailed"] == 0
    assert SupportMessage.objects.get(pk=message["id"]).author == people.alex

    sam = api_for(people.sam)
    [seen] = sam.get(f"{API}/messages", {"others": "true"}).json()
    assert seen["id"] == message["id"] and seen["note"] == "Rough evening, could use a call."
    assert seen["emailed"] is None and seen["is_mine"] is False
    assert sam.get(f"{API}/messages").json() == [seen]
    assert alex.get(f"{API}/messages", {"others": "true"}).json() == []  # from others only
    [own] = alex.get(f"{API}/messages").json()  # every one I may read: mine too
    assert own["id"] == message["id"] and own["is_mine"] is True and own["emailed"] == 0
    reply = _post(sam, f"{API}/messages/{message['id']}/reply", {"reply": "coming"})
    assert reply.status_code == 200
    assert reply.json()["reply"] == "coming" and reply.json()["reply_text"]
    assert alex.get(f"{API}/messages/{message['id']}").json()["reply"] == "coming"


def test_nobody_but_the_partner_replies_and_outsiders_see_nothing(people, api_for):
    _consent_to(people, "support_message")
    message = services.support_send(user=people.alex, note="Hard one", audience="partner_therapist")
    url = f"{API}/messages/{message.pk}"
    lee = api_for(people.lee)
    assert lee.get(url).status_code == 200  # Dr. Lee may read it ...
    for refused in (people.alex, people.lee, people.casey, people.noor):
        response = _post(api_for(refused), f"{url}/reply", {"reply": "here"})
        assert response.status_code == 404, refused  # ... but only the partner replies
    for outsider in (people.casey, people.noor, people.pat, people.reyes):
        client = api_for(outsider)
        assert client.get(url).status_code == 404, outsider
        assert client.get(f"{API}/messages").json() == [], outsider
    assert SupportMessage.objects.get(pk=message.pk).reply == ""
    wrong = _post(api_for(people.sam), f"{url}/reply", {"reply": "whenever"})
    assert wrong.status_code == 422 and _locs(wrong) == [["body", "reply"]]


def test_struggling_refuses_only_me_and_unknown_fields(people, api_for):
    alex = api_for(people.alex)
    response = _post(alex, f"{API}/struggling", {"audience": "me", "urgent": True})
    assert response.status_code == 422
    assert sorted(_locs(response)) == [["body", "audience"], ["body", "urgent"]]
    assert _post(alex, f"{API}/struggling", "[]").status_code == 422
    assert not SupportMessage.objects.exists()


# --- everyone, every operation ---------------------------------------------------------------


def test_anonymous_gets_401_everywhere(people):
    anon = Client()
    for path in ("tracks", "lapses", "plan", "plans", "messages"):
        assert anon.get(f"{API}/{path}").status_code == 401, path
    assert _post(anon, f"{API}/tracks", TRACK).status_code == 401
    assert _post(anon, f"{API}/struggling", {}).status_code == 401
    assert not SupportMessage.objects.exists() and not RecoveryTrack.objects.exists()


def test_lists_keep_a_flat_number_of_queries(people, api_for):
    def grow(n: int) -> None:
        for author in (people.alex, people.sam):
            for _ in range(n):
                track = _track(author, days_ago=30)
                for d in (3, 9):
                    services.lapse_log(
                        user=author,
                        track=track,
                        local_date=_today() - timedelta(days=d),
                        audience="partner",
                    )
                services.support_send(user=author, audience="partner")

    _consent_to(people, "recovery_plan")
    services.plan_save(user=people.alex, content=CONTENT, audience="partner_therapist")
    services.plan_save(user=people.sam, content=CONTENT, audience="partner")
    grow(1)
    reads = [
        (api_for(who), f"{API}/{path}")
        for who in (people.alex, people.sam)
        for path in ("tracks", "lapses", "plans", "messages", "messages?others=true")
    ] + [(api_for(people.lee), f"{API}/plans")]
    for client, url in reads:  # a token's first use is recorded once; measure after that
        client.get(url)
    before = [_count(client, url) for client, url in reads]
    grow(4)
    after = [_count(client, url) for client, url in reads]
    assert before == after
    assert len(api_for(people.sam).get(f"{API}/tracks").json()) == 10
    assert len(api_for(people.sam).get(f"{API}/lapses").json()) == 20
    assert len(api_for(people.sam).get(f"{API}/messages").json()) == 10
    assert len(api_for(people.sam).get(f"{API}/messages", {"others": "true"}).json()) == 5


# --- the OpenAPI document --------------------------------------------------------------------

OPERATIONS = {
    ("get", "/api/recovery/tracks"): ("recovery_track", "list"),
    ("post", "/api/recovery/tracks"): None,
    ("get", "/api/recovery/tracks/{track_id}"): ("recovery_track", "read"),
    ("patch", "/api/recovery/tracks/{track_id}"): ("recovery_track", "author"),
    ("put", "/api/recovery/tracks/{track_id}/audience"): ("recovery_track", "author"),
    ("post", "/api/recovery/tracks/{track_id}/end"): ("recovery_track", "author"),
    ("post", "/api/recovery/tracks/{track_id}/lapses"): ("recovery_track", "author"),
    ("get", "/api/recovery/lapses"): ("recovery_lapse", "list"),
    ("get", "/api/recovery/lapses/{lapse_id}"): ("recovery_lapse", "read"),
    ("put", "/api/recovery/lapses/{lapse_id}/audience"): ("recovery_lapse", "author"),
    ("get", "/api/recovery/plan"): None,
    ("put", "/api/recovery/plan"): None,
    ("get", "/api/recovery/plans"): ("recovery_plan", "list"),
    ("get", "/api/recovery/plans/{plan_id}"): ("recovery_plan", "read"),
    ("post", "/api/recovery/struggling"): None,
    ("get", "/api/recovery/messages"): ("support_message", "list"),
    ("get", "/api/recovery/messages/{message_id}"): ("support_message", "read"),
    ("post", "/api/recovery/messages/{message_id}/reply"): ("support_message", "respond"),
}


@pytest.fixture
def doc(db) -> dict:
    return Client().get("/api/openapi.json", secure=True).json()


def test_the_openapi_document_tags_every_recovery_operation(doc):
    ops = {
        (method, path): op
        for path, methods in doc["paths"].items()
        if path.startswith("/api/recovery/")
        for method, op in methods.items()
    }
    assert set(ops) == set(OPERATIONS)
    for (method, path), op in ops.items():
        where = f"{method} {path}"
        assert op["tags"] == ["recovery"], where
        assert {"401", "422"} <= set(op["responses"]), where
        tag = op.get("x-sharing")
        expected = OPERATIONS[(method, path)]
        assert (None if tag is None else (tag["entry_type"], tag["op"])) == expected, where
        if "{" in path or path.endswith("/plan"):
            assert "404" in op["responses"] or method == "put", where
    for where in (("patch", "/api/recovery/tracks/{track_id}"), ("put", "/api/recovery/plan")):
        assert "409" in ops[where]["responses"], where
    assert {"200", "201"} <= set(
        ops[("post", "/api/recovery/tracks/{track_id}/lapses")]["responses"]
    )
    assert "201" in ops[("post", "/api/recovery/struggling")]["responses"]


def test_the_fixed_choices_in_the_schema_match_the_domain(doc):
    schemas = doc["components"]["schemas"]
    assert schemas["ReplyIn"]["properties"]["reply"]["enum"] == list(SupportMessage.REPLIES)
    halt = schemas["PlanContentIn"]["properties"]["halt"]["items"]["enum"]
    assert halt == list(plan_shape.HALT)
    kinds = schemas["TrackIn"]["properties"]["kind"]["enum"]
    assert kinds == list(RecoveryTrack.Kind.values)


# --- the demo --------------------------------------------------------------------------------


def test_the_demo_tells_a_recovery_story(db, api_for):
    from trellis.demo.seed import recovery_history, seed_demo

    demo = seed_demo(days=2)
    sam = api_for(demo.sam)
    [track] = sam.get(f"{API}/tracks").json()
    assert track["author"]["display_name"] == "Alex" and track["goal"]
    counts = track["counts"]
    # A lapse about five weeks ago: a current run, the days before it kept, and the
    # milestones of the earlier run still there.
    assert counts["lapses"] == 1 and 30 <= counts["current_run"] <= 40
    assert counts["recovery_days"] == 96 and counts["longest_run"] == 61
    [earlier] = counts["earlier_runs"]
    assert [m["key"] for m in earlier["milestones"]] == ["1d", "7d", "30d", "60d"]
    [lapse] = sam.get(f"{API}/lapses").json()
    assert all(lapse[f] for f in ("what_led", "what_helps", "who_to_tell", "impact", "prevention"))

    [plan] = sam.get(f"{API}/plans").json()
    content = plan["content"]
    assert plan["audience"] == "partner_therapist" and plan["version"] == 2
    assert len(content["situations"]) == 3 and all(s["coping"] for s in content["situations"])
    assert content["halt"] == ["lonely", "tired"] and content["warning_signs"]
    assert all(content[k] for k in ("lifestyle", "lapse_plan", "reasons", "partner_can"))
    assert len(content["contacts"]) == 2
    assert all(c["email"] == "" and not c["notify"] for c in content["contacts"])
    mine = api_for(demo.alex).get(f"{API}/plan").json()
    assert [r["number"] for r in mine["revisions"]] == [2, 1]
    assert len({r["saved_at"] for r in mine["revisions"]}) == 2

    # Seeding the recovery part again adds nothing.
    recovery_history(demo.alex, now=datetime(2026, 5, 4, 12, 0, tzinfo=UTC))
    assert (RecoveryTrack.objects.filter(author=demo.alex).count(), Lapse.objects.count()) == (1, 1)
    assert RecoveryPlan.objects.get().revisions.count() == 2
