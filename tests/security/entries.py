"""Per-entry-type hooks the security tests need: how to make an entry, and what a valid write
looks like on each author-only page and API operation.

When a new entry type is registered with trellis.sharing.registry, or a new author-only page or
API operation appears, the authorization matrix fails until a hook for it is added here. That is
on purpose: nothing gets past the matrix by being new.

Couple-scoped objects (a weekly meeting: it belongs to a couple space, not to an author, and
holds nobody's words) are not entry types; the pages and API operations that take their id are
tagged with the op "couple" and need a factory and valid requests here too.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from trellis.lib.dates import local_today
from trellis.sharing.services import allowed_audiences, current_couple_id

KEEP = object()


# --- making entries ----------------------------------------------------------------------------


def _anchor(entry: Any, couple_id: Any) -> Any:
    if couple_id is not KEEP:
        type(entry).objects.filter(pk=entry.pk).update(couple_id=couple_id)
        entry.refresh_from_db()
    return entry


def _make_journal(
    author: Any, audience: str, body: str, title: str, *, couple_id: Any = KEEP
) -> Any:
    from trellis.journal.models import JournalEntry
    from trellis.journal.services import journal_entry_create

    if audience in allowed_audiences(author, JournalEntry.entry_type_label):
        entry, _ = journal_entry_create(author=author, body=body, title=title, audience=audience)
        return _anchor(entry, couple_id)
    # "My therapist only" without a consented, confidence-accepting therapist is refused by the
    # service; the policy must still hold for such rows (they exist once consent ends).
    entry = JournalEntry.objects.create(
        author=author,
        couple_id=current_couple_id(author),
        audience=audience,
        title=title,
        body=body,
    )
    return _anchor(entry, couple_id)


def _free_day(model: Any, author: Any) -> Any:
    """A local day on which `author` has no row of `model` yet (one per person and day): the day
    before their earliest one, or yesterday. Read from the database, so it is right after a
    rollback too."""
    earliest = model.objects.filter(author=author).order_by("local_date").first()
    if earliest is None:
        return timezone.localdate() - timedelta(days=1)
    return earliest.local_date - timedelta(days=1)


def _make_checkin(
    author: Any, audience: str, body: str, title: str, *, couple_id: Any = KEEP
) -> Any:
    """A check-in on a day of its own (the form only ever writes today's, and any row must obey
    the policy, including audiences the service would refuse now)."""
    from trellis.checkins.models import DailyCheckin

    entry = DailyCheckin.objects.create(
        author=author,
        couple_id=current_couple_id(author),
        audience=audience,
        local_date=_free_day(DailyCheckin, author),
        mood=3,
        stress=2,
        sleep=4,
        closeness=3,
        safety=4,
        gratitude=title,
        note=body,
    )
    return _anchor(entry, couple_id)


def _make_trust_moment(
    author: Any, audience: str, body: str, title: str, *, couple_id: Any = KEEP
) -> Any:
    from trellis.checkins.models import TrustMoment

    entry = TrustMoment.objects.create(
        author=author,
        couple_id=current_couple_id(author),
        audience=audience,
        local_date=_free_day(TrustMoment, author),
        intention=body,
    )
    return _anchor(entry, couple_id)


def _host_couple(author: Any, couple_id: Any) -> Any:
    """The couple a meeting of `author` belongs to: the given one, the author's current one, or
    (for a person without a couple space) a space of nobody's, so the row can still exist."""
    from trellis.couples.models import Couple

    if couple_id is not KEEP and couple_id is not None:
        return couple_id
    current = current_couple_id(author)
    if current is not None:
        return current
    return Couple.objects.create(name="", created_by=None).pk


def make_meeting(couple_id: Any, *, revealed: bool, title: str = "A weekly meeting") -> Any:
    """A meeting of `couple_id` in a week of its own (one meeting per couple and week)."""
    from trellis.meetings.models import Meeting
    from trellis.meetings.prompts import builtin_prompts
    from trellis.meetings.services import week_of

    earliest = Meeting.objects.filter(couple_id=couple_id).order_by("week_of").first()
    week = (
        earliest.week_of - timedelta(days=7)
        if earliest is not None
        else week_of(timezone.localdate()) - timedelta(days=7)
    )
    _, prompts = builtin_prompts("weekly")
    return Meeting.objects.create(
        couple_id=couple_id,
        week_of=week,
        prompt_set_title=title,
        prompts=prompts,
        revealed_at=timezone.now() if revealed else None,
    )


def _make_meeting_answer(
    author: Any,
    audience: str,
    body: str,
    title: str,
    *,
    couple_id: Any = KEEP,
    revealed: bool = True,
) -> Any:
    """A submitted answer in a meeting of the author's couple, revealed or not. Answers of the
    same audience and state share a meeting (one per partner), so a meeting page shows both."""
    from trellis.meetings.models import Meeting, MeetingAnswer

    host = _host_couple(author, couple_id)
    tag = f"Matrix meeting ({audience}, {'revealed' if revealed else 'answering'})"
    meeting = (
        Meeting.objects.filter(couple_id=host, prompt_set_title=tag)
        .exclude(answers__author=author)
        .order_by("week_of")
        .first()
    ) or make_meeting(host, revealed=revealed, title=tag)
    now = timezone.now()
    return MeetingAnswer.objects.create(
        author=author,
        couple_id=current_couple_id(author) if couple_id is KEEP else couple_id,
        audience=audience,
        meeting=meeting,
        answers=json.dumps({"p0": body, "p1": title}),
        submitted_at=now,
    )


