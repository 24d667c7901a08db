"""The journal API: create with idempotency keys, strict input, If-Match, paging, OpenAPI
(S7, S8; security.md R48, R49)."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from trellis.journal.models import IdempotencyKey, JournalEntry
from trellis.journal.services import journal_entry_create
from trellis.sharing.models import AuditEvent

ENTRIES = "/api/journal/entries"


def _post(client: Client, data, key: str | None = None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    body = data if isinstance(data, str) else json.dumps(data)
    return client.post(ENTRIES, body, content_type="application/json", **headers)


def _patch(client: Client, entry_id, data, if_match: str | None = None):
    headers = {"HTTP_IF_MATCH": if_match} if if_match is not None else {}
    return client.patch(
        f"{ENTRIES}/{entry_id}", json.dumps(data), content_type="application/json", **headers
    )


def _locs(response) -> list[list]:
    return [d["loc"] for d in response.json()["detail"]]


ENTRY = {"body": "Offline note from the bus.", "title": "Bus", "audience": "partner"}


# --- Create -----------------------------------------------------------------------------------


def test_creating_an_entry_answers_201(people, api_for):
    response = _post(api_for(people.alex), ENTRY)
    assert response.status_code == 201
    data = response.json()
    entry = JournalEntry.objects.get(pk=data["id"])
    assert (entry.author, entry.body, entry.audience, entry.couple) == (
        people.alex,
        ENTRY["body"],
        "partner",
        people.couple,
    )
    assert data["version"] == 1 and data["is_mine"] is True
    assert data["author"] == {"id": str(people.alex.pk), "display_name": "Alex"}


def test_a_session_client_can_create_too(people):
    # A signed-in browser session works (here without CSRF enforcement, as the test client does).
    client = Client(enforce_csrf_checks=False)
    client.force_login(people.alex)
    assert _post(client, ENTRY).status_code == 201


def test_a_session_post_without_csrf_is_refused(people):
    client = Client(enforce_csrf_checks=True)
    client.force_login(people.alex)
    assert _post(client, ENTRY).status_code in (401, 403)
    assert not JournalEntry.objects.filter(author=people.alex).exists()


def test_anonymous_gets_401(db):
    assert _post(Client(), ENTRY).status_code == 401
    assert Client().get(ENTRIES).status_code == 401


def test_an_idempotent_replay_returns_the_same_entry(people, api_for):
    alex = api_for(people.alex)
    first = _post(alex, ENTRY, key="bus-2026-05-04-1")
    replay = _post(alex, ENTRY, key="bus-2026-05-04-1")
    assert first.status_code == 201
    assert replay.status_code == 200
    assert replay.json()["id"] == first.json()["id"]
    assert JournalEntry.objects.filter(author=people.alex).count() == 1
    assert AuditEvent.objects.filter(owner=people.alex, action="created").count() == 1


def test_the_same_key_with_a_different_body_is_422(people, api_for):
    alex = api_for(people.alex)
    assert _post(alex, ENTRY, key="k-1").status_code == 201
    changed = _post(alex, {**ENTRY, "body": "Something else."}, key="k-1")
    assert changed.status_code == 422
    assert "Idempotency-Key" in changed.json()["detail"]
    assert JournalEntry.objects.filter(author=people.alex).count() == 1


def test_keys_belong_to_one_person(people, api_for):
    alex_entry = _post(api_for(people.alex), ENTRY, key="shared-key").json()
    sam = _post(api_for(people.sam), {**ENTRY, "body": "Sam's own."}, key="shared-key")
    assert sam.status_code == 201
    assert sam.json()["id"] != alex_entry["id"]
    assert sam.json()["author"]["display_name"] == "Sam"
    # Even the very same payload under the same key gives Sam a new entry, never Alex's.
    same = _post(api_for(people.sam), ENTRY, key="shared-key-2")
    assert same.json()["id"] != alex_entry["id"]
    assert IdempotencyKey.objects.filter(key="shared-key").count() == 2


def test_an_overlong_idempotency_key_names_the_header(people, api_for):
    response = _post(api_for(people.alex), ENTRY, key="k" * 81)
    assert response.status_code == 422
    assert "Idempotency-Key" in response.json()["detail"]


def test_an_unknown_field_is_422_naming_it(people, api_for):
    response = _post(api_for(people.alex), {**ENTRY, "author_id": str(people.sam.pk)})
    assert response.status_code == 422
    assert ["body", "author_id"] in _locs(response)
    assert not JournalEntry.objects.exists()


@pytest.mark.parametrize("raw", ["[1, 2]", '"an entry"', "123", "null", "true"])
def test_a_body_that_is_not_an_object_is_422_not_500(people, api_for, raw):
    response = _post(api_for(people.alex), raw)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][0] == "body"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"title": "x", "audience": "me"}, "body"),
        ({"body": "", "audience": "me"}, "body"),
        ({"body": "x" * 20_001, "audience": "me"}, "body"),
        ({"body": "x", "audience": "everyone"}, "audience"),
        ({"body": "x"}, "audience"),
        ({"body": "x", "audience": "me", "kind": "poem"}, "kind"),
        ({"body": "x", "audience": "me", "title": "t" * 201}, "title"),
        ({"body": "x", "audience": "me", "prompt_key": "nope"}, "prompt_key"),
        ({"body": "   ", "audience": "me"}, "body"),
    ],
)
def test_invalid_fields_are_422_naming_the_field(people, api_for, data, field):
    response = _post(api_for(people.alex), data)
    assert response.status_code == 422
    assert any(loc[-1] == field for loc in _locs(response)), response.json()


def test_therapist_only_is_refused_without_a_consented_therapist(people, api_for):
    response = _post(api_for(people.sam), {"body": "x", "audience": "therapist"})
    assert response.status_code == 422
    assert ["body", "audience"] in _locs(response)
    assert _post(api_for(people.alex), {"body": "x", "audience": "therapist"}).status_code == 201


# --- Update, delete ----------------------------------------------------------------------------


@pytest.fixture
def entry(people):
    made, _ = journal_entry_create(author=people.alex, body="First words.", audience="partner")
    return made


def test_patch_without_if_match_is_428(people, api_for, entry):
    response = _patch(api_for(people.alex), entry.pk, {"body": "New"})
    assert response.status_code == 428
    assert "If-Match" in response.json()["detail"]
    entry.refresh_from_db()
    assert (entry.body, entry.version) == ("First words.", 1)


@pytest.mark.parametrize("stale", ['"2"', '"0"', "7", '"abc"', 'W/"9"'])
def test_patch_with_a_stale_if_match_is_412_and_changes_nothing(people, api_for, entry, stale):
    response = _patch(api_for(people.alex), entry.pk, {"body": "Lost update?"}, if_match=stale)
    assert response.status_code == 412
    entry.refresh_from_db()
    assert (entry.body, entry.version) == ("First words.", 1)


def test_patch_with_the_current_version_saves_and_bumps_it(people, api_for, entry):
    alex = api_for(people.alex)
    response = _patch(alex, entry.pk, {"body": "Second words.", "title": "T"}, if_match='"1"')
    assert response.status_code == 200
    assert response.json()["version"] == 2
    assert response.json()["body"] == "Second words."
    entry.refresh_from_db()
    assert (entry.body, entry.title, entry.version) == ("Second words.", "T", 2)
    assert alex.get(f"{ENTRIES}/{entry.pk}").json()["body"] == "Second words."

    # Of two writers who both loaded version 1, the second now loses with 412.
    late = _patch(alex, entry.pk, {"body": "Late writer."}, if_match='"1"')
    assert late.status_code == 412
    entry.refresh_from_db()
    assert entry.body == "Second words."


def test_patch_rejects_fields_it_does_not_own(people, api_for, entry):
    response = _patch(api_for(people.alex), entry.pk, {"body": "x", "audience": "me"}, '"1"')
    assert response.status_code == 422
    assert ["body", "audience"] in _locs(response)


def test_the_partner_cannot_patch_or_delete(people, api_for, entry):
    sam = api_for(people.sam)
    assert sam.get(f"{ENTRIES}/{entry.pk}").status_code == 200
    assert _patch(sam, entry.pk, {"body": "Sam was here"}, '"1"').status_code == 404
    assert sam.delete(f"{ENTRIES}/{entry.pk}").status_code == 404
    entry.refresh_from_db()
    assert entry.body == "First words."


def test_delete_answers_204(people, api_for, entry):
    alex = api_for(people.alex)
    response = alex.delete(f"{ENTRIES}/{entry.pk}")
    assert response.status_code == 204
    assert not JournalEntry.objects.filter(pk=entry.pk).exists()
    assert alex.get(f"{ENTRIES}/{entry.pk}").status_code == 404
    assert alex.delete(f"{ENTRIES}/{entry.pk}").status_code == 404
    assert AuditEvent.objects.filter(action="deleted", entry_id=entry.pk, channel="api").exists()


def test_audience_change_through_the_api(people, api_for, entry):
    alex = api_for(people.alex)
    response = alex.put(
        f"{ENTRIES}/{entry.pk}/audience",
        json.dumps({"audience": "me"}),
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json()["audience"] == "me"
    assert api_for(people.sam).get(f"{ENTRIES}/{entry.pk}").status_code == 404


def test_seen_lists_the_partners_api_read(people, api_for, entry):
    api_for(people.sam).get(f"{ENTRIES}/{entry.pk}")
    seen = api_for(people.alex).get(f"{ENTRIES}/{entry.pk}/seen")
    assert seen.status_code == 200
    assert [(r["who"], r["action"], r["channel"]) for r in seen.json()] == [("Sam", "read", "api")]
    assert api_for(people.sam).get(f"{ENTRIES}/{entry.pk}/seen").status_code == 404


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("put", ""),
        ("post", "/{id}"),
        ("get", "/{id}/audience"),
        ("post", "/{id}/seen"),
        ("delete", ""),
    ],
)
def test_wrong_methods_answer_405(people, api_for, entry, method, path):
    url = ENTRIES + path.format(id=entry.pk)
    assert getattr(api_for(people.alex), method)(url).status_code == 405
    assert JournalEntry.objects.filter(pk=entry.pk).exists()


def test_a_malformed_id_is_404(people, api_for):
    assert api_for(people.alex).get(f"{ENTRIES}/not-a-uuid").status_code == 404


# --- Lists ------------------------------------------------------------------------------------


@pytest.mark.parametrize("limit", ["0", "101", "-1", "many"])
def test_list_limit_out_of_bounds_is_422_naming_limit(people, api_for, limit):
    response = api_for(people.alex).get(ENTRIES, {"limit": limit})
    assert response.status_code == 422
    assert ["query", "limit"] in _locs(response)


def test_list_pages_and_scopes(people, api_for):
    for i in range(5):
        journal_entry_create(author=people.alex, body=f"Alex {i}", audience="partner")
    for i in range(3):
        journal_entry_create(author=people.sam, body=f"Sam {i}", audience="partner")
    journal_entry_create(author=people.sam, body="Sam private", audience="me")
    alex = api_for(people.alex)

    everything = alex.get(ENTRIES, {"limit": 100}).json()
    assert everything["count"] == 8
    page = alex.get(ENTRIES, {"limit": 3, "offset": 3}).json()
    assert (page["count"], page["limit"], page["offset"], len(page["items"])) == (8, 3, 3, 3)
    first = {i["id"] for i in alex.get(ENTRIES, {"limit": 3}).json()["items"]}
    assert first.isdisjoint(i["id"] for i in page["items"])

    assert alex.get(ENTRIES, {"show": "mine"}).json()["count"] == 5
    shared = alex.get(ENTRIES, {"show": "shared"}).json()
    assert shared["count"] == 3
    assert all(not i["is_mine"] for i in shared["items"])
    assert alex.get(ENTRIES, {"show": "everyone"}).status_code == 422


# --- OpenAPI ----------------------------------------------------------------------------------


@pytest.fixture
def spec(db) -> dict:
    response = Client().get("/api/openapi.json")
    assert response.status_code == 200
    return response.json()


def _operations(spec: dict):
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            yield path, method, op


def test_openapi_loads_and_lists_every_journal_operation(spec):
    ops = {(m, p) for p, m, _ in _operations(spec)}
    assert {
        ("get", "/api/journal/entries"),
        ("post", "/api/journal/entries"),
        ("get", "/api/journal/entries/{entry_id}"),
        ("patch", "/api/journal/entries/{entry_id}"),
        ("delete", "/api/journal/entries/{entry_id}"),
        ("put", "/api/journal/entries/{entry_id}/audience"),
        ("get", "/api/journal/entries/{entry_id}/seen"),
        ("get", "/api/accounts/me"),
        ("get", "/api/sharing/activity"),
    } <= ops


def test_every_operation_declares_401_and_422(spec):
    for path, method, op in _operations(spec):
        assert {"401", "422"} <= set(op["responses"]), (method, path)


def test_every_operation_is_tagged_with_its_router(spec):
    for path, method, op in _operations(spec):
        router = path.split("/")[2]
        assert op.get("tags") == [router], (method, path)
    assert {op["tags"][0] for _, _, op in _operations(spec)} == {
        "journal",
        "accounts",
        "sharing",
        "checkins",
        "meetings",
        "agreements",
        "recovery",
        "clinic",
    }


def test_conditional_and_idempotent_statuses_are_declared(spec):
    patch = spec["paths"]["/api/journal/entries/{entry_id}"]["patch"]["responses"]
    assert {"412", "428"} <= set(patch)
    post = spec["paths"]["/api/journal/entries"]["post"]["responses"]
    assert {"200", "201"} <= set(post)


def test_no_security_scheme_takes_a_token_from_the_url(spec):
    schemes = spec["components"]["securitySchemes"]
    assert schemes
    assert all(s.get("in") != "query" for s in schemes.values())
