"""THE REVEAL RULE (SPEC C4, "nobody goes first"): neither partner sees the other's answers
before both have submitted — through any channel: the meeting page, the answer page, the API
(meeting and answer), every other page and API list, and the other partner's JSON export (an
export only ever holds one's own). A draft is never visible; a submission withdrawn before the
reveal hides it again; once both have submitted both are revealed together and become final.
A therapist with consent for meeting answers reads them only after the reveal, and only those
shared with "my partner and our therapist"."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from tests.personas import give_consent
from tests.security.matrix import (
    discover_api,
    discover_pages,
    mark_reauthenticated,
    openapi_doc,
    walk_urls,
)
from trellis.meetings import services
from trellis.meetings.models import MeetingAnswer
from trellis.sharing.models import AuditEvent

ALEX_WORDS = "alexsaysthankyouforthewalk"
SAM_WORDS = "samsaysilikedourslowbreakfast"


def _answer_page(client: Client, meeting, words: str, action: str, audience="partner"):
    return client.post(
        reverse("meetings:answer_save", args=[meeting.pk]),
        {"action": action, "audience": audience, "answer_p0": words, "answer_p3": f"{words}-2"},
    )


def _api_meeting(client: Client, meeting) -> dict:
    response = client.get(f"/api/meetings/meetings/{meeting.pk}")
    assert response.status_code == 200
    return response.json()


def _export(client: Client, user) -> bytes:
    mark_reauthenticated(client, user)
    response = client.post(reverse("accounts:export_download"))
    assert response.status_code == 200
    return response.content


def _everywhere(client: Client, user, meeting, answer) -> dict[str, bytes]:
    """What `user` can see of the meeting through every channel, by channel."""
    seen = {
        "meeting page": client.get(reverse("meetings:detail", args=[meeting.pk])).content,
        "meeting API": client.get(f"/api/meetings/meetings/{meeting.pk}").content,
        "export": _export(client, user),
    }
    if answer is not None:
        page = client.get(reverse("meetings:answer", args=[answer.pk]))
        api = client.get(f"/api/meetings/answers/{answer.pk}")
        seen["answer page"] = page.content if page.status_code == 200 else b""
        seen["answer API"] = api.content if api.status_code == 200 else b""
    pages = discover_pages(walk_urls())
    for route in pages.plain_pages:
        seen[f"page {route.name}"] = client.get(reverse(route.name)).content
    for path in discover_api(openapi_doc(), pages.api_id_paths).plain_gets:
        seen[f"API {path}"] = client.get(path).content
    for op in discover_api(openapi_doc()).collection_ops:
        seen[f"API {op.path}"] = client.get(op.path).content
    return seen


def _shows(seen: dict[str, bytes], words: str) -> set[str]:
    return {channel for channel, content in seen.items() if words.encode() in content}


def _alexs(meeting) -> MeetingAnswer:
    return MeetingAnswer.objects.get(meeting=meeting, author__email="alex@example.test")


def test_nobody_goes_first_through_any_channel(people, meeting, client_for):
    alex, sam = client_for(people.alex), client_for(people.sam)

    # 1. Alex's draft: only Alex sees it.
    assert _answer_page(alex, meeting, ALEX_WORDS, "save").status_code == 302
    answer = _alexs(meeting)
    assert answer.submitted_at is None
    assert _shows(_everywhere(sam, people.sam, meeting, answer), ALEX_WORDS) == set()
    mine = _everywhere(alex, people.alex, meeting, answer)
    assert {"meeting page", "meeting API", "export", "answer page", "answer API"} <= _shows(
        mine, ALEX_WORDS
    )

    # 2. Submitted: still nobody but Alex.
    assert _answer_page(alex, meeting, ALEX_WORDS, "submit").status_code == 302
    answer.refresh_from_db()
    assert answer.submitted_at is not None
    assert _shows(_everywhere(sam, people.sam, meeting, answer), ALEX_WORDS) == set()
    assert sam.get(reverse("meetings:answer", args=[answer.pk])).status_code == 404
    assert sam.get(f"/api/meetings/answers/{answer.pk}").status_code == 404
    assert [a["is_mine"] for a in _api_meeting(sam, meeting)["answers"]] == []

    # 3. Withdrawn, and then Sam submits: no reveal (Alex is back to a draft).
    assert _answer_page(alex, meeting, ALEX_WORDS, "withdraw").status_code == 302
    assert _answer_page(sam, meeting, SAM_WORDS, "submit").status_code == 302
    meeting.refresh_from_db()
    assert meeting.revealed_at is None
    sams = MeetingAnswer.objects.get(meeting=meeting, author=people.sam)
    assert _shows(_everywhere(sam, people.sam, meeting, answer), ALEX_WORDS) == set()
    assert _shows(_everywhere(alex, people.alex, meeting, sams), SAM_WORDS) == set()
    assert not AuditEvent.objects.filter(action="read", entry_type="meeting_answer").exists()

    # 4. Alex submits again: both are revealed, together, to both.
    assert _answer_page(alex, meeting, ALEX_WORDS, "submit").status_code == 302
    meeting.refresh_from_db()
    assert meeting.revealed_at is not None
    for client, user, theirs, words in (
        (sam, people.sam, answer, ALEX_WORDS),
        (alex, people.alex, sams, SAM_WORDS),
    ):
        seen = _shows(_everywhere(client, user, meeting, theirs), words)
        assert {"meeting page", "meeting API", "answer page", "answer API"} <= seen
        # An export holds one's own words only, before and after the reveal.
        assert "export" not in seen
    assert set(
        AuditEvent.objects.filter(action="read", entry_type="meeting_answer").values_list(
            "actor_id", "owner_id"
        )
    ) == {(people.sam.pk, people.alex.pk), (people.alex.pk, people.sam.pk)}


def test_after_the_reveal_answers_are_final(people, meeting, client_for, api_for):
    alex, sam = client_for(people.alex), client_for(people.sam)
    _answer_page(alex, meeting, ALEX_WORDS, "submit")
    _answer_page(sam, meeting, SAM_WORDS, "submit")
    meeting.refresh_from_db()
    assert meeting.revealed_at is not None
    before = list(MeetingAnswer.objects.order_by("pk").values())

    for action in ("save", "submit", "withdraw"):
        response = _answer_page(alex, meeting, "second thoughts", action)
        assert response.status_code == 400
        assert b"Both answers were revealed; they are final now." in response.content
    api = api_for(people.alex)
    response = api.put(
        f"/api/meetings/meetings/{meeting.pk}/answer",
        data=json.dumps({"answers": {"p0": "second thoughts"}, "submit": True}),
        content_type="application/json",
    )
    assert response.status_code == 422
    assert response.json()["detail"] == [
        {
            "loc": ["body", "answers"],
            "msg": "Both answers were revealed; they are final now.",
            "type": "value_error",
        }
    ]
    assert api.delete(f"/api/meetings/meetings/{meeting.pk}/answer/submission").status_code == 422
    assert list(MeetingAnswer.objects.order_by("pk").values()) == before
    # The page no longer offers to change anything; the conversation is open.
    page = alex.get(reverse("meetings:detail", args=[meeting.pk]))
    assert reverse("meetings:answer_save", args=[meeting.pk]).encode() not in page.content
    assert reverse("meetings:note_add", args=[meeting.pk]).encode() in page.content


def test_the_api_follows_the_same_rule(people, meeting, api_for):
    alex, sam = api_for(people.alex), api_for(people.sam)

    def put(client, words, submit):
        return client.put(
            f"/api/meetings/meetings/{meeting.pk}/answer",
            data=json.dumps({"answers": {"p0": words}, "submit": submit}),
            content_type="application/json",
        )

    assert put(alex, ALEX_WORDS, False).json()["revealed"] is False
    assert ALEX_WORDS.encode() not in sam.get(f"/api/meetings/meetings/{meeting.pk}").content
    assert put(alex, ALEX_WORDS, True).json()["revealed"] is False
    assert ALEX_WORDS.encode() not in sam.get(f"/api/meetings/meetings/{meeting.pk}").content
    withdrawn = alex.delete(f"/api/meetings/meetings/{meeting.pk}/answer/submission").json()
    assert [a["submitted"] for a in withdrawn["answers"]] == [False]
    assert put(sam, SAM_WORDS, True).json()["revealed"] is False
    assert SAM_WORDS.encode() not in alex.get(f"/api/meetings/meetings/{meeting.pk}").content
    data = put(alex, ALEX_WORDS, True).json()
    assert data["revealed"] is True
    assert {a["answers"]["p0"] for a in data["answers"]} == {ALEX_WORDS, SAM_WORDS}
    seen_by_sam = sam.get(f"/api/meetings/meetings/{meeting.pk}").json()
    assert {(a["is_mine"], a["answers"]["p0"]) for a in seen_by_sam["answers"]} == {
        (True, SAM_WORDS),
        (False, ALEX_WORDS),
    }


def test_a_therapist_reads_answers_only_after_the_reveal_and_only_as_shared(
    people, meeting, client_for
):
    give_consent(people.alex, people.lee, people.couple, scopes=["meeting_answer"])
    give_consent(people.sam, people.lee, people.couple, scopes=["meeting_answer"])
    alex, sam, lee = client_for(people.alex), client_for(people.sam), client_for(people.lee)
    _answer_page(alex, meeting, ALEX_WORDS, "submit", audience="partner_therapist")
    _answer_page(sam, meeting, SAM_WORDS, "submit", audience="partner")  # for Alex alone
    meeting.refresh_from_db()
    assert meeting.revealed_at is not None
    answers = {a.author_id: a for a in MeetingAnswer.objects.filter(meeting=meeting)}
    alexs, sams = answers[people.alex.pk], answers[people.sam.pk]
    assert lee.get(reverse("meetings:answer", args=[alexs.pk])).status_code == 200
    assert lee.get(f"/api/meetings/answers/{alexs.pk}").status_code == 200
    assert lee.get(reverse("meetings:answer", args=[sams.pk])).status_code == 404
    assert lee.get(f"/api/meetings/answers/{sams.pk}").status_code == 404
    # The meeting itself belongs to the couple: the therapist never opens it.
    assert lee.get(reverse("meetings:detail", args=[meeting.pk])).status_code == 404
    assert lee.get(f"/api/meetings/meetings/{meeting.pk}").status_code == 404
    # Alex sees that Dr. Lee read it.
    assert AuditEvent.objects.filter(
        action="read", owner=people.alex, actor=people.lee, actor_role="therapist"
    ).exists()


def test_before_the_reveal_the_therapist_reads_nothing(people, meeting, client_for):
    give_consent(people.alex, people.lee, people.couple, scopes=["meeting_answer"])
    alex, lee = client_for(people.alex), client_for(people.lee)
    _answer_page(alex, meeting, ALEX_WORDS, "submit", audience="partner_therapist")
    answer = _alexs(meeting)
    assert lee.get(reverse("meetings:answer", args=[answer.pk])).status_code == 404
    assert lee.get(f"/api/meetings/answers/{answer.pk}").status_code == 404
    assert not AuditEvent.objects.filter(actor=people.lee, action="read").exists()


@pytest.mark.parametrize("who", ["pat", "casey", "noor", "morgan"])
def test_nobody_outside_the_couple_opens_the_meeting(people, meeting, client_for, who):
    client = client_for(getattr(people, who))
    for url in (
        reverse("meetings:detail", args=[meeting.pk]),
        f"/api/meetings/meetings/{meeting.pk}",
    ):
        assert client.get(url).status_code == 404
    response = _answer_page(client, meeting, "sneaky", "submit")
    assert response.status_code == 404
    assert not MeetingAnswer.objects.exists()


def test_leaving_before_the_reveal_keeps_the_answers_hidden(people, meeting, client_for):
    from trellis.couples import services as couples

    alex, sam = client_for(people.alex), client_for(people.sam)
    _answer_page(alex, meeting, ALEX_WORDS, "submit")
    couples.couple_leave(user=people.alex)
    # Sam can no longer submit into an ended space, and nothing was revealed.
    assert _answer_page(sam, meeting, SAM_WORDS, "submit").status_code == 404
    meeting.refresh_from_db()
    assert meeting.revealed_at is None
    with pytest.raises(PermissionError):
        services.answer_save(author=people.sam, meeting=meeting, answers={"p0": "x"}, submit=True)
    answer = _alexs(meeting)
    assert sam.get(f"/api/meetings/answers/{answer.pk}").status_code == 404