def _make_meeting_note(
    author: Any,
    audience: str,
    body: str,
    title: str,
    *,
    couple_id: Any = KEEP,
    kind: str = "reflection",
) -> Any:
    """A note written during the conversation of a revealed meeting of the author's couple (a
    reflection unless told otherwise, so that confirming it can be checked too)."""
    from trellis.meetings.models import Meeting, MeetingNote

    host = _host_couple(author, couple_id)
    tag = "Matrix meeting (talking)"
    meeting = Meeting.objects.filter(couple_id=host, prompt_set_title=tag).first() or make_meeting(
        host, revealed=True, title=tag
    )
    return MeetingNote.objects.create(
        author=author,
        couple_id=current_couple_id(author) if couple_id is KEEP else couple_id,
        audience=audience,
        meeting=meeting,
        kind=kind,
        text=body,
    )


# --- agreements ----------------------------------------------------------------------------------


def agreement_of(couple_id: Any) -> Any:
    """The agreement of a couple space (one per couple), made the first time it is needed."""
    from trellis.agreements.models import Agreement

    agreement, _ = Agreement.objects.get_or_create(couple_id=couple_id)
    return agreement


def _in_force(agreement: Any) -> list[list[str]]:
    """[[clause id, wording id], ...] of the clauses in force, in reading order (sections in
    their order, then oldest first), as a version records them."""
    from trellis.agreements.models import SECTION_ORDER, Clause

    rows = Clause.objects.filter(
        agreement=agreement, retired_at__isnull=True, current__isnull=False
    ).values_list("id", "current_id", "section", "created_at")
    ordered = sorted(rows, key=lambda r: (SECTION_ORDER.get(r[2], 99), r[3], str(r[0])))
    return [[str(c), str(t)] for c, t, _, _ in ordered]


def _other_member(couple_id: Any, user: Any) -> Any:
    """The other person of a couple space (a former member too), or None."""
    from trellis.couples.models import Membership

    other = (
        Membership.objects.filter(couple_id=couple_id)
        .exclude(user=user)
        .select_related("user")
        .order_by("joined_at")
        .first()
    )
    return other.user if other is not None else None


def agree_clause(
    agreement: Any,
    author: Any,
    audience: str,
    text: str,
    *,
    couple_id: Any,
    rationale: str = "",
    section: str = "recovery",
) -> Any:
    """A new clause in force whose wording `text` (written by `author`, shared with `audience`)
    was accepted a moment ago by the other person of the agreement's couple: a new version of
    the agreement, as `proposal_accept` makes one. Returns the wording (a ClauseText)."""
    from trellis.agreements.models import Agreement, AgreementVersion, Clause, ClauseText

    agreement = Agreement.objects.get(pk=agreement.pk)  # its version now
    number = agreement.version + 1
    accepted_by = _other_member(agreement.couple_id, author)
    review_on = timezone.localdate() + timedelta(days=90)
    clause = Clause.objects.create(
        agreement=agreement, section=section, created_in=number, review_on=review_on
    )
    wording = ClauseText.objects.create(
        author=author,
        couple_id=couple_id,
        audience=audience,
        clause=clause,
        section=section,
        text=text,
        rationale=rationale,
        review_on=review_on,
        in_version=number,
        accepted_by=accepted_by,
    )
    Clause.objects.filter(pk=clause.pk).update(current=wording)
    AgreementVersion.objects.create(
        agreement=agreement,
        number=number,
        proposed_by=author,
        accepted_by=accepted_by,
        kind="add",
        clause=clause,
        clauses=_in_force(agreement),
    )
    Agreement.objects.filter(pk=agreement.pk).update(version=number, updated_at=timezone.now())
    return wording


def _make_agreement_clause(
    author: Any, audience: str, body: str, title: str, *, couple_id: Any = KEEP
) -> Any:
    """A wording in force, in the agreement of the author's couple (so the in-force list and
    the agreement's pages show it): a clause of its own, added by a version of its own."""
    host = _host_couple(author, couple_id)
    return agree_clause(
        agreement_of(host),
        author,
        audience,
        body,
        rationale=title,
        couple_id=current_couple_id(author) if couple_id is KEEP else couple_id,
    )


