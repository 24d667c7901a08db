"""Reads of the weekly meeting. Meetings are couple-scoped (current members only); answers and
notes are entries and always come through sharing's policy, including its reveal gate."""

from __future__ import annotations

import json
from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from trellis.couples.models import Membership
from trellis.sharing.policy import (
    _parse_pk,
    get_own_or_404,
    get_visible_or_404,
    record_reads,
    visible_to,
)

from .models import Meeting, MeetingAnswer, MeetingNote


def meetings_for_member(user: Any) -> QuerySet[Meeting]:
    mine = Membership.objects.filter(user_id=user.pk, left_at__isnull=True).values("couple_id")
    return Meeting.objects.filter(couple_id__in=mine)


def meeting_for_member(user: Any, pk: Any) -> Meeting:
    meeting = meetings_for_member(user).filter(pk=_parse_pk(pk)).first()
    if meeting is None:
        raise Http404
    return meeting


def answers_visible(reader: Any, meeting: Meeting, *, channel: str) -> list[MeetingAnswer]:
    answers = list(
        visible_to(reader, MeetingAnswer).filter(meeting=meeting).select_related("author")
    )
    record_reads(reader, answers, channel=channel)
    return answers


def notes_visible(reader: Any, meeting: Meeting, *, channel: str) -> list[MeetingNote]:
    notes = list(visible_to(reader, MeetingNote).filter(meeting=meeting).select_related("author"))
    record_reads(reader, notes, channel=channel)
    return notes


def answer_for_reader(reader: Any, pk: Any, *, channel: str) -> MeetingAnswer:
    return get_visible_or_404(reader, MeetingAnswer, pk, channel=channel)


def note_for_reader(reader: Any, pk: Any, *, channel: str) -> MeetingNote:
    return get_visible_or_404(reader, MeetingNote, pk, channel=channel)


def note_for_author(author: Any, pk: Any) -> MeetingNote:
    return get_own_or_404(author, MeetingNote, pk)


def decoded(answer: MeetingAnswer | None) -> dict[str, str]:
    if answer is None:
        return {}
    try:
        data = json.loads(answer.answers or "{}")
    except json.JSONDecodeError:
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}
