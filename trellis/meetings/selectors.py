"""Reads of the weekly meeting. Meetings are couple-scoped (current members only); answers and
notes are entries and always come through sharing's policy, including its reveal gate."""

from __future__ import annotations

import json
from typing import Any

from django.db.models import QuerySet, Subquery
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


def _my_couple(user: Any) -> Any:
    """The couple space the person is an active member of (a one-column subquery)."""
    return Membership.objects.filter(user_id=user.pk, left_at__isnull=True).values("couple_id")


def meetings_for_member(user: Any) -> QuerySet[Meeting]:
    return Meeting.objects.filter(couple_id__in=_my_couple(user))


# What a list of meetings shows (not the prompts: a JSON snapshot per meeting).
SUMMARY_FIELDS = ("id", "couple_id", "week_of", "prompt_set_title", "revealed_at", "closed_at")


def meeting_summaries_for_member(user: Any, *, limit: int) -> list[Meeting]:
    """The latest `limit` meetings of the person's couple space, latest first, summary fields
    only. `couple = (subquery)` rather than `IN`: a person is an active member of at most one
    couple space (Membership's `one_active_couple_per_user`), and with a single value the
    database walks the (couple, week_of) unique index backwards and stops after `limit` rows
    instead of sorting every week the couple ever had."""
    couple = Subquery(_my_couple(user)[:1])
    return list(
        Meeting.objects.filter(couple_id=couple).only(*SUMMARY_FIELDS).order_by("-week_of")[:limit]
    )


def meeting_for_member(user: Any, pk: Any) -> Meeting:
    meeting = meetings_for_member(user).filter(pk=_parse_pk(pk)).first()
    if meeting is None:
        raise Http404
    return meeting


def meeting_entries_visible(
    reader: Any, meeting: Meeting, *, channel: str
) -> tuple[list[MeetingAnswer], list[MeetingNote]]:
    """A meeting's answers the reader may read and, once revealed, its conversation notes;
    the reads of both recorded in one INSERT."""
    answers = list(
        visible_to(reader, MeetingAnswer).filter(meeting=meeting).select_related("author")
    )
    notes = (
        list(visible_to(reader, MeetingNote).filter(meeting=meeting).select_related("author"))
        if meeting.revealed_at
        else []
    )
    record_reads(reader, [*answers, *notes], channel=channel)
    return answers, notes


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