def _make_agreement_proposal(
    author: Any,
    audience: str,
    body: str,
    title: str,
    *,
    couple_id: Any = KEEP,
    kind: str = "add",
) -> Any:
    """An open proposal in the agreement of the author's couple, made against its version now.
    "add" unless told otherwise (accepting one always works, however often the matrix does
    it); a "change" proposal gets a clause of its own to change, worded by the same author for
    the same audience, so it is stale only once accepted."""
    from trellis.agreements.models import Agreement, AgreementProposal

    host = _host_couple(author, couple_id)
    entry_couple = current_couple_id(author) if couple_id is KEEP else couple_id
    agreement = agreement_of(host)
    clause = None
    if kind == AgreementProposal.Kind.CHANGE:
        clause = agree_clause(
            agreement,
            author,
            audience,
            "The wording in force before a change the matrix proposes.",
            couple_id=entry_couple,
        ).clause
    return AgreementProposal.objects.create(
        author=author,
        couple_id=entry_couple,
        audience=audience,
        agreement=agreement,
        kind=kind,
        clause=clause,
        section="recovery",
        text=body,
        rationale=title,
        reason="A proposal made for the authorization matrix." if clause else "",
        base_version=Agreement.objects.get(pk=agreement.pk).version,
    )


# --- recovery ------------------------------------------------------------------------------------


def _recovery_since(author: Any) -> Any:
    """A start long enough ago that any lapse day the matrix writes falls inside the track."""
    return local_today(author.time_zone) - timedelta(days=3650)


def _make_recovery_track(
    author: Any, audience: str, body: str, title: str, *, couple_id: Any = KEEP
) -> Any:
    """An open track (the marker in what it is about, the title in its goal), of any audience:
    the policy must hold for rows the service would refuse now (a therapist-only one)."""
    from trellis.recovery.models import RecoveryTrack

    entry = RecoveryTrack.objects.create(
        author=author,
        couple_id=current_couple_id(author),
        audience=audience,
        kind=RecoveryTrack.Kind.BEHAVIOUR,
        what=body,
        since=_recovery_since(author),
        goal=title,
    )
    return _anchor(entry, couple_id)


LAPSE_HOST_WHAT = "The track holding the authorization matrix's lapses"
# How long ago the host track began: what tells it apart (`what` is encrypted, so no query can
# look for it).
LAPSE_HOST_DAYS = 3653


def _lapse_host(author: Any) -> Any:
    """The author's track the matrix's lapses are logged on. Not one of the matrix's track
    entries: after an allowed write to a track (ending it, logging a lapse on it) the matrix
    puts the track back by deleting and re-inserting it, which would take its lapses with it.
    Shared with nobody and holding no marker, it shows nothing any reader could miss."""
    from trellis.recovery.models import RecoveryTrack

    since = local_today(author.time_zone) - timedelta(days=LAPSE_HOST_DAYS)
    host = RecoveryTrack.objects.filter(
        author=author, kind=RecoveryTrack.Kind.SUBSTANCE, since=since
    ).first()
    if host is None:
        host = RecoveryTrack.objects.create(
            author=author,
            couple_id=current_couple_id(author),
            audience="me",
            kind=RecoveryTrack.Kind.SUBSTANCE,
            what=LAPSE_HOST_WHAT,
            since=since,
        )
    return host


def _make_recovery_lapse(
    author: Any, audience: str, body: str, title: str, *, couple_id: Any = KEEP
) -> Any:
    """A lapse on a day of its own (the service keeps one per track and day) of the author's
    host track, with the marker in what led to it and the title in the steps against a
    recurrence."""
    from trellis.recovery.models import Lapse

    host = _lapse_host(author)
    earliest = Lapse.objects.filter(track=host).order_by("local_date").first()
    day = (
        earliest.local_date - timedelta(days=1)
        if earliest is not None
        else local_today(author.time_zone) - timedelta(days=1)
    )
    entry = Lapse.objects.create(
        author=author,
        couple_id=current_couple_id(author),
        audience=audience,
        track=host,
        local_date=day,
        what_led=body,
        prevention=title,
    )
    return _anchor(entry, couple_id)


def _make_recovery_plan(
    author: Any, audience: str, body: str, title: str, *, couple_id: Any = KEEP
) -> Any:
    """The author's relapse-prevention plan (the marker in their reasons, the title in how they
    keep their life in balance). A person has one plan (a unique constraint): when the author
    has one already it is saved again with these words and this audience, as the plan editor
    does — so the authorization matrix, which needs every audience of it, checks plans in
    rounds (ONE_PER_AUTHOR below)."""
    from trellis.recovery import plan as plan_shape
    from trellis.recovery.models import RecoveryPlan

    content = json.dumps({**plan_shape.empty(), "reasons": body, "lifestyle": title})
    entry = RecoveryPlan.objects.filter(author=author).first()
    if entry is None:
        entry = RecoveryPlan.objects.create(
            author=author,
            couple_id=current_couple_id(author),
            audience=audience,
            content=content,
        )
    else:
        RecoveryPlan.objects.filter(pk=entry.pk).update(
            couple_id=current_couple_id(author),
            audience=audience,
            content=content,
            version=entry.version + 1,
            updated_at=timezone.now(),
        )
        entry.refresh_from_db()
    return _anchor(entry, couple_id)


def _make_support_message(
    author: Any, audience: str, body: str, title: str, *, couple_id: Any = KEEP
) -> Any:
    """An "I'm struggling" message sent a moment ago, the marker in its note. Any audience: the
    service refuses "only me", but the policy must hold for every row."""
    from trellis.recovery.models import SupportMessage

    entry = SupportMessage.objects.create(
        author=author, couple_id=current_couple_id(author), audience=audience, note=body
    )
    return _anchor(entry, couple_id)


