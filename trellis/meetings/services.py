"""Every write of the weekly meeting. The reveal happens inside a row lock on the meeting, so
two partners submitting at the same moment both land and the reveal happens exactly once."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from trellis.couples.models import Membership
from trellis.lib.dates import local_today
from trellis.sharing.audiences import Audience
from trellis.sharing.models import AuditEvent
from trellis.sharing.policy import audit
from trellis.sharing.services import current_couple_id, validate_audience

from .models import Meeting, MeetingAnswer, MeetingNote, PromptSet
from .prompts import BUILTIN_SETS, builtin_prompts

MAX_ANSWER = 4000
ANSWER_AUDIENCES = ("partner", "partner_therapist")


class MeetingStale(Exception):
    def __init__(self, current: Meeting):
        self.current = current


def week_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _member(user: Any, meeting: Meeting) -> bool:
    return Membership.objects.filter(
        user=user, couple_id=meeting.couple_id, left_at__isnull=True
    ).exists()


@transaction.atomic
def meeting_start(*, user: Any, prompt_set: str = "weekly") -> tuple[Meeting, bool]:
    """This week's meeting of the user's couple: started once, whoever starts it first."""
    couple_id = current_couple_id(user)
    if couple_id is None:
        raise ValidationError({"prompt_set": "Start a couple space first."})
    week = week_of(local_today(user.time_zone))
    existing = Meeting.objects.filter(couple_id=couple_id, week_of=week).first()
    if existing is not None:
        return existing, False
    if prompt_set in BUILTIN_SETS:
        title, prompts = builtin_prompts(prompt_set)
    else:
        ps = (
            PromptSet.objects.filter(pk=_uuid_or_none(prompt_set), archived_at__isnull=True)
            .filter(
                author__therapist_links__couple_id=couple_id,
                author__therapist_links__ended_at__isnull=True,
            )
            .prefetch_related("items")
            .first()
        )
        if ps is None or (ps.couple_id not in (None, couple_id)):
            raise ValidationError({"prompt_set": "Choose a set of prompts from the list."})
        title = ps.title
        prompts = [
            {"key": f"p{i}", "section": item.section, "text": item.text}
            for i, item in enumerate(ps.items.all())
        ]
    try:
        with transaction.atomic():
            meeting = Meeting.objects.create(
                couple_id=couple_id,
                week_of=week,
                prompt_set_title=title,
                prompts=prompts,
                created_by=user,
            )
    except IntegrityError:
        # The partner started it at the same moment: use theirs.
        return Meeting.objects.get(couple_id=couple_id, week_of=week), False
    return meeting, True


def _uuid_or_none(value: str) -> Any:
    import uuid

    try:
        return uuid.UUID(value)
    except (ValueError, TypeError):
        return None


def _clean_answers(meeting: Meeting, answers: dict[str, Any]) -> dict[str, str]:
    keys = {p["key"] for p in meeting.prompts}
    errors: dict[str, str] = {}
    clean: dict[str, str] = {}
    for key, value in (answers or {}).items():
        if key not in keys:
            errors[f"answers.{key}"] = "This meeting has no such prompt."
            continue
        text = str(value or "").strip()
        if len(text) > MAX_ANSWER:
            errors[f"answers.{key}"] = f"Keep each answer under {MAX_ANSWER:,} characters."
        clean[key] = text
    if errors:
        raise ValidationError(errors)
    return clean


@transaction.atomic
def answer_save(
    *,
    author: Any,
    meeting: Meeting,
    answers: dict[str, Any],
    submit: bool,
    audience: str = "partner",
) -> MeetingAnswer:
    """Save my answers as a draft, or submit them. Before the reveal a submitted answer may be
    edited (which makes it a draft again) or withdrawn; after the reveal it is final."""
    locked = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if not _member(author, locked):
        raise PermissionError("Only the couple's members answer its meeting.")
    if locked.revealed_at is not None:
        raise ValidationError({"answers": "Both answers were revealed; they are final now."})
    if audience not in ANSWER_AUDIENCES:
        raise ValidationError(
            {"audience": "Meeting answers are for your partner (and, if you wish, your therapist)."}
        )
    # Both answer audiences are open to every author (no consent needed to choose them).
    aud = Audience(audience)
    clean = _clean_answers(locked, answers)
    if submit and not any(clean.values()):
        raise ValidationError({"answers": "Answer at least one prompt before submitting."})
    now = timezone.now()
    answer = MeetingAnswer.objects.filter(meeting=locked, author=author).first()
    if answer is None:
        answer = MeetingAnswer(
            meeting=locked, author=author, couple_id=locked.couple_id, created_at=now
        )
    else:
        answer.version += 1
    answer.answers = json.dumps(clean)
    answer.audience = aud
    answer.couple_id = locked.couple_id
    answer.submitted_at = now if submit else None
    answer.updated_at = now
    answer.save()
    if submit:
        _reveal_if_both(locked, now)
    answer.meeting = locked  # as it is now (revealed or not), without another query
    return answer


def _reveal_if_both(locked: Meeting, now: Any) -> None:
    members = Membership.objects.filter(couple_id=locked.couple_id, left_at__isnull=True).values(
        "user_id"
    )
    submitted = MeetingAnswer.objects.filter(
        meeting=locked, author_id__in=members, submitted_at__isnull=False
    ).count()
    if submitted >= 2 and locked.revealed_at is None:
        locked.revealed_at = now
        locked.version += 1
        locked.save(update_fields=["revealed_at", "version"])


@transaction.atomic
def answer_withdraw(*, author: Any, meeting: Meeting) -> None:
    locked = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if locked.revealed_at is not None:
        raise ValidationError({"answers": "Both answers were revealed; they are final now."})
    MeetingAnswer.objects.filter(meeting=locked, author=author).update(submitted_at=None)


@transaction.atomic
def note_add(
    *, author: Any, meeting: Meeting, kind: str, text: str, audience: str = "partner"
) -> MeetingNote:
    if not _member(author, meeting):
        raise PermissionError("Only the couple's members write in its meeting.")
    if meeting.revealed_at is None:
        raise ValidationError({"text": "The conversation opens once you have both answered."})
    if kind not in MeetingNote.Kind.values:
        raise ValidationError({"kind": "Choose what kind of note this is."})
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": "Write something first."})
    if len(text) > MAX_ANSWER:
        raise ValidationError({"text": f"Keep it under {MAX_ANSWER:,} characters."})
    aud = validate_audience(author, audience, MeetingNote.entry_type_label)
    note = MeetingNote.objects.create(
        author=author,
        couple_id=meeting.couple_id,
        audience=aud,
        meeting=meeting,
        kind=kind,
        text=text,
    )
    audit(owner=author, actor=author, action=AuditEvent.Action.CREATED, entry=note)
    return note


@transaction.atomic
def reflection_confirm(*, speaker: Any, note: MeetingNote, confirmed: bool) -> MeetingNote:
    """The speaker answers "did I get that right?" about their partner's reflection. `note`
    must come from the sharing policy; the author cannot confirm their own reflection."""
    if (
        note.kind != MeetingNote.Kind.REFLECTION
        or note.author_id == speaker.pk
        or speaker.role != "member"
    ):
        raise PermissionError("Only the partner who spoke confirms a reflection.")
    locked = MeetingNote.objects.select_for_update().get(pk=note.pk)
    locked.confirmed = confirmed
    locked.save(update_fields=["confirmed"])
    return locked


@transaction.atomic
def meeting_close(*, user: Any, meeting: Meeting, expected_version: int) -> Meeting:
    locked = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if not _member(user, locked):
        raise PermissionError("Only the couple's members close its meeting.")
    if locked.version != expected_version:
        raise MeetingStale(locked)
    if locked.closed_at is None:
        locked.closed_at = timezone.now()
        locked.version += 1
        locked.save(update_fields=["closed_at", "version"])
    return locked
