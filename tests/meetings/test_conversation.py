"""The weekly meeting's conversation (SPEC C4, C9): notes only once revealed, the gentle
I-statement hint, reflections confirmed only by the partner who spoke, closing with a version
check; and the weekly meeting started once per couple and week."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from trellis.meetings import services
from trellis.meetings.models import Meeting, MeetingNote
from trellis.meetings.prompts import blame_hint


@pytest.fixture
def revealed(people, meeting):
    for user in (people.alex, people.sam):
        services.answer_save(author=user, meeting=meeting, answers={"p0": "Thanks."}, submit=True)
    meeting.refresh_from_db()
    assert meeting.revealed_at is not None
    return meeting


def _note(client, meeting, **data):
    return client.post(reverse("meetings:note_add", args=[meeting.pk]), data)


def test_the_conversation_opens_with_the_reveal(people, meeting, client_for, api_for):
    response = _note(client_for(people.alex), meeting, kind="note", text="Too early.")
    assert response.status_code == 400
    assert b"The conversation opens once you have both answered." in response.content
    api = api_for(people.alex).post(
        f"/api/meetings/meetings/{meeting.pk}/notes",
        data=json.dumps({"kind": "note", "text": "Too early."}),
        content_type="application/json",
    )
    assert api.status_code == 422
    assert api.json()["detail"][0]["loc"] == ["body", "text"]
    assert not MeetingNote.objects.exists()


@pytest.mark.parametrize(
    "text",
    ["You always leave early.", "you never listen", "  You should call more.", "Why do you sigh?"],
)
def test_blame_gets_a_gentle_hint_and_is_kept_only_when_asked(people, revealed, client_for, text):
    client = client_for(people.alex)
    response = _note(client, revealed, kind="i_statement", text=text)
    assert response.status_code == 200
    assert "I felt … when … because …".encode() in response.content
    assert b'name="keep_wording"' in response.content
    assert text.strip().encode() in response.content  # the draft is kept in the box
    assert not MeetingNote.objects.exists()
    response = _note(client, revealed, kind="i_statement", text=text, keep_wording="1")
    assert response.status_code == 302
    note = MeetingNote.objects.get()
    assert (note.kind, note.text, note.author) == ("i_statement", text.strip(), people.alex)


def test_an_i_statement_needs_no_hint(people, revealed, client_for):
    client = client_for(people.alex)
    response = _note(
        client,
        revealed,
        kind="i_statement",
        felt="lonely",
        when="the evening went quiet",
        because="I missed you",
        would_like="a walk after dinner",
    )
    assert response.status_code == 302
    assert MeetingNote.objects.get().text == (
        "I felt lonely when the evening went quiet because I missed you; "
        "I would like a walk after dinner."
    )
    assert blame_hint("I felt hurt when you left.") == ""
    assert blame_hint("You make me so angry") != ""


def test_notes_from_both_partners_are_all_kept(people, revealed, client_for, api_for):
    assert (
        _note(client_for(people.alex), revealed, kind="note", text="Alex's note").status_code == 302
    )
    response = api_for(people.sam).post(
        f"/api/meetings/meetings/{revealed.pk}/notes",
        data=json.dumps({"kind": "next_step", "text": "Sam's next step"}),
        content_type="application/json",
    )
    assert response.status_code == 201
    assert sorted(MeetingNote.objects.values_list("text", flat=True)) == [
        "Alex's note",
        "Sam's next step",
    ]
    page = client_for(people.sam).get(reverse("meetings:detail", args=[revealed.pk]))
    assert b"Alex&#x27;s note" in page.content and b"Sam&#x27;s next step" in page.content


def test_a_reflection_is_confirmed_only_by_the_partner_who_spoke(
    people, revealed, client_for, api_for
):
    _note(client_for(people.sam), revealed, kind="reflection", text="I heard you felt alone.")
    reflection = MeetingNote.objects.get()
    confirm = reverse("meetings:note_confirm", args=[reflection.pk])
    # Not the author, not a therapist, not anyone outside the couple.
    for who in (people.sam, people.lee, people.casey, people.pat):
        assert client_for(who).post(confirm, {"confirmed": "yes"}).status_code == 404
        api = api_for(who).post(
            f"/api/meetings/notes/{reflection.pk}/confirm",
            data=json.dumps({"confirmed": True}),
            content_type="application/json",
        )
        assert api.status_code == 404
    reflection.refresh_from_db()
    assert reflection.confirmed is None
    page = client_for(people.alex).get(reverse("meetings:detail", args=[revealed.pk]))
    assert confirm.encode() in page.content  # offered to Alex...
    page = client_for(people.sam).get(reverse("meetings:detail", args=[revealed.pk]))
    assert confirm.encode() not in page.content  # ...not to Sam
    assert client_for(people.alex).post(confirm, {"confirmed": "no"}).status_code == 302
    reflection.refresh_from_db()
    assert reflection.confirmed is False
    api = api_for(people.alex).post(
        f"/api/meetings/notes/{reflection.pk}/confirm",
        data=json.dumps({"confirmed": True}),
        content_type="application/json",
    )
    assert api.status_code == 200 and api.json()["confirmed"] is True


def test_only_a_reflection_can_be_confirmed(people, revealed, client_for):
    _note(client_for(people.sam), revealed, kind="note", text="Just a note.")
    note = MeetingNote.objects.get()
    response = client_for(people.alex).post(
        reverse("meetings:note_confirm", args=[note.pk]), {"confirmed": "yes"}
    )
    assert response.status_code == 404
    note.refresh_from_db()
    assert note.confirmed is None


def test_closing_with_a_stale_version_is_refused(people, revealed, client_for, api_for):
    version = revealed.version
    # Sam closes first...
    response = client_for(people.sam).post(
        reverse("meetings:close", args=[revealed.pk]), {"version": version}
    )
    assert response.status_code == 302
    revealed.refresh_from_db()
    assert revealed.closed_at is not None and revealed.version == version + 1
    closed_at = revealed.closed_at
    # ...Alex, on a page loaded before, is told and nothing changes.
    response = client_for(people.alex).post(
        reverse("meetings:close", args=[revealed.pk]), {"version": version}, follow=True
    )
    assert b"The meeting changed a moment ago" in response.content
    response = api_for(people.alex).post(
        f"/api/meetings/meetings/{revealed.pk}/close",
        data=json.dumps({"version": version}),
        content_type="application/json",
    )
    assert response.status_code == 412
    assert "changed since you loaded it" in response.json()["detail"]
    revealed.refresh_from_db()
    assert (revealed.closed_at, revealed.version) == (closed_at, version + 1)
    # A closed meeting takes no more notes from the page.
    page = client_for(people.alex).get(reverse("meetings:detail", args=[revealed.pk]))
    assert b"This meeting is closed." in page.content


def test_a_meeting_is_started_once_a_week_whoever_starts_it(people, client_for, api_for):
    first = client_for(people.alex).post(reverse("meetings:list"), {"prompt_set": "weekly"})
    assert first.status_code == 302
    meeting = Meeting.objects.get()
    assert first["Location"] == reverse("meetings:detail", args=[meeting.pk])
    again = client_for(people.sam).post(reverse("meetings:list"), {"prompt_set": "closeness"})
    assert again["Location"] == first["Location"]
    api = api_for(people.sam).post(
        "/api/meetings/meetings",
        data=json.dumps({"prompt_set": "weekly"}),
        content_type="application/json",
    )
    assert api.status_code == 200 and api.json()["id"] == str(meeting.pk)
    assert Meeting.objects.count() == 1
    assert meeting.prompt_set_title == "Our weekly meeting"


def test_an_unknown_prompt_set_is_refused_and_named(people, api_for):
    response = api_for(people.alex).post(
        "/api/meetings/meetings",
        data=json.dumps({"prompt_set": "not-a-set"}),
        content_type="application/json",
    )
    assert response.status_code == 422
    assert ["body", "prompt_set"] in [d["loc"] for d in response.json()["detail"]]
    assert not Meeting.objects.exists()


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("answer", {"answers": {"p99": "x"}}, "answers.p99"),
        ("answer", {"answers": {"p0": "x" * 4001}}, "answers.p0"),
        ("answer", {"answers": {"p0": ""}, "submit": True}, "answers"),
        ("answer", {"answers": {"p0": "x"}, "audience": "me"}, "audience"),
        ("answer", {"answers": {"p0": "x"}, "extra": 1}, "extra"),
        ("answer", {}, "answers"),
        ("close", {"version": 0}, "version"),
        ("close", {}, "version"),
    ],
)
def test_meeting_api_errors_name_the_field(people, meeting, api_for, path, body, field):
    method = "put" if path == "answer" else "post"
    response = getattr(api_for(people.alex), method)(
        f"/api/meetings/meetings/{meeting.pk}/{path}",
        data=json.dumps(body),
        content_type="application/json",
    )
    assert response.status_code == 422
    locs = [d["loc"] for d in response.json()["detail"]]
    assert any(field in loc for loc in locs), locs


@pytest.mark.parametrize(
    ("body", "field"),
    [({"kind": "rant", "text": "x"}, "kind"), ({"text": ""}, "text"), ({"kind": "note"}, "text")],
)
def test_note_api_errors_name_the_field(people, revealed, api_for, body, field):
    response = api_for(people.alex).post(
        f"/api/meetings/meetings/{revealed.pk}/notes",
        data=json.dumps(body),
        content_type="application/json",
    )
    assert response.status_code == 422
    assert any(field in d["loc"] for d in response.json()["detail"])
    assert not MeetingNote.objects.exists()