def _homework_link(couple_id: Any) -> Any:
    """A therapist link of the couple (the one made first), or one made for the matrix with a
    therapist of its own: homework is always assigned through a link."""
    from trellis.accounts.models import User
    from trellis.couples.models import TherapistLink

    link = TherapistLink.objects.filter(couple_id=couple_id).order_by("created_at").first()
    if link is not None:
        return link
    therapist, _ = User.objects.get_or_create(
        email="matrix-homework@example.test",
        defaults={"display_name": "Dr. Matrix", "role": "therapist"},
    )
    return TherapistLink.objects.create(couple_id=couple_id, therapist=therapist)


def _make_homework(
    author: Any, audience: str, body: str, title: str, *, couple_id: Any = KEEP
) -> Any:
    """Homework a therapist assigned to the author alone, done, the marker in the note. The
    completion is an entry: its audience decides who sees that it was done."""
    from trellis.clinic.models import Homework, HomeworkAssignment, HomeworkCompletion

    home = current_couple_id(author) if couple_id is KEEP else couple_id
    if home is None:
        # Homework is always given through a couple's link: a person outside any couple space
        # (they left one) can still hold a "done" from an earlier space. It is anchored to a
        # space nobody is a member of any more, so no partner or therapist reads it through it.
        from trellis.couples.models import Couple

        home = Couple.objects.create(name="").pk
    link = _homework_link(home)
    hw = Homework.objects.create(
        link=link,
        couple_id=home,
        therapist_id=link.therapist_id,
        kind="task",
        title="A walk together, from the matrix",
        due_on=timezone.localdate(),
    )
    assignment = HomeworkAssignment.objects.create(homework=hw, assignee=author)
    return HomeworkCompletion.objects.create(
        author=author, couple_id=home, audience=audience, assignment=assignment, note=body
    )


ENTRY_FACTORIES: dict[str, Callable[..., Any]] = {
    "homework": _make_homework,
    "journal": _make_journal,
    "checkin": _make_checkin,
    "trust_moment": _make_trust_moment,
    "meeting_answer": _make_meeting_answer,
    "meeting_note": _make_meeting_note,
    "agreement_proposal": _make_agreement_proposal,
    "agreement_clause": _make_agreement_clause,
    "recovery_track": _make_recovery_track,
    "recovery_lapse": _make_recovery_lapse,
    "recovery_plan": _make_recovery_plan,
    "support_message": _make_support_message,
}

# Variants the matrix makes of every (author, audience) of a type, with the factory's options.
# Answers: before and after the reveal ("nobody goes first" is a gate on every other reader).
VARIANTS: dict[str, list[tuple[str, dict[str, Any]]]] = {
    "meeting_answer": [("revealed", {"revealed": True}), ("answering", {"revealed": False})],
}
# A few more entries: (author, audience, description suffix, options).
EXTRA_ENTRIES: dict[str, list[tuple[str, str, str, dict[str, Any]]]] = {
    # A plain note cannot be "confirmed": only a reflection can.
    "meeting_note": [("alex", "partner", "plain-note", {"kind": "note"})],
    # A proposal to change a clause (besides the "add" ones): its page shows the wording in
    # force beside the proposed one, and accepting it changes a clause rather than adding one.
    "agreement_proposal": [
        ("alex", "partner", "change", {"kind": "change"}),
        ("sam", "partner_therapist", "change", {"kind": "change"}),
    ],
}
# Options for the entry Alex shared into his old couple space, per type.
OLD_COUPLE_OPTIONS: dict[str, list[tuple[str, dict[str, Any]]]] = {
    "meeting_answer": [("revealed", {"revealed": True}), ("answering", {"revealed": False})],
}
# Types of which a person has at most one, so that making one again for the same author saves
# that one anew instead (a relapse-prevention plan: one per person, a unique constraint on its
# author). The matrix cannot hold every (author, audience) of such a type at once, and does not
# give up a cell for it: it checks them in rounds (tests/security/matrix.py, run_matrix). Round
# 0 holds every other entry and each author's first one ("only me"); each later round deletes
# the round before's and makes each author's next one ("my partner", "partner and therapist",
# "my therapist only", then Alex's in his old couple space), with a new id, and runs every
# actor through every page, API operation, list, export and crawl again for them.
ONE_PER_AUTHOR: dict[str, str] = {
    "recovery_plan": "one plan per person (the one_plan_per_person constraint)",
}
# Pages tagged "list" that show figures drawn from entries but no entry as such (no id, no
# words), so whether an entry is "on" them cannot be seen in the page. The matrix checks that
# they answer (and refuse the anonymous visitor), its crawl that no hidden entry's words show,
# and its audit check that they record reads of nothing the oracle hides; which rows feed them
# is compared with the rules in their own tests. Each with the reason.
SUMMARY_PAGES: dict[str, str] = {
    "dashboard:home": (
        "charts and a heat map of check-in numbers (no ids, no words); its rows are checked "
        "against the sharing rules in tests/dashboard/test_selectors.py"
    ),
}


