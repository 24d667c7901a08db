"""The meeting list and page read only what they show (QUALITY P2): the list's summaries are
the couple's latest meetings exactly as before, and a meeting page records its answers' and
notes' reads together, with the partner's name next to their answers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from trellis.meetings import selectors, services
from trellis.meetings.models import Meeting
from trellis.sharing.models import AuditEvent


def _weeks(couple, n: int, start) -> None:
    Meeting.objects.bulk_create(
        Meeting(
            couple=couple,
            week_of=start - timedelta(weeks=k),
            prompt_set_title=f"Week {k}",
            prompts=[{"key": "p0", "section": "appreciation", "text": "?"}],
            revealed_at=timezone.now() if k % 2 else None,
        )
        for k in range(n)
    )


@pytest.mark.django_db
def test_summaries_are_the_latest_meetings_of_the_current_space(people, meeting):
    start = meeting.week_of - timedelta(weeks=1)
    _weeks(people.couple, 40, start)
    _weeks(people.old_couple, 5, start)  # Alex's and Pat's space, ended
    _weeks(people.other_couple, 5, start)
    for user in people.actors().values():
        if user is None:
            continue
        for limit in (1, 26, 52):
            expected = list(selectors.meetings_for_member(user).order_by("-week_of")[:limit])
            got = selectors.meeting_summaries_for_member(user, limit=limit)
            assert [m.pk for m in got] == [m.pk for m in expected], (user, limit)
    assert len(selectors.meeting_summaries_for_member(people.alex, limit=26)) == 26
    assert selectors.meeting_summaries_for_member(people.pat, limit=26) == []


@pytest.mark.django_db
def test_list_page_and_api_show_the_summaries(people, meeting, client_for):
    _weeks(people.couple, 30, meeting.week_of - timedelta(weeks=1))
    page = client_for(people.sam).get(reverse("meetings:list")).content.decode()
    shown = selectors.meeting_summaries_for_member(people.sam, limit=26)
    for m in shown:
        assert reverse("meetings:detail", args=[m.pk]) in page
    oldest = selectors.meetings_for_member(people.sam).order_by("-week_of")[26]
    assert reverse("meetings:detail", args=[oldest.pk]) not in page
    api = client_for(people.sam).get("/api/meetings/meetings").json()
    assert [m["id"] for m in api] == [
        str(m.pk) for m in selectors.meeting_summaries_for_member(people.sam, limit=52)
    ]


@pytest.mark.django_db
def test_a_revealed_meeting_records_answers_and_notes_and_names_the_partner(
    people, meeting, client_for
):
    for who, words in ((people.alex, "alex-words"), (people.sam, "sam-words")):
        services.answer_save(
            author=who, meeting=meeting, answers={"p0": words}, submit=True, audience="partner"
        )
    meeting.refresh_from_db()
    assert meeting.revealed_at is not None
    note = services.note_add(author=people.sam, meeting=meeting, kind="note", text="sam-note")
    page = client_for(people.alex).get(reverse("meetings:detail", args=[meeting.pk]))
    body = page.content.decode()
    assert "sam-words" in body and "sam-note" in body
    assert '<p class="who">Sam</p>' in body
    read = set(
        AuditEvent.objects.filter(actor=people.alex, action="read", channel="page").values_list(
            "entry_type", "entry_id"
        )
    )
    sams = meeting.answers.get(author=people.sam)
    assert read == {("meeting_answer", sams.pk), ("meeting_note", note.pk)}


@pytest.mark.django_db
def test_before_the_reveal_nothing_of_the_partner_is_read(people, meeting, client_for):
    services.answer_save(
        author=people.sam, meeting=meeting, answers={"p0": "sam-words"}, submit=True
    )
    page = client_for(people.alex).get(reverse("meetings:detail", args=[meeting.pk]))
    assert page.status_code == 200
    assert "sam-words" not in page.content.decode()
    assert not AuditEvent.objects.filter(actor=people.alex, action="read").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "fr"])
def test_python_items_are_the_template_byte_for_byte(people, meeting, language):
    from django.template import loader
    from django.utils import translation

    from trellis.meetings.cards import meeting_item

    _weeks(people.couple, 6, meeting.week_of - timedelta(weeks=1))
    Meeting.objects.filter(pk=meeting.pk).update(
        prompt_set_title='<i>Ours</i> & "theirs"', closed_at=timezone.now()
    )
    with translation.override(language):
        items = selectors.meeting_summaries_for_member(people.alex, limit=26)
        states = set()
        for m in items:
            expected = loader.render_to_string("meetings/_item.html", {"m": m})
            assert "\n" + str(meeting_item(m)) + "\n" == expected
            states.add(expected.rsplit("·", 1)[-1])
        assert len(states) == 3  # closed, talking, answering
