"""The therapist workspace API (SPEC C14): each operation works for the person it belongs to and
answers 404 — the same body as any missing thing — to every other persona; completions are
entries that follow their audience and the partner's consent; consent asks for the password and
withdrawing it takes effect on the therapist's very next request."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tests.personas import PASSWORD, People, make_couple, make_user
from trellis.accounts.services import api_token_create
from trellis.clinic import services
from trellis.clinic.models import (
    Appointment,
    ClinicMember,
    Homework,
    HomeworkCompletion,
    LinkInvitation,
    SessionNote,
)
from trellis.couples.models import Consent, TherapistLink
from trellis.journal.models import JournalEntry
from trellis.sharing.audiences import Audience
from trellis.sharing.models import AuditEvent

API = "/api/clinic"
NOT_FOUND = {"detail": "Not found"}


@pytest.fixture
def api_for():
    """An API client authenticated with a fresh personal bearer token (no session, no CSRF)."""

    def make(user) -> Client:
        _, raw = api_token_create(user=user, name="tests")
        return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")

    return make


@pytest.fixture
def clinic(people):
    """Morgan administers Harbour; Dr. Lee practises there."""
    made = services.clinic_create(name="Harbour", admin=people.morgan)
    ClinicMember.objects.create(clinic=made, user=people.lee, role=ClinicMember.Role.THERAPIST)
    return made


def _send(client: Client, method: str, url: str, data=None, **headers):
    if method == "get":
        return client.get(url, **headers)
    body = data if isinstance(data, str) else json.dumps({} if data is None else data)
    return getattr(client, method)(url, body, content_type="application/json", **headers)


def _locs(response) -> list[list]:
    return [d["loc"] for d in response.json()["detail"]]


def _everyone(p: People) -> dict[str, object]:
    return {name: user for name, user in vars(p).items() if hasattr(user, "role")}


def _others(p: People, *owners) -> list[tuple[str, object]]:
    keep = {o.pk for o in owners}
    return [(n, u) for n, u in _everyone(p).items() if u.pk not in keep]


def _assert_404_for_others(p: People, api_for, owners, method: str, url: str, data=None):
    for name, user in _others(p, *owners):
        response = _send(api_for(user), method, url, data)
        assert response.status_code == 404, (name, method, url, response.content[:200])
        assert response.json() == NOT_FOUND, name


def _link(p: People, therapist=None) -> TherapistLink:
    return TherapistLink.objects.get(
        therapist=therapist or p.lee, couple=p.couple, ended_at__isnull=True
    )


def _due(days: int = 3) -> str:
    return (timezone.localdate() + timedelta(days=days)).isoformat()


def _homework(p: People, *, assignees=None, title="Write about a good day", days=3) -> Homework:
    return services.homework_assign(
        therapist=p.lee,
        link_id=_link(p).pk,
        kind="task",
        title=title,
        due_on=timezone.localdate() + timedelta(days=days),
        assignees=[a.pk for a in (assignees or [p.alex, p.sam])],
    )


def _consent(client: Client, link_id, scopes, password=PASSWORD):
    return _send(
        client,
        "put",
        f"{API}/my/links/{link_id}/consent",
        {"scopes": scopes, "purpose": "Couples therapy", "until": _due(60), "password": password},
    )


# --- the therapist's caseload and one couple -------------------------------------------------


def test_the_caseload_shows_each_linked_couple_with_what_was_consented(people, api_for):
    JournalEntry.objects.create(
        author=people.alex, couple=people.couple, audience=Audience.PARTNER_THERAPIST, body="x"
    )
    [row] = api_for(people.lee).get(f"{API}/caseload").json()
    assert row["link_id"] == str(_link(people).pk)
    scopes = {pc["person"]["display_name"]: pc["scopes"] for pc in row["partners"]}
    assert scopes == {"Alex": ["journal"], "Sam": []}
    assert row["last_shared_at"] is not None and row["overdue"] == 0
    # Dr. Noor is linked too, but holds no consent: she sees the couple and nothing shared.
    [noor] = api_for(people.noor).get(f"{API}/caseload").json()
    assert noor["last_shared_at"] is None
    assert all(pc["scopes"] == [] for pc in noor["partners"])
    # Only therapists have a caseload.
    for user in (people.alex, people.sam, people.morgan, people.casey):
        assert api_for(user).get(f"{API}/caseload").status_code == 404
    assert Client().get(f"{API}/caseload").status_code == 401


def test_one_couple_is_for_its_therapist_alone(people, api_for):
    shared = JournalEntry.objects.create(
        author=people.alex, couple=people.couple, audience=Audience.PARTNER_THERAPIST, body="x"
    )
    JournalEntry.objects.create(
        author=people.alex, couple=people.couple, audience=Audience.PARTNER, body="y"
    )
    url = f"{API}/caseload/{_link(people).pk}"
    data = api_for(people.lee).get(url).json()
    assert [(i["entry_type"], i["id"]) for i in data["timeline"]] == [("journal", str(shared.pk))]
    assert data["timeline"][0]["author_id"] == str(people.alex.pk)
    # Listing the timeline reads nothing: opening an item does.
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.READ).exists()
    _assert_404_for_others(people, api_for, [people.lee], "get", url)
    assert api_for(people.lee).get(f"{API}/caseload/not-a-uuid").status_code == 404


def test_signals_reach_the_therapist_only_from_consented_check_ins(people, api_for):
    from trellis.checkins.models import DailyCheckin

    today = timezone.localdate()
    for i in range(7):
        DailyCheckin.objects.create(
            author=people.sam,
            couple=people.couple,
            audience=Audience.PARTNER_THERAPIST,
            local_date=today - timedelta(days=i),
            mood=3,
            stress=3,
            sleep=3,
            closeness=3,
            safety=1,
        )
    url = f"{API}/caseload/{_link(people).pk}"
    lee = api_for(people.lee)
    assert lee.get(url).json()["signals"] == []
    link = _link(people)
    assert _consent(api_for(people.sam), link.pk, ["checkin"]).status_code == 200
    signals = lee.get(url).json()["signals"]
    assert {"kind": "low_safety", "label": "Low emotional safety"}.items() <= signals[0].items()
    assert signals[0]["person_id"] == str(people.sam.pk)
    [row] = lee.get(f"{API}/caseload").json()
    assert row["attention"] == 1


# --- link invitations and linking ------------------------------------------------------------


def test_a_couple_links_by_the_therapists_code(people, api_for):
    made = _send(api_for(people.reyes), "post", f"{API}/link-invitations")
    assert made.status_code == 201
    code, token = made.json()["code"], made.json()["token"]
    assert len(code) == 8 and token
    listed = api_for(people.reyes).get(f"{API}/link-invitations").json()
    assert [i["id"] for i in listed] == [made.json()["id"]] and listed[0]["code"] is None

    # Alex links his couple space with Dr. Reyes by the code: she sees nothing yet.
    linked = _send(api_for(people.alex), "post", f"{API}/my/links", {"code": code.lower()})
    assert linked.status_code == 201, linked.content
    assert linked.json()["therapist"]["display_name"] == "Dr. Reyes"
    assert linked.json()["my_consent"] is None
    assert any(
        AuditEvent.objects.filter(owner=u, action=AuditEvent.Action.THERAPIST_LINKED).exists()
        for u in (people.alex, people.sam)
    )
    rows = {r["link_id"] for r in api_for(people.reyes).get(f"{API}/caseload").json()}
    assert linked.json()["id"] in rows and len(rows) == 2

    # Single use.
    again = _send(api_for(people.casey), "post", f"{API}/my/links", {"code": code})
    assert again.status_code == 422 and _locs(again) == [["body", "code"]]
    # Therapists and administrators cannot link as a couple.
    other = _send(api_for(people.reyes), "post", f"{API}/link-invitations").json()
    refused = _send(api_for(people.lee), "post", f"{API}/my/links", {"code": other["code"]})
    assert refused.status_code == 422 and _locs(refused) == [["body", "code"]]


def test_a_link_invitation_is_cancelled_by_its_therapist_only(people, api_for):
    made = _send(api_for(people.lee), "post", f"{API}/link-invitations").json()
    url = f"{API}/link-invitations/{made['id']}"
    _assert_404_for_others(people, api_for, [people.lee], "delete", url)
    assert _send(api_for(people.lee), "delete", url).status_code == 204
    assert LinkInvitation.objects.get(pk=made["id"]).cancelled_at is not None
    assert _send(api_for(people.lee), "delete", url).status_code == 404
    # Nobody but a therapist invites.
    for user in (people.alex, people.morgan):
        assert _send(api_for(user), "post", f"{API}/link-invitations").status_code == 404


# --- consent ---------------------------------------------------------------------------------


def test_my_links_show_my_own_consent_only(people, api_for):
    links = api_for(people.alex).get(f"{API}/my/links").json()
    by_name = {lk["therapist"]["display_name"]: lk for lk in links}
    assert set(by_name) == {"Dr. Lee", "Dr. Noor", "Dr. Ortiz", "Dr. Quinn"}
    assert by_name["Dr. Lee"]["my_consent"]["scopes"] == ["journal"]
    assert by_name["Dr. Lee"]["accepts_confidences"] is True
    # Withdrawn and expired consents are no consent at all.
    assert [by_name[n]["my_consent"] for n in ("Dr. Noor", "Dr. Ortiz", "Dr. Quinn")] == [None] * 3
    # Sam gave nothing.
    sam = {
        lk["therapist"]["display_name"]: lk
        for lk in api_for(people.sam).get(f"{API}/my/links").json()
    }
    assert all(lk["my_consent"] is None for lk in sam.values())
    assert api_for(people.lee).get(f"{API}/my/links").json() == []
    assert api_for(people.pat).get(f"{API}/my/links").json() == []


def test_consent_needs_my_password_and_is_mine_alone(people, api_for):
    link = _link(people)
    sam = api_for(people.sam)
    wrong = _consent(sam, link.pk, ["checkin"], password="not-my-password")
    assert wrong.status_code == 422 and _locs(wrong) == [["body", "password"]]
    missing = _send(
        sam,
        "put",
        f"{API}/my/links/{link.pk}/consent",
        {"scopes": ["checkin"], "purpose": "x", "until": _due(30)},
    )
    assert missing.status_code == 422 and ["body", "password"] in _locs(missing)
    assert not Consent.objects.filter(grantor=people.sam).exists()

    given = _consent(sam, link.pk, ["checkin", "homework"])
    assert given.status_code == 200, given.content
    assert given.json()["my_consent"]["scopes"] == ["checkin", "homework"]
    # Alex's consent is untouched by Sam's.
    assert Consent.objects.get(grantor=people.alex, therapist=people.lee).withdrawn_at is None

    # Changing replaces it at once; the earlier one stays, withdrawn.
    assert _consent(sam, link.pk, ["checkin"]).json()["my_consent"]["scopes"] == ["checkin"]
    assert Consent.objects.filter(grantor=people.sam, withdrawn_at__isnull=True).count() == 1
    assert Consent.objects.filter(grantor=people.sam).count() == 2

    # Nobody else can consent on this link (the password is right for all of them).
    for name, user in _others(people, people.alex, people.sam):
        response = _consent(api_for(user), link.pk, ["journal"])
        assert response.status_code == 404 and response.json() == NOT_FOUND, name


def test_consent_input_names_the_field(people, api_for):
    link = _link(people)
    alex = api_for(people.alex)
    url = f"{API}/my/links/{link.pk}/consent"
    base = {"scopes": ["journal"], "purpose": "x", "until": _due(30), "password": PASSWORD}
    past = (timezone.localdate() - timedelta(days=2)).isoformat()
    for change, field in (
        ({"scopes": ["passwords"]}, "scopes"),
        ({"until": past}, "until"),
        ({"until": _due(1000)}, "until"),
        ({"until": "soon"}, "until"),
        ({"purpose": ""}, "purpose"),
        ({"therapist_id": str(people.reyes.pk)}, "therapist_id"),
    ):
        response = _send(alex, "put", url, {**base, **change})
        assert response.status_code == 422, (change, response.content)
        assert ["body", field] in _locs(response), (change, _locs(response))


def test_withdrawing_takes_effect_on_the_therapists_next_request(people, api_for):
    entry = JournalEntry.objects.create(
        author=people.alex, couple=people.couple, audience=Audience.PARTNER_THERAPIST, body="x"
    )
    lee = api_for(people.lee)
    assert lee.get(f"/api/journal/entries/{entry.pk}").status_code == 200
    link = _link(people)
    # Sam cannot withdraw Alex's consent: withdrawing is for the grantor, and ends only theirs.
    assert (
        _send(api_for(people.sam), "delete", f"{API}/my/links/{link.pk}/consent").status_code == 204
    )
    assert lee.get(f"/api/journal/entries/{entry.pk}").status_code == 200
    _assert_404_for_others(
        people, api_for, [people.alex, people.sam], "delete", f"{API}/my/links/{link.pk}/consent"
    )
    assert (
        _send(api_for(people.alex), "delete", f"{API}/my/links/{link.pk}/consent").status_code
        == 204
    )
    gone = lee.get(f"/api/journal/entries/{entry.pk}")
    assert gone.status_code == 404 and gone.json() == NOT_FOUND
    assert lee.get(f"{API}/caseload/{link.pk}").json()["timeline"] == []


# --- homework --------------------------------------------------------------------------------


def _assign(client: Client, link_id, key: str | None = None, **changes):
    body = {
        "kind": "task",
        "title": "A walk without phones",
        "instructions": "Twenty minutes, together.",
        "due_on": _due(),
        "assignees": [],
        **changes,
    }
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return _send(client, "post", f"{API}/caseload/{link_id}/homework", body, **headers)


def test_homework_is_assigned_once_per_idempotency_key(people, api_for):
    link = _link(people)
    lee = api_for(people.lee)
    both = [str(people.alex.pk), str(people.sam.pk)]
    first = _assign(lee, link.pk, key="hw-1", assignees=both)
    assert first.status_code == 201, first.content
    data = first.json()
    assert data["title"] == "A walk without phones" and not data["overdue"]
    assert {a["person"]["display_name"] for a in data["assignees"]} == {"Alex", "Sam"}
    assert all(a["completion"] is None for a in data["assignees"])
    again = _assign(lee, link.pk, key="hw-1", assignees=both)
    assert again.status_code == 200 and again.json()["id"] == data["id"]
    assert Homework.objects.count() == 1
    other = _assign(lee, link.pk, key="hw-1", assignees=both, title="Something else")
    assert other.status_code == 422 and _locs(other) == [["header", "Idempotency-Key"]]
    long = _assign(lee, link.pk, key="k" * 81, assignees=both)
    assert long.status_code == 422 and _locs(long) == [["header", "Idempotency-Key"]]
    # Without a key, each request is new homework.
    assert _assign(lee, link.pk, assignees=both).status_code == 201
    assert Homework.objects.count() == 2

    assert lee.get(f"{API}/homework/{data['id']}").json()["id"] == data["id"]
    caseload = lee.get(f"{API}/caseload/{link.pk}").json()
    assert {h["id"] for h in caseload["homework"]} == {str(h.pk) for h in Homework.objects.all()}


def test_homework_input_names_the_field(people, api_for):
    link = _link(people)
    lee = api_for(people.lee)
    alex = [str(people.alex.pk)]
    yesterday2 = (timezone.localdate() - timedelta(days=3)).isoformat()
    for changes, field in (
        ({"kind": "chores"}, "kind"),
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"due_on": yesterday2}, "due_on"),
        ({"assignees": []}, "assignees"),
        ({"assignees": [str(people.casey.pk)]}, "assignees"),
        ({"assignees": ["nobody"]}, "assignees"),
        ({"kind": "journal_prompt", "ref": "no-such-prompt"}, "ref"),
        ({"therapist_id": str(people.reyes.pk)}, "therapist_id"),
    ):
        response = _assign(lee, link.pk, **{"assignees": alex, **changes})
        assert response.status_code == 422, (changes, response.content)
        assert [loc[:2] for loc in _locs(response)] == [["body", field]], (changes, _locs(response))
    assert not Homework.objects.exists()
    not_object = _send(lee, "post", f"{API}/caseload/{link.pk}/homework", "[1, 2]")
    assert not_object.status_code == 422


def test_homework_belongs_to_its_therapist(people, api_for):
    link = _link(people)
    hw = _homework(people)
    _assert_404_for_others(
        people,
        api_for,
        [people.lee],
        "post",
        f"{API}/caseload/{link.pk}/homework",
        {"kind": "task", "title": "x", "due_on": _due(), "assignees": [str(people.alex.pk)]},
    )
    _assert_404_for_others(people, api_for, [people.lee], "get", f"{API}/homework/{hw.pk}")
    _assert_404_for_others(people, api_for, [people.lee], "delete", f"{API}/homework/{hw.pk}")
    assert Homework.objects.count() == 1
    assert _send(api_for(people.lee), "delete", f"{API}/homework/{hw.pk}").status_code == 204
    assert api_for(people.lee).get(f"{API}/homework/{hw.pk}").json()["cancelled"] is True
    # Taken back: it leaves the partners' lists, and completing it says why.
    assert api_for(people.alex).get(f"{API}/my/homework").json() == []
    done = _send(api_for(people.alex), "post", f"{API}/my/homework/{hw.pk}/complete")
    assert done.status_code == 409


def test_completing_homework_twice_keeps_one(people, api_for):
    hw = _homework(people, assignees=[people.alex])
    alex = api_for(people.alex)
    [mine] = alex.get(f"{API}/my/homework").json()
    assert mine["id"] == str(hw.pk) and mine["completion"] is None
    assert mine["therapist"]["display_name"] == "Dr. Lee"
    url = f"{API}/my/homework/{hw.pk}/complete"
    first = _send(alex, "post", url, {"note": "We walked by the river.", "audience": "partner"})
    assert first.status_code == 201, first.content
    again = _send(alex, "post", url, {"note": "Another note", "audience": "me"})
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert again.json()["note"] == "We walked by the river."
    assert HomeworkCompletion.objects.count() == 1
    [mine] = alex.get(f"{API}/my/homework").json()
    assert mine["completion"]["audience"] == "partner"
    # Only the assignee completes it: Sam was not asked, the others are not in the couple.
    _assert_404_for_others(people, api_for, [people.alex], "post", url)
    assert HomeworkCompletion.objects.count() == 1


def test_completion_input_names_the_field(people, api_for):
    hw = _homework(people, assignees=[people.alex])
    url = f"{API}/my/homework/{hw.pk}/complete"
    alex = api_for(people.alex)
    for body, field in (
        ({"audience": "everyone"}, "audience"),
        ({"note": "x" * 4001}, "note"),
        ({"done_by": str(people.sam.pk)}, "done_by"),
    ):
        response = _send(alex, "post", url, body)
        assert response.status_code == 422 and ["body", field] in _locs(response), body
    # "My therapist only" needs a therapist consented to for homework.
    only = _send(alex, "post", url, {"audience": "therapist"})
    assert only.status_code == 422 and _locs(only) == [["body", "audience"]]
    assert not HomeworkCompletion.objects.exists()


def test_the_therapist_sees_done_only_when_shared_and_consented(people, api_for):
    hw = _homework(people)
    lee = api_for(people.lee)
    link = _link(people)

    def marks() -> dict[str, object]:
        data = lee.get(f"{API}/homework/{hw.pk}").json()
        return {a["person"]["display_name"]: a["completion"] for a in data["assignees"]}

    alex_done = _send(
        api_for(people.alex),
        "post",
        f"{API}/my/homework/{hw.pk}/complete",
        {"note": "Done, and it helped.", "audience": "partner_therapist"},
    ).json()
    sam_done = _send(
        api_for(people.sam),
        "post",
        f"{API}/my/homework/{hw.pk}/complete",
        {"audience": "partner"},
    ).json()
    # Shared with the therapist, but Alex consented to journal entries only.
    assert marks() == {"Alex": None, "Sam": None}
    assert lee.get(f"{API}/completions/{alex_done['id']}").status_code == 404
    assert _consent(api_for(people.alex), link.pk, ["journal", "homework"]).status_code == 200
    seen = marks()
    assert seen["Alex"]["id"] == alex_done["id"] and seen["Sam"] is None
    # The couple view shows the same.
    [row] = lee.get(f"{API}/caseload/{link.pk}").json()["homework"]
    assert {a["person"]["display_name"]: bool(a["completion"]) for a in row["assignees"]} == {
        "Alex": True,
        "Sam": False,
    }
    # Opening it reads it, and Alex sees that Dr. Lee did.
    read = lee.get(f"{API}/completions/{alex_done['id']}")
    assert read.status_code == 200 and read.json()["note"] == "Done, and it helped."
    assert AuditEvent.objects.filter(
        owner=people.alex, actor=people.lee, action=AuditEvent.Action.READ
    ).exists()
    # Sam consenting to homework does not show a completion she kept for her partner.
    assert _consent(api_for(people.sam), link.pk, ["homework"]).status_code == 200
    assert marks()["Sam"] is None
    assert lee.get(f"{API}/completions/{sam_done['id']}").status_code == 404
    # Each partner reads the other's (both chose an audience with the partner).
    assert api_for(people.sam).get(f"{API}/completions/{alex_done['id']}").status_code == 200
    assert api_for(people.alex).get(f"{API}/completions/{sam_done['id']}").status_code == 200
    # Everyone else: 404, like missing.
    readers = {people.alex.pk, people.sam.pk, people.lee.pk}
    for name, user in _everyone(people).items():
        if user.pk not in readers:
            response = api_for(user).get(f"{API}/completions/{alex_done['id']}")
            assert response.status_code == 404 and response.json() == NOT_FOUND, name
    # The list follows the same rule.
    listed = {c["id"] for c in lee.get(f"{API}/completions").json()}
    assert listed == {alex_done["id"]}
    assert api_for(people.casey).get(f"{API}/completions").json() == []


def test_only_the_author_changes_a_completions_audience(people, api_for):
    hw = _homework(people, assignees=[people.alex])
    done = _send(api_for(people.alex), "post", f"{API}/my/homework/{hw.pk}/complete").json()
    url = f"{API}/completions/{done['id']}/audience"
    _assert_404_for_others(people, api_for, [people.alex], "put", url, {"audience": "me"})
    changed = _send(api_for(people.alex), "put", url, {"audience": "me"})
    assert changed.status_code == 200 and changed.json()["audience"] == "me"
    assert api_for(people.sam).get(f"{API}/completions/{done['id']}").status_code == 404

    # Taking it back is the author's alone; the homework is open again.
    gone = f"{API}/completions/{done['id']}"
    _assert_404_for_others(people, api_for, [people.alex], "delete", gone)
    assert _send(api_for(people.alex), "delete", gone).status_code == 204
    [mine] = api_for(people.alex).get(f"{API}/my/homework").json()
    assert mine["completion"] is None


# --- appointments ----------------------------------------------------------------------------


def test_appointments_are_the_therapists_and_shown_to_the_couple(people, api_for):
    link = _link(people)
    lee = api_for(people.lee)
    when = (timezone.now() + timedelta(days=7)).replace(microsecond=0)
    url = f"{API}/caseload/{link.pk}/appointments"
    made = _send(lee, "post", url, {"starts_at": when.isoformat(), "kind": "booster"})
    assert made.status_code == 201, made.content
    appointment = made.json()
    assert appointment["kind"] == "booster" and appointment["minutes"] == 50
    [row] = lee.get(f"{API}/caseload").json()
    assert row["next_appointment"] is not None
    mine = {
        lk["therapist"]["display_name"]: lk
        for lk in api_for(people.sam).get(f"{API}/my/links").json()
    }
    assert [a["id"] for a in mine["Dr. Lee"]["appointments"]] == [appointment["id"]]
    assert mine["Dr. Noor"]["appointments"] == []

    bad = _send(lee, "post", url, {"starts_at": when.isoformat(), "minutes": 5})
    assert bad.status_code == 422 and _locs(bad) == [["body", "minutes"]]
    _assert_404_for_others(
        people, api_for, [people.lee], "post", url, {"starts_at": when.isoformat()}
    )
    cancel = f"{API}/appointments/{appointment['id']}"
    _assert_404_for_others(people, api_for, [people.lee], "delete", cancel)
    assert _send(lee, "delete", cancel).status_code == 204
    assert Appointment.objects.get().cancelled_at is not None
    assert _send(lee, "delete", cancel).status_code == 404


# --- private notes ---------------------------------------------------------------------------


def test_private_notes_are_the_therapists_alone(people, api_for):
    link = _link(people)
    lee = api_for(people.lee)
    url = f"{API}/caseload/{link.pk}/notes"
    made = _send(
        lee,
        "post",
        url,
        {
            "kind": "referral",
            "on_date": timezone.localdate().isoformat(),
            "body": "Suggest a check with the GP about sleep.",
            "referral_to": "GP",
        },
    )
    assert made.status_code == 201, made.content
    note = made.json()
    assert note["version"] == 1 and note["referral_to"] == "GP"
    assert [n["id"] for n in lee.get(url).json()] == [note["id"]]
    one = f"{API}/notes/{note['id']}"
    assert lee.get(one).json()["body"] == "Suggest a check with the GP about sleep."

    edited = _send(lee, "put", one, {"version": 1, "body": "Referred to the GP for sleep."})
    assert edited.status_code == 200 and edited.json()["version"] == 2
    stale = _send(lee, "put", one, {"version": 1, "body": "An older edit."})
    assert stale.status_code == 412
    assert SessionNote.objects.get().body == "Referred to the GP for sleep."
    bad = _send(lee, "put", one, {"version": 2, "body": ""})
    assert bad.status_code == 422 and _locs(bad) == [["body", "body"]]
    missing = _send(lee, "put", one, {"body": "No version"})
    assert missing.status_code == 422 and ["body", "version"] in _locs(missing)

    # Nobody else: not the couple, not another therapist, not the clinic administrator.
    _assert_404_for_others(people, api_for, [people.lee], "get", url)
    _assert_404_for_others(
        people,
        api_for,
        [people.lee],
        "post",
        url,
        {"on_date": timezone.localdate().isoformat(), "body": "x"},
    )
    _assert_404_for_others(people, api_for, [people.lee], "get", one)
    _assert_404_for_others(people, api_for, [people.lee], "put", one, {"version": 2, "body": "x"})
    _assert_404_for_others(people, api_for, [people.lee], "delete", one)
    assert SessionNote.objects.count() == 1

    assert _send(lee, "delete", one).status_code == 204
    assert lee.get(one).status_code == 404


# --- ending a link, the policy ---------------------------------------------------------------


def test_either_partner_or_the_therapist_ends_a_link(people, api_for):
    link = _link(people)
    url = f"{API}/my/links/{link.pk}/end"
    # The therapist ends theirs from the caseload, not from the couple's side.
    for name, user in _others(people, people.alex, people.sam):
        assert _send(api_for(user), "post", url).status_code == 404, name
    assert _send(api_for(people.sam), "post", url).status_code == 204
    link.refresh_from_db()
    assert link.ended_at is not None
    assert not Consent.objects.filter(link=link, withdrawn_at__isnull=True).exists()
    assert api_for(people.lee).get(f"{API}/caseload").json() == []

    noor = _link(people, people.noor)
    end = f"{API}/caseload/{noor.pk}/end"
    _assert_404_for_others(people, api_for, [people.noor], "post", end)
    assert _send(api_for(people.noor), "post", end).status_code == 204
    assert _send(api_for(people.noor), "post", end).status_code == 404


def test_the_confidences_policy_is_the_therapists_own(people, api_for):
    lee = api_for(people.lee)
    response = _send(lee, "put", f"{API}/policy", {"accepts_confidences": False})
    assert response.status_code == 200 and response.json() == {"accepts_confidences": False}
    people.lee.refresh_from_db()
    assert people.lee.accepts_confidences is False
    for user in (people.alex, people.morgan):
        denied = _send(api_for(user), "put", f"{API}/policy", {"accepts_confidences": True})
        assert denied.status_code == 404
    wrong = _send(lee, "put", f"{API}/policy", {"accepts_confidences": "perhaps"})
    assert wrong.status_code == 422 and _locs(wrong) == [["body", "accepts_confidences"]]


# --- the clinic administrator ----------------------------------------------------------------


def test_the_clinic_administrator_manages_therapists_only(people, api_for, clinic):
    morgan = api_for(people.morgan)
    [lee] = morgan.get(f"{API}/admin/therapists").json()
    assert lee["therapist"]["display_name"] == "Dr. Lee"
    for name, user in _others(people, people.morgan):
        assert api_for(user).get(f"{API}/admin/therapists").status_code == 404, name

    invited = _send(morgan, "post", f"{API}/admin/invitations", {"email": "new@example.test"})
    assert invited.status_code == 201 and invited.json()["token"]
    bad = _send(morgan, "post", f"{API}/admin/invitations", {"email": "nobody"})
    assert bad.status_code == 422 and _locs(bad) == [["body", "email"]]
    assert (
        _send(
            api_for(people.lee), "post", f"{API}/admin/invitations", {"email": "a@b.c"}
        ).status_code
        == 404
    )

    newcomer = make_user("new@example.test", "Dr. New")
    joined = _send(
        api_for(newcomer), "post", f"{API}/join-clinic", {"token": invited.json()["token"]}
    )
    assert joined.status_code == 200 and joined.json()["clinic"] == "Harbour"
    newcomer.refresh_from_db()
    assert newcomer.role == "therapist"
    assert len(morgan.get(f"{API}/admin/therapists").json()) == 2

    assert morgan.get(f"{API}/admin/invitations").json() == []  # used: no longer open
    spare = _send(morgan, "post", f"{API}/admin/invitations", {"email": "b@example.test"}).json()
    [listed] = morgan.get(f"{API}/admin/invitations").json()
    assert listed["email"] == "b@example.test" and listed["token"] is None
    cancel = f"{API}/admin/invitations/{spare['id']}"
    _assert_404_for_others(people, api_for, [people.morgan], "delete", cancel)
    assert _send(morgan, "delete", cancel).status_code == 204
    assert _send(morgan, "delete", cancel).status_code == 404
    assert morgan.get(f"{API}/admin/invitations").json() == []

    url = f"{API}/admin/members/{lee['member_id']}"
    _assert_404_for_others(people, api_for, [people.morgan], "delete", url)
    assert _send(morgan, "delete", url).status_code == 204
    assert ClinicMember.objects.get(pk=lee["member_id"]).ended_at is not None
    # The couple's link with Dr. Lee is the couple's: it stays.
    assert _link(people).ended_at is None


def test_the_administrator_of_another_clinic_sees_none_of_this_one(people, api_for, clinic):
    other_admin = make_user("admin2@example.test", "Avery", role="clinic_admin")
    services.clinic_create(name="Elsewhere", admin=other_admin)
    member = ClinicMember.objects.get(user=people.lee)
    avery = api_for(other_admin)
    assert avery.get(f"{API}/admin/therapists").json() == []
    assert _send(avery, "delete", f"{API}/admin/members/{member.pk}").status_code == 404


# --- the OpenAPI document --------------------------------------------------------------------


def test_every_operation_is_tagged_declared_and_strict():
    doc = Client().get("/api/openapi.json", secure=True).json()
    paths = {p: ops for p, ops in doc["paths"].items() if p.startswith(API)}
    assert len(paths) >= 20
    for path, ops in paths.items():
        for method, op in ops.items():
            where = f"{method.upper()} {path}"
            assert op["tags"] == ["clinic"], where
            assert {"401", "422"} <= set(op["responses"]), where
            if "{" in path:
                assert "404" in op["responses"], where
                tag = op["x-sharing"]
                assert tag["op"] in {
                    "clinician",
                    "couple",
                    "assignee",
                    "clinic_admin",
                    "read",
                    "author",
                }, where
    for name, schema in doc["components"]["schemas"].items():
        if name.endswith("In") or name in {"NotePut"}:
            assert schema.get("additionalProperties") is False, name


def test_a_new_couple_with_its_own_therapist_is_kept_apart(people, api_for):
    """A therapist never reaches another therapist's couple by guessing ids."""
    a = make_user("drew@example.test", "Drew")
    b = make_user("eli@example.test", "Eli")
    couple = make_couple(a, b)
    link = TherapistLink.objects.create(couple=couple, therapist=people.reyes)
    for url in (
        f"{API}/caseload/{link.pk}",
        f"{API}/caseload/{link.pk}/notes",
    ):
        assert api_for(people.lee).get(url).status_code == 404
    assert api_for(people.reyes).get(f"{API}/caseload/{link.pk}").status_code == 200