def _track_lapses(entry: Any) -> list[str]:
    from trellis.recovery.models import Lapse

    return sorted(map(repr, Lapse.objects.filter(track_id=entry.pk).values().order_by("pk")))


# What else a write through an entry could change besides its own row, by type: logging a lapse
# is an author operation on the TRACK (the lapse page and API take the track's id) and changes
# nothing in the track's row, so the rows it would add are part of the track's state. (Putting
# a track back after an allowed write deletes and re-inserts it, which takes those with it.)
ENTRY_CHILDREN: dict[str, Callable[[Any], Any]] = {
    "recovery_track": _track_lapses,
}


def entry_state(label: str, entry: Any) -> dict[str, Any]:
    """The rows besides the entry's own that a write through it could change."""
    children = ENTRY_CHILDREN.get(label)
    return {} if children is None else {"children": children(entry)}


# Types read through a couple-scoped object's pages and API rather than lists of their own.
LISTED_THROUGH: dict[str, str] = {
    "meeting_answer": "meeting",
    "meeting_note": "meeting",
}


def make_entry(
    label: str,
    author: Any,
    audience: str,
    body: str,
    *,
    title: str = "",
    couple_id: Any = KEEP,
    **options: Any,
) -> Any:
    """Create an entry of any registered type, the way its author would where that is possible."""
    factory = ENTRY_FACTORIES.get(label)
    if factory is None:
        pytest.fail(
            f"Entry type {label!r} is registered with sharing but tests/security/entries.py has "
            "no factory for it. Add one to ENTRY_FACTORIES so the authorization matrix covers it."
        )
    return factory(author, audience, body, title, couple_id=couple_id, **options)


# --- couple-scoped objects -----------------------------------------------------------------------


def _meeting_model() -> Any:
    from trellis.meetings.models import Meeting

    return Meeting


def _agreement_model() -> Any:
    from trellis.agreements.models import Agreement

    return Agreement


# label (the x-sharing entry_type of its API operations) -> model
def couple_scoped_models() -> dict[str, Any]:
    return {"meeting": _meeting_model(), "agreement": _agreement_model()}


# The states a couple object is made in, by label. A meeting is checked while the partners are
# still answering and once it is revealed (the conversation), since different writes fit each.
# An agreement is one per couple, so it has one state: "agreed" (clauses in force, among them
# one holding the marker, and a review open), where every write has something to act on.
COUPLE_STATES: dict[str, tuple[str, ...]] = {
    "meeting": ("answering", "revealed"),
    "agreement": ("agreed",),
}


def _agreement_rows(agreement_id: Any) -> dict[str, Any]:
    """Every row an agreement holds, by kind, as querysets."""
    from trellis.agreements.models import (
        Agreement,
        AgreementProposal,
        AgreementReview,
        AgreementVersion,
        Clause,
        ClauseKeep,
        ClauseText,
    )

    return {
        "agreement": Agreement.objects.filter(pk=agreement_id),
        "clauses": Clause.objects.filter(agreement_id=agreement_id),
        "versions": AgreementVersion.objects.filter(agreement_id=agreement_id),
        "proposals": AgreementProposal.objects.filter(agreement_id=agreement_id),
        "texts": ClauseText.objects.filter(clause__agreement_id=agreement_id),
        "reviews": AgreementReview.objects.filter(agreement_id=agreement_id),
        "keeps": ClauseKeep.objects.filter(review__agreement_id=agreement_id),
    }


def make_agreement(couple_id: Any, marker: str) -> Any:
    """The couple's agreement (made if the entries have not made it yet) with one more clause in
    force, worded with the marker by the couple's first member for their partner, and a review
    open. What it holds now is remembered on the object (`matrix_held`), so that
    couple_object_restore can put it back after an allowed write; `matrix_clause_id` is the
    marker's clause, by whose id the agreement's wordless pages (its versions) show it."""
    from trellis.agreements.models import AgreementReview
    from trellis.couples.models import Membership

    agreement = agreement_of(couple_id)
    first = Membership.objects.filter(couple_id=couple_id).order_by("joined_at").first()
    assert first is not None, "an agreement's couple has had members"
    wording = agree_clause(
        agreement,
        first.user,
        "partner",
        f"{marker} is a clause both of us accepted",
        couple_id=couple_id,
        section="ok",
    )
    if not AgreementReview.objects.filter(agreement=agreement, closed_at__isnull=True).exists():
        AgreementReview.objects.create(agreement=agreement, called_by=first.user)
    agreement.refresh_from_db()
    agreement.matrix_clause_id = wording.clause_id
    agreement.matrix_held = {
        kind: {row["id"]: row for row in qs.values()}
        for kind, qs in _agreement_rows(agreement.pk).items()
    }
    return agreement


def make_couple_object(label: str, couple_id: Any, state: str, marker: str) -> Any:
    if label == "meeting":
        return make_meeting(couple_id, revealed=state == "revealed", title=marker)
    if label == "agreement":
        return make_agreement(couple_id, marker)
    pytest.fail(f"No factory for the couple-scoped object {label!r} in tests/security/entries.py")


def couple_object_signs(label: str, obj: Any, marker: str) -> tuple[str, ...]:
    """What shows that an answer is about this object: its marker (a meeting's title, an
    agreement clause's words) and, for an agreement, whose list of versions holds no words, its
    id and the id of the marker's clause."""
    if label == "agreement":
        return (marker, str(obj.pk), str(obj.matrix_clause_id))
    return (marker,)


def couple_object_state(label: str, obj: Any) -> dict[str, Any]:
    """Everything a write through the object could change: its row and its children's rows."""
    if label == "agreement":
        return {
            kind: sorted(map(repr, qs.values().order_by("pk")))
            for kind, qs in _agreement_rows(obj.pk).items()
        }
    if label == "meeting":
        from trellis.meetings.models import Meeting, MeetingAnswer, MeetingNote

        return {
            "meeting": Meeting.objects.filter(pk=obj.pk).values().first(),
            "answers": sorted(
                map(repr, MeetingAnswer.objects.filter(meeting_id=obj.pk).values().order_by("pk"))
            ),
            "notes": sorted(
                map(repr, MeetingNote.objects.filter(meeting_id=obj.pk).values().order_by("pk"))
            ),
        }
    pytest.fail(f"No state snapshot for the couple-scoped object {label!r}")


def _restore_agreement(obj: Any, original: Any) -> None:
    """Delete every row the agreement did not hold when it was made (proposals, wordings,
    clauses, versions, reviews, keeps), then put back the fields of those it held."""
    held = original.matrix_held
    rows = _agreement_rows(obj.pk)
    # Newest first, so that nothing deleted is still pointed at by something kept.
    for kind in ("keeps", "reviews", "versions", "texts", "proposals", "clauses"):
        rows[kind].exclude(pk__in=list(held[kind])).delete()
    for kind in ("agreement", "clauses", "versions", "proposals", "texts", "reviews", "keeps"):
        for pk, values in held[kind].items():
            fields = {k: v for k, v in values.items() if k != "id"}
            rows[kind].model.objects.filter(pk=pk).update(**fields)


def couple_object_restore(label: str, obj: Any, original: Any) -> None:
    """Put a couple object back as it was made (a meeting had no children then)."""
    if label == "agreement":
        _restore_agreement(obj, original)
        return
    if label == "meeting":
        from trellis.meetings.models import Meeting, MeetingAnswer, MeetingNote

        MeetingAnswer.objects.filter(meeting_id=obj.pk).delete()
        MeetingNote.objects.filter(meeting_id=obj.pk).delete()
        Meeting.objects.filter(pk=obj.pk).update(
            revealed_at=original.revealed_at,
            closed_at=original.closed_at,
            version=original.version,
        )
        return
    pytest.fail(f"No restore for the couple-scoped object {label!r}")


def a_clause_in_force(agreement: Any) -> Any:
    """The agreement's oldest clause in force: one a change, a retirement or a keep can name."""
    from trellis.agreements.models import Clause

    return (
        Clause.objects.filter(
            agreement_id=agreement.pk, retired_at__isnull=True, current__isnull=False
        )
        .order_by("created_at", "pk")
        .first()
    )


def agreement_version(agreement: Any) -> int:
    """The agreement's version now (an allowed accept moves it on; read it fresh)."""
    return _agreement_model().objects.get(pk=agreement.pk).version


def agreement_page_proposal(agreement: Any) -> dict[str, Any]:
    """A valid proposal on the propose page: a change of a clause in force."""
    return {
        "kind": "change",
        "clause": str(a_clause_in_force(agreement).pk),
        "base_version": str(agreement_version(agreement)),
        "text": "We look at this together once a month.",
        "rationale": "",
        "reason": "Once a month feels right now.",
        "review_on": "",
        "audience": "partner",
    }


def agreement_api_proposal(agreement: Any) -> dict[str, Any]:
    """A valid proposal over the API: a new clause."""
    return {
        "kind": "add",
        "base_version": agreement_version(agreement),
        "section": "money",
        "text": "We talk before any purchase over $100.",
        "audience": "partner",
    }


# Valid POST data on couple pages (by URL name): (states where it is valid, data of the object),
# or None for a page that only answers GET.
CouplePost = tuple[tuple[str, ...], Callable[[Any], dict[str, Any]]] | None
COUPLE_PAGE_POSTS: dict[str, CouplePost] = {
    "meetings:detail": None,
    "meetings:answer_save": (
        ("answering",),
        lambda m: {"action": "save", "answer_p0": "A draft from the matrix", "audience": "partner"},
    ),
    "meetings:note_add": (
        ("revealed",),
        lambda m: {"kind": "note", "text": "We agreed to walk on Sunday."},
    ),
    "meetings:close": (("answering", "revealed"), lambda m: {"version": str(m.version)}),
    "agreements:detail": None,
    "agreements:history": None,
    "agreements:compare": None,
    "agreements:print": None,
    "agreements:propose": (("agreed",), lambda a: agreement_page_proposal(a)),
    "agreements:review": (
        ("agreed",),
        lambda a: {"action": "keep", "clause": str(a_clause_in_force(a).pk)},
    ),
}


def couple_page_post(url_name: str) -> CouplePost:
    if url_name not in COUPLE_PAGE_POSTS:
        pytest.fail(
            f"The couple page {url_name!r} has no entry in tests/security/entries.py "
            "COUPLE_PAGE_POSTS: give valid POST data for it, or None if it only answers GET."
        )
    return COUPLE_PAGE_POSTS[url_name]


ApiRequest = tuple[dict[str, Any] | None, dict[str, str]]

# Valid requests on API operations taking a couple object's id: (states, request of the object).
COUPLE_API_REQUESTS: dict[tuple[str, str], tuple[tuple[str, ...], Callable[[Any], ApiRequest]]] = {
    ("get", "/api/meetings/meetings/{meeting_id}"): (
        ("answering", "revealed"),
        lambda m: (None, {}),
    ),
    ("put", "/api/meetings/meetings/{meeting_id}/answer"): (
        ("answering",),
        lambda m: ({"answers": {"p0": "From the matrix, over the API"}, "submit": False}, {}),
    ),
    ("delete", "/api/meetings/meetings/{meeting_id}/answer/submission"): (
        ("answering",),
        lambda m: (None, {}),
    ),
    ("post", "/api/meetings/meetings/{meeting_id}/notes"): (
        ("revealed",),
        lambda m: ({"kind": "next_step", "text": "Phones away at dinner."}, {}),
    ),
    ("post", "/api/meetings/meetings/{meeting_id}/close"): (
        ("answering", "revealed"),
        lambda m: ({"version": m.version}, {}),
    ),
    ("get", "/api/agreements/agreements/{agreement_id}"): (("agreed",), lambda a: (None, {})),
    ("get", "/api/agreements/agreements/{agreement_id}/versions"): (
        ("agreed",),
        lambda a: (None, {}),
    ),
    ("get", "/api/agreements/agreements/{agreement_id}/diff"): (
        ("agreed",),
        lambda a: (None, {}),
    ),
    ("post", "/api/agreements/agreements/{agreement_id}/proposals"): (
        ("agreed",),
        lambda a: (agreement_api_proposal(a), {}),
    ),
    ("post", "/api/agreements/agreements/{agreement_id}/review"): (
        ("agreed",),
        lambda a: ({"action": "close"}, {}),
    ),
}


def couple_api_request(
    method: str, path: str
) -> tuple[tuple[str, ...], Callable[[Any], ApiRequest]]:
    found = COUPLE_API_REQUESTS.get((method, path))
    if found is None:
        pytest.fail(
            f"The API operation {method.upper()} {path} takes a couple object's id but "
            "tests/security/entries.py COUPLE_API_REQUESTS has no valid request for it."
        )
    return found


# --- valid writes on author-only and respond pages (keyed by URL name) ---------------------------
# A function of the entry giving valid POST data, or None for a page that only answers GET.


def _other_audience(e: Any) -> dict[str, Any]:
    return {"audience": "me" if e.audience != "me" else "partner"}


PAGE_POSTS: dict[str, Callable[[Any], dict[str, Any]] | None] = {
    "journal:edit": lambda e: {
        "title": "Changed title",
        "body": "Changed body",
        "version": str(e.version),
    },
    "journal:delete": lambda e: {},
    "journal:audience": _other_audience,
    "journal:readers": None,
    "checkins:audience": _other_audience,
    "checkins:revisions": None,
    "checkins:trust_acknowledge": lambda e: {"response": "Proud of you."},
    "meetings:note_audience": _other_audience,
    "meetings:note_confirm": lambda e: {"confirmed": "yes"},
    # Accepting a change makes its clause move on, so the proposal (put back afterwards) would be
    # stale: on the page a change is declined, and accepted over the API only.
    "agreements:proposal_respond": lambda e: {
        "action": "accept" if e.kind == "add" else "decline",
        "version": str(e.version),
        "reason": "",
    },
    "agreements:proposal_counter": lambda e: {
        "version": str(e.version),
        "text": "Our own wording, from the matrix.",
        "rationale": "",
        "reason": "",
        "review_on": "",
        "audience": "partner",
    },
    "agreements:proposal_withdraw": lambda e: {},
    "agreements:proposal_revise": lambda e: {
        "version": str(e.version),
        "base_version": str(agreement_version(e.agreement)),
        "text": "A revised wording, from the matrix.",
        "rationale": "",
        "reason": "It reads better now.",  # a retirement needs one; the others may have one
        "review_on": "",
    },
    # --- recovery: the goal and circles (what and since never change), ending a track, who
    # sees it, logging a lapse on it (a day inside the track; the same day again is the same
    # lapse), who reads a lapse, and the partner's fixed reply to "I'm struggling".
    "recovery:track_edit": lambda e: {
        "version": str(e.version),
        "goal_kind": "boundaries",
        "goal": "A changed goal, from the matrix.",
        "inner_circle": "Betting of any kind.",
        "middle_circle": "Looking at odds.",
        "outer_circle": "Evening walks.",
    },
    "recovery:track_end": lambda e: {},
    "recovery:track_audience": _other_audience,
    "recovery:lapse_new": lambda e: {
        "local_date": (e.since + timedelta(days=1)).isoformat(),
        "what_led": "A long day, from the matrix.",
        "what_helps": "",
        "who_to_tell": "",
        "impact": "",
        "prevention": "",
        "audience": "me",
    },
    "recovery:lapse_audience": _other_audience,
    "recovery:message_reply": lambda e: {"reply": "here"},
    # --- clinic: who sees that a piece of homework was done, deleting that "done", and who
    # has seen it.
    "clinic:completion_audience": _other_audience,
    "clinic:completion_delete": lambda e: {},
    "clinic:completion_readers": None,
}


def page_post_data(url_name: str, entry: Any) -> dict[str, Any] | None:
    if url_name not in PAGE_POSTS:
        pytest.fail(
            f"The page {url_name!r} (author-only or respond) has no entry in "
            "tests/security/entries.py PAGE_POSTS: give valid POST data for it, or None if it "
            "only answers GET."
        )
    make = PAGE_POSTS[url_name]
    return None if make is None else make(entry)


# --- valid requests on API operations that take an entry id (keyed by method and path) ---------
# A function of the entry giving (json body or None, extra headers).

API_REQUESTS: dict[tuple[str, str], Callable[[Any], ApiRequest]] = {
    ("get", "/api/journal/entries/{entry_id}"): lambda e: (None, {}),
    ("get", "/api/journal/entries/{entry_id}/seen"): lambda e: (None, {}),
    ("delete", "/api/journal/entries/{entry_id}"): lambda e: (None, {}),
    ("patch", "/api/journal/entries/{entry_id}"): lambda e: (
        {"body": "Changed over the API", "title": "API"},
        {"If-Match": f'"{e.version}"'},
    ),
    ("put", "/api/journal/entries/{entry_id}/audience"): lambda e: (_other_audience(e), {}),
    ("put", "/api/checkins/checkins/{checkin_id}/audience"): lambda e: (_other_audience(e), {}),
    ("post", "/api/checkins/trust/{moment_id}/acknowledge"): lambda e: (
        {"response": "Thank you for telling me."},
        {},
    ),
    ("post", "/api/meetings/notes/{note_id}/confirm"): lambda e: ({"confirmed": True}, {}),
    ("get", "/api/agreements/proposals/{proposal_id}"): lambda e: (None, {}),
    ("get", "/api/agreements/clauses/{clause_text_id}"): lambda e: (None, {}),
    ("post", "/api/agreements/proposals/{proposal_id}/accept"): lambda e: (
        {"version": e.version},
        {},
    ),
    ("post", "/api/agreements/proposals/{proposal_id}/decline"): lambda e: (
        {"version": e.version, "reason": "Not now; let us talk on Sunday."},
        {},
    ),
    ("post", "/api/agreements/proposals/{proposal_id}/counter"): lambda e: (
        {"version": e.version, "text": "Our own wording, over the API.", "audience": "partner"},
        {},
    ),
    ("post", "/api/agreements/proposals/{proposal_id}/withdraw"): lambda e: (None, {}),
    ("put", "/api/agreements/proposals/{proposal_id}"): lambda e: (
        {
            "version": e.version,
            "base_version": agreement_version(e.agreement),
            "text": "A revised wording, over the API.",
            "reason": "It reads better now.",
        },
        {},
    ),
    ("patch", "/api/recovery/tracks/{track_id}"): lambda e: (
        {"version": e.version, "goal": "A changed goal, over the API."},
        {},
    ),
    ("put", "/api/recovery/tracks/{track_id}/audience"): lambda e: (_other_audience(e), {}),
    ("post", "/api/recovery/tracks/{track_id}/end"): lambda e: (None, {}),
    ("post", "/api/recovery/tracks/{track_id}/lapses"): lambda e: (
        {
            "local_date": (e.since + timedelta(days=1)).isoformat(),
            "what_led": "A long day, over the API.",
            "audience": "me",
        },
        {},
    ),
    ("put", "/api/recovery/lapses/{lapse_id}/audience"): lambda e: (_other_audience(e), {}),
    ("post", "/api/recovery/messages/{message_id}/reply"): lambda e: ({"reply": "here"}, {}),
    ("put", "/api/clinic/completions/{completion_id}/audience"): lambda e: (
        _other_audience(e),
        {},
    ),
}


def api_request(method: str, path: str, entry: Any, *, needs_body: bool) -> ApiRequest:
    make = API_REQUESTS.get((method, path))
    if make is None:
        if needs_body:
            pytest.fail(
                f"The API operation {method.upper()} {path} takes an entry id and a body but "
                "tests/security/entries.py API_REQUESTS has no valid request for it."
            )
        return None, {}
    return make(entry)


def api_call(client: Any, method: str, url: str, body: dict[str, Any] | None, headers: dict) -> Any:
    kwargs: dict[str, Any] = {"headers": headers}
    if body is not None:
        kwargs["data"] = json.dumps(body)
        kwargs["content_type"] = "application/json"
    return getattr(client, method)(url, **kwargs)
