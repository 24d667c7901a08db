"""SPEC C5 and principle 3: an agreement changes only when both partners consent. Nothing is
part of the document until the other partner accepts; a proposal made against an older wording
is caught as stale and never overwrites anything; retired clauses stay in the history; a clause
past its review date stays in force and is shown as due, never lapsing silently."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from trellis.agreements import selectors, services
from trellis.agreements.models import (
    Agreement,
    AgreementProposal,
    AgreementReview,
    AgreementVersion,
    Clause,
    ClauseText,
    Section,
)
from trellis.couples.models import Consent, ConsentScope
from trellis.lib.dates import local_today
from trellis.sharing.models import AuditEvent

Kind = AgreementProposal.Kind
Status = AgreementProposal.Status


# --- helpers: the product's own steps, nothing faked -------------------------------------------


def propose(author, agreement: Agreement, kind: str = Kind.ADD, **kw) -> AgreementProposal:
    """`author` proposes against the version in force now (as the page would have shown it)."""
    agreement.refresh_from_db()
    kw.setdefault("base_version", agreement.version)
    if kind == Kind.ADD:
        kw.setdefault("section", Section.RECOVERY)
    proposal, created = services.proposal_create(
        author=author, agreement=agreement, kind=kind, **kw
    )
    assert created
    return proposal


def accept(user, proposal: AgreementProposal) -> AgreementVersion:
    return services.proposal_accept(user=user, proposal=proposal, expected_version=proposal.version)


def agreed(author, accepter, agreement: Agreement, text: str, **kw) -> Clause:
    """A clause both partners agreed: `author` proposed it, `accepter` accepted it."""
    version = accept(accepter, propose(author, agreement, text=text, **kw))
    return Clause.objects.get(pk=version.clause_id)


def state(agreement: Agreement) -> tuple:
    """Everything an answer could change, to compare before and after a refused attempt."""
    agreement.refresh_from_db()
    return (
        agreement.version,
        AgreementVersion.objects.filter(agreement=agreement).count(),
        ClauseText.objects.filter(clause__agreement=agreement).count(),
        Clause.objects.filter(agreement=agreement).count(),
        sorted(
            AgreementProposal.objects.filter(agreement=agreement).values_list(
                "id", "status", "version", "text", "base_version"
            )
        ),
    )


def texts_of(version: AgreementVersion) -> dict[str, str]:
    """clause id -> the wording that version holds (read directly, for checking)."""
    ids = [t for _, t in version.clauses]
    words = {str(t.pk): t.text for t in ClauseText.objects.filter(pk__in=ids)}
    assert len(words) == len(ids), "a version names a wording that does not exist"
    return {c: words[t] for c, t in version.clauses}


def today_for(user):
    return local_today(user.time_zone)


# --- nothing is agreed until the other partner accepts ----------------------------------------


def test_proposals_by_either_partner_change_nothing_until_accepted(people, agreement):
    by_alex = propose(people.alex, agreement, text="We each go to one meeting a week.")
    by_sam = propose(
        people.sam, agreement, section=Section.DIGITAL, text="Phones stay out of the bedroom."
    )
    agreement.refresh_from_db()
    assert agreement.version == 0
    assert not ClauseText.objects.exists()
    assert not AgreementVersion.objects.exists()
    assert not Clause.objects.exists()
    assert {by_alex.status, by_sam.status} == {Status.OPEN}
    assert (by_alex.base_version, by_sam.base_version) == (0, 0)

    version = accept(people.sam, by_alex)

    agreement.refresh_from_db()
    assert agreement.version == 1 and version.number == 1
    assert ClauseText.objects.count() == 1
    assert list(texts_of(version).values()) == ["We each go to one meeting a week."]
    by_sam.refresh_from_db()
    assert by_sam.status == Status.OPEN  # Sam's own proposal still waits for Alex


OUTSIDERS = [
    "author",
    "therapist_with_consent",
    "therapist_without_consent",
    "other_couple_member",
    "former_partner",
    "other_therapist",
    "clinic_admin",
]

ANSWERS = {
    "accept": lambda user, p: services.proposal_accept(
        user=user, proposal=p, expected_version=p.version
    ),
    "decline": lambda user, p: services.proposal_decline(
        user=user, proposal=p, expected_version=p.version, reason="Not for me."
    ),
    "counter": lambda user, p: services.proposal_counter(
        user=user, proposal=p, expected_version=p.version, text="Something else entirely."
    ),
}


@pytest.mark.parametrize("answer", sorted(ANSWERS))
@pytest.mark.parametrize("who", OUTSIDERS)
def test_only_the_other_partner_answers_a_proposal(people, agreement, who, answer):
    # A clause in force (version 1), and Alex's open proposal to change it.
    clause = agreed(people.sam, people.alex, agreement, "We check in every evening.")
    proposal = propose(
        people.alex,
        agreement,
        Kind.CHANGE,
        clause_id=clause.pk,
        text="We check in every evening, briefly.",
    )
    before = state(agreement)
    actor = people.actors()[who]

    with pytest.raises(services.NotYours):
        ANSWERS[answer](actor, proposal)

    assert state(agreement) == before
    assert before[0] == 1
    # ...while the partner can: the same call by Sam goes through.
    ANSWERS[answer](people.sam, proposal)
    assert state(agreement) != before


@pytest.mark.parametrize("who", OUTSIDERS[1:])
def test_nobody_outside_the_couple_proposes_to_it(people, agreement, who):
    with pytest.raises(services.NotYours):
        services.proposal_create(
            author=people.actors()[who],
            agreement=agreement,
            kind=Kind.ADD,
            base_version=0,
            section=Section.MONEY,
            text="We share every bank statement.",
        )
    assert not AgreementProposal.objects.exists()


# --- accept, decline, counter, retire -----------------------------------------------------------


def test_accepting_makes_the_next_version_with_the_right_snapshot(people, agreement):
    p1 = propose(
        people.alex, agreement, section=Section.MONEY, text="Purchases over 200 we discuss."
    )
    v1 = accept(people.sam, p1)
    money = Clause.objects.get(pk=v1.clause_id)
    first_words = ClauseText.objects.get(clause=money)

    assert (v1.number, v1.kind, v1.proposed_by, v1.accepted_by) == (
        1,
        "add",
        people.alex,
        people.sam,
    )
    assert v1.clauses == [[str(money.pk), str(first_words.pk)]]
    assert (first_words.author, first_words.accepted_by, first_words.in_version) == (
        people.alex,
        people.sam,
        1,
    )
    assert (money.section, money.created_in, money.current_id) == ("money", 1, first_words.pk)
    p1.refresh_from_db()
    assert (p1.status, p1.decided_by, p1.result_version) == (Status.ACCEPTED, people.sam, 1)

    # A recovery clause comes before money in reading order, though it was agreed later.
    v2 = accept(people.alex, propose(people.sam, agreement, text="Meetings on Tuesdays."))
    recovery = Clause.objects.get(pk=v2.clause_id)
    assert [c for c, _ in v2.clauses] == [str(recovery.pk), str(money.pk)]

    v3 = accept(
        people.alex,
        propose(
            people.sam,
            agreement,
            Kind.CHANGE,
            clause_id=money.pk,
            text="Purchases over 100 we discuss.",
        ),
    )
    assert (v3.number, v3.kind, v3.clause_id) == (3, "change", money.pk)
    assert texts_of(v3) == {
        str(recovery.pk): "Meetings on Tuesdays.",
        str(money.pk): "Purchases over 100 we discuss.",
    }
    # The earlier versions still hold the words they held.
    v1.refresh_from_db()
    v2.refresh_from_db()
    assert texts_of(v2)[str(money.pk)] == "Purchases over 200 we discuss."
    assert texts_of(v1) == {str(money.pk): "Purchases over 200 we discuss."}
    assert ClauseText.objects.filter(clause=money).count() == 2
    agreement.refresh_from_db()
    assert agreement.version == 3
    assert [v.number for v in selectors.versions_of(agreement)] == [3, 2, 1]


def test_declining_keeps_the_reason_and_changes_nothing(people, agreement):
    proposal = propose(people.alex, agreement, text="No screens after ten.")
    declined = services.proposal_decline(
        user=people.sam,
        proposal=proposal,
        expected_version=proposal.version,
        reason="  I need my phone for the night shift.  ",
    )
    proposal.refresh_from_db()
    assert proposal.status == Status.DECLINED
    assert proposal.response == "I need my phone for the night shift."
    assert (proposal.decided_by, declined.pk) == (people.sam, proposal.pk)
    agreement.refresh_from_db()
    assert agreement.version == 0 and not ClauseText.objects.exists()
    # Answered once: it cannot be accepted afterwards.
    with pytest.raises(ValidationError) as refused:
        accept(people.sam, proposal)
    assert "proposal" in refused.value.message_dict
    assert state(agreement)[0] == 0


def test_a_counter_proposal_waits_for_the_first_author(people, agreement):
    original = propose(
        people.alex, agreement, section=Section.OK, text="Lunch with coworkers is OK."
    )
    counter = services.proposal_counter(
        user=people.sam,
        proposal=original,
        expected_version=original.version,
        text="Lunch with coworkers is OK if I know in advance.",
        rationale="Surprises are hard for me.",
    )
    original.refresh_from_db()
    assert original.status == Status.COUNTERED and original.decided_by == people.sam
    assert (counter.author, counter.counter_to_id, counter.status) == (
        people.sam,
        original.pk,
        Status.OPEN,
    )
    assert (counter.kind, counter.section) == (Kind.ADD, Section.OK)
    agreement.refresh_from_db()
    assert agreement.version == 0 and not ClauseText.objects.exists()

    # Sam wrote the counter: it is now Alex's turn, not Sam's.
    with pytest.raises(services.NotYours):
        accept(people.sam, counter)
    with pytest.raises(ValidationError):
        accept(people.sam, original)  # the original was answered (countered)

    version = accept(people.alex, counter)
    words = ClauseText.objects.get()
    assert (version.number, words.text, words.author, words.accepted_by) == (
        1,
        "Lunch with coworkers is OK if I know in advance.",
        people.sam,
        people.alex,
    )
    assert words.rationale == "Surprises are hard for me."


def test_countering_a_retirement_keeps_the_clause_reworded(people, agreement):
    clause = agreed(people.alex, people.sam, agreement, "We share locations on trips.")
    retire = propose(
        people.alex, agreement, Kind.RETIRE, clause_id=clause.pk, reason="Trust is back."
    )
    counter = services.proposal_counter(
        user=people.sam,
        proposal=retire,
        expected_version=retire.version,
        text="We share locations on long trips.",
    )
    assert counter.kind == Kind.CHANGE and counter.clause_id == clause.pk
    accept(people.alex, counter)
    clause.refresh_from_db()
    assert clause.retired_at is None and clause.current.text == "We share locations on long trips."


def test_a_retired_clause_leaves_the_next_version_but_never_the_history(people, agreement):
    kept = agreed(people.sam, people.alex, agreement, "We go to couples therapy every week.")
    retiring = agreed(people.alex, people.sam, agreement, "No contact with the old group.")
    accept(
        people.sam,
        propose(
            people.alex,
            agreement,
            Kind.CHANGE,
            clause_id=retiring.pk,
            text="No contact with the old group, online or off.",
        ),
    )
    wordings = set(ClauseText.objects.filter(clause=retiring).values_list("pk", flat=True))
    assert len(wordings) == 2

    with pytest.raises(ValidationError) as no_reason:
        propose(people.sam, agreement, Kind.RETIRE, clause_id=retiring.pk, reason="  ")
    assert "reason" in no_reason.value.message_dict

    retire = propose(
        people.sam, agreement, Kind.RETIRE, clause_id=retiring.pk, reason="The group disbanded."
    )
    assert retire.reason == "The group disbanded." and retire.text == ""
    v4 = accept(people.alex, retire)

    assert (v4.number, v4.kind) == (4, "retire")
    assert [c for c, _ in v4.clauses] == [str(kept.pk)]
    retiring.refresh_from_db()
    assert retiring.retired_in == 4 and retiring.retired_at is not None
    # Never deleted: the clause and every wording it had are still there.
    assert set(ClauseText.objects.filter(clause=retiring).values_list("pk", flat=True)) == wordings
    assert list(selectors.retired_clauses(agreement)) == [retiring]
    # The history still shows it where it was.
    for number, words in [
        (2, "No contact with the old group."),
        (3, "No contact with the old group, online or off."),
    ]:
        earlier = selectors.version_of(agreement, number)
        lines = selectors.lines_of(people.sam, agreement, earlier, channel="page")
        by_clause = {line.clause.pk: line.text.text for line in lines}
        assert by_clause[retiring.pk] == words
    now = selectors.lines_of(people.sam, agreement, v4, channel="page")
    assert [line.clause.pk for line in now] == [kept.pk]
    # A retired clause can no longer be changed or retired again.
    for kind, kw in [(Kind.CHANGE, {"text": "Back again."}), (Kind.RETIRE, {"reason": "Again."})]:
        with pytest.raises(ValidationError) as gone:
            propose(people.alex, agreement, kind, clause_id=retiring.pk, **kw)
        assert "clause" in gone.value.message_dict


# --- stale proposals: caught, never overwritten -------------------------------------------------


def test_the_second_of_two_changes_to_one_clause_is_stale_and_kept(people, agreement):
    clause = agreed(people.alex, people.sam, agreement, "We talk about money on Sundays.")
    by_alex = propose(
        people.alex,
        agreement,
        Kind.CHANGE,
        clause_id=clause.pk,
        text="We talk about money on Sunday mornings.",
    )
    by_sam = propose(
        people.sam,
        agreement,
        Kind.CHANGE,
        clause_id=clause.pk,
        text="We talk about money every other Sunday.",
    )
    assert by_alex.base_version == by_sam.base_version == 1

    accept(people.sam, by_alex)  # version 2: Alex's wording
    before = state(agreement)

    with pytest.raises(services.Stale) as stale:
        accept(people.alex, by_sam)
    assert "before the clause last changed" in stale.value.message
    assert stale.value.current_version == 2
    # Nothing lost, nothing overwritten: both proposals are as they were.
    assert state(agreement) == before
    by_sam_now = AgreementProposal.objects.get(pk=by_sam.pk)
    assert (by_sam_now.status, by_sam_now.text, by_sam_now.version, by_sam_now.base_version) == (
        Status.OPEN,
        "We talk about money every other Sunday.",
        by_sam.version,
        1,
    )
    clause.refresh_from_db()
    assert clause.current.text == "We talk about money on Sunday mornings."
    assert AgreementProposal.objects.get(pk=by_alex.pk).status == Status.ACCEPTED

    # Sam reads the new wording and rebases; the same proposal, a new version of it.
    rebased = services.proposal_rebase(
        author=people.sam,
        proposal=by_sam_now,
        expected_version=by_sam_now.version,
        base_version=2,
        text="We talk about money on every other Sunday morning.",
    )
    assert (rebased.pk, rebased.base_version, rebased.version) == (
        by_sam.pk,
        2,
        by_sam.version + 1,
    )
    # Alex answering what they read before the rebase is refused: they did not read these words.
    with pytest.raises(services.Stale) as unread:
        services.proposal_accept(
            user=people.alex, proposal=rebased, expected_version=by_sam.version
        )
    assert "revised after you opened it" in unread.value.message
    assert state(agreement)[0] == 2

    v3 = accept(people.alex, rebased)
    assert v3.number == 3
    assert texts_of(v3) == {str(clause.pk): "We talk about money on every other Sunday morning."}
    assert ClauseText.objects.filter(clause=clause).count() == 3


def test_a_proposal_against_an_older_wording_is_refused_at_creation(people, agreement):
    changing = agreed(people.alex, people.sam, agreement, "Passwords are shared.")  # v1
    other = agreed(people.sam, people.alex, agreement, "No gambling apps.")  # v2
    # An open proposal on the other clause, made at version 2.
    on_other = propose(
        people.sam, agreement, Kind.CHANGE, clause_id=other.pk, text="No gambling apps or sites."
    )
    accept(
        people.alex,
        propose(
            people.sam,
            agreement,
            Kind.CHANGE,
            clause_id=changing.pk,
            text="Passwords are shared on request.",
        ),
    )  # v3 changes the first clause
    before = state(agreement)

    for kind, kw in [
        (Kind.CHANGE, {"text": "Passwords stay private."}),
        (Kind.RETIRE, {"reason": "x"}),
    ]:
        with pytest.raises(services.Stale) as stale:
            services.proposal_create(
                author=people.alex,
                agreement=agreement,
                kind=kind,
                base_version=2,
                clause_id=changing.pk,
                **kw,
            )
        assert "changed after you opened it" in stale.value.message and "3" in stale.value.message
    assert state(agreement) == before

    # The other clause did not change since version 2: not stale, at creation or at accept.
    fresh, created = services.proposal_create(
        author=people.alex,
        agreement=agreement,
        kind=Kind.CHANGE,
        base_version=2,
        clause_id=other.pk,
        text="No betting of any kind.",
    )
    assert created and fresh.base_version == 2
    assert accept(people.alex, on_other).number == 4
    # ...but now Alex's proposal on it is behind the version Sam's change made.
    with pytest.raises(services.Stale):
        accept(people.sam, fresh)
    # A base version that does not exist is refused as bad input.
    with pytest.raises(ValidationError) as future:
        propose(people.alex, agreement, text="Later.", base_version=99)
    assert "base_version" in future.value.message_dict


# --- retries ------------------------------------------------------------------------------------


def test_the_same_accept_twice_makes_one_version(people, agreement):
    proposal = propose(people.alex, agreement, text="We pray together on Sundays.")
    first = services.proposal_accept(
        user=people.sam, proposal=proposal, expected_version=proposal.version
    )
    again = services.proposal_accept(
        user=people.sam, proposal=proposal, expected_version=proposal.version
    )
    assert again.pk == first.pk and again.number == 1
    agreement.refresh_from_db()
    assert agreement.version == 1
    assert AgreementVersion.objects.count() == 1 and ClauseText.objects.count() == 1
    # The author "accepting" it now is still not theirs to do.
    with pytest.raises(services.NotYours):
        accept(people.alex, proposal)


def test_the_same_open_proposal_sent_twice_is_kept_once(people, agreement):
    args = {
        "author": people.sam,
        "agreement": agreement,
        "kind": Kind.ADD,
        "base_version": 0,
        "section": Section.SEXUAL,
        "text": "We ask before, every time.",
        "rationale": "It helps me feel safe.",
    }
    first, created = services.proposal_create(**args)
    again, created_again = services.proposal_create(**args)
    assert (created, created_again) == (True, False)
    assert again.pk == first.pk
    assert AgreementProposal.objects.count() == 1
    # Different words are a different proposal.
    other, created_other = services.proposal_create(**{**args, "text": "We ask before."})
    assert created_other and other.pk != first.pk
    assert AgreementProposal.objects.count() == 2


# --- bad input names its field ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "given", "field"),
    [
        (Kind.ADD, {"text": ""}, "text"),
        (Kind.ADD, {"text": "  \n\t "}, "text"),
        (Kind.ADD, {"text": "x" * (services.MAX_TEXT + 1)}, "text"),
        (Kind.CHANGE, {"text": "We walk after dinner."}, "text"),  # the wording in force
        (Kind.ADD, {"text": "Fine.", "review_on": "next spring"}, "review_on"),
        (Kind.ADD, {"text": "Fine.", "review_on": "2026-02-30"}, "review_on"),
        (Kind.ADD, {"text": "Fine.", "review_in_days": 0}, "review_on"),
        (Kind.ADD, {"text": "Fine.", "review_in_days": -1}, "review_on"),
        (Kind.ADD, {"text": "Fine.", "review_in_days": 4 * 366}, "review_on"),
        (Kind.RETIRE, {"reason": ""}, "reason"),
        (Kind.RETIRE, {"reason": " \n "}, "reason"),
        (Kind.ADD, {"text": "Fine.", "section": "elsewhere"}, "section"),
        (Kind.ADD, {"text": "Fine.", "section": ""}, "section"),
        (Kind.ADD, {"text": "Fine.", "audience": "me"}, "audience"),
        (Kind.ADD, {"text": "Fine.", "audience": "therapist"}, "audience"),
        (Kind.CHANGE, {"text": "Fine.", "clause_id": "not-a-clause"}, "clause"),
        ("rewrite", {"text": "Fine."}, "kind"),
    ],
)
def test_bad_input_is_refused_naming_the_field(people, agreement, kind, given, field):
    clause = agreed(people.alex, people.sam, agreement, "We walk after dinner.")
    given = dict(given)
    if "review_in_days" in given:
        given["review_on"] = today_for(people.sam) + timedelta(days=given.pop("review_in_days"))
    if kind in (Kind.CHANGE, Kind.RETIRE):
        given.setdefault("clause_id", clause.pk)
    given.setdefault("section", Section.RECOVERY)
    before = state(agreement)

    with pytest.raises(ValidationError) as refused:
        services.proposal_create(
            author=people.sam, agreement=agreement, kind=kind, base_version=1, **given
        )

    assert field in refused.value.message_dict, refused.value.message_dict
    assert all(m.strip() for m in refused.value.message_dict[field])
    assert state(agreement) == before


def test_a_good_review_date_is_kept_and_sets_the_interval(people, agreement):
    on = today_for(people.sam) + timedelta(days=30)
    clause = agreed(people.sam, people.alex, agreement, "We plan one date a week.", review_on=on)
    assert (clause.review_on, clause.review_every_days) == (on, 30)
    assert clause.current.review_on == on
    default = agreed(people.alex, people.sam, agreement, "We cook together on Fridays.")
    assert default.review_on == today_for(people.alex) + timedelta(
        days=services.DEFAULT_REVIEW_DAYS
    )


# --- reviews: called any time; a clause never lapses silently -----------------------------------


def test_either_partner_calls_a_review_at_any_time(people, agreement):
    review, created = services.review_call(user=people.sam, agreement=agreement)
    same, created_again = services.review_call(user=people.alex, agreement=agreement)
    assert (created, created_again) == (True, False) and same.pk == review.pk
    assert review.called_by == people.sam
    assert AgreementReview.objects.filter(closed_at__isnull=True).count() == 1
    closed = services.review_close(user=people.alex, agreement=agreement)
    assert closed is not None and closed.pk == review.pk and closed.closed_at is not None
    later, created_later = services.review_call(user=people.alex, agreement=agreement)
    assert created_later and later.pk != review.pk
    with pytest.raises(services.NotYours):
        services.review_call(user=people.lee, agreement=agreement)


def test_a_clause_past_its_review_date_stays_in_force_until_both_keep_it(people, agreement):
    start = timezone.now()
    clause = agreed(
        people.alex,
        people.sam,
        agreement,
        "We name one worry out loud each week.",
        review_on=today_for(people.sam) + timedelta(days=30),
    )
    assert selectors.due_count(agreement, today_for(people.sam)) == 0

    with time_machine.travel(start + timedelta(days=41), tick=False):
        today = today_for(people.sam)
        clause.refresh_from_db()
        assert clause.review_on < today
        assert selectors.due_count(agreement, today) == 1
        # Still in force: the next version carries it, and it is shown as due.
        version = accept(
            people.sam, propose(people.alex, agreement, section=Section.MONEY, text="A budget.")
        )
        lines = selectors.lines_of(people.sam, agreement, version, channel="page")
        assert [line.clause.pk for line in lines] == [clause.pk, version.clause_id]
        assert lines[0].text.text == "We name one worry out loud each week."
        blocks = {b.key: b for b in selectors.sections_of(lines, today)}
        assert [line.due for line in blocks["recovery"].lines] == [True]
        assert [line.due for line in blocks["money"].lines] == [False]

        with pytest.raises(ValidationError) as no_review:
            services.review_keep(user=people.alex, agreement=agreement, clause_id=clause.pk)
        assert "review" in no_review.value.message_dict
        services.review_call(user=people.alex, agreement=agreement)
        # One partner keeping it (even twice) is not both.
        for _ in range(2):
            services.review_keep(user=people.alex, agreement=agreement, clause_id=clause.pk)
        clause.refresh_from_db()
        assert clause.reviewed_at is None and selectors.due_count(agreement, today) == 1

        services.review_keep(user=people.sam, agreement=agreement, clause_id=clause.pk)
        clause.refresh_from_db()
        assert clause.review_on == today + timedelta(days=30)
        assert clause.reviewed_at is not None
        assert selectors.due_count(agreement, today) == 0
        # Reviewing changed no words and made no version.
        agreement.refresh_from_db()
        assert agreement.version == 2 and ClauseText.objects.filter(clause=clause).count() == 1


# --- reads go through the sharing policy and are recorded ---------------------------------------


def _reads(actor) -> set:
    return set(
        AuditEvent.objects.filter(
            actor=actor, action=AuditEvent.Action.READ, entry_type="agreement_clause"
        ).values_list("entry_id", "owner_id")
    )


def test_a_therapist_reads_only_the_wordings_of_partners_who_consented(people, agreement):
    by_alex = agreed(people.alex, people.sam, agreement, "Alex's words about recovery.")
    by_sam = agreed(
        people.sam, people.alex, agreement, "Sam's words about money.", section=Section.MONEY
    )
    private = agreed(
        people.alex,
        people.sam,
        agreement,
        "Alex's words for Sam only.",
        section=Section.SEXUAL,
        audience="partner",
    )
    version = selectors.version_of(agreement, 3)
    words = {c.pk: c.current for c in (by_alex, by_sam, private)}

    def seen_by(reader) -> dict:
        lines = selectors.lines_of(reader, agreement, version, channel="page")
        assert [line.clause.pk for line in lines] == [by_alex.pk, by_sam.pk, private.pk]
        return {line.clause.pk: line.text.text if line.text else None for line in lines}

    # Lee's consent from Alex covers the journal only: no wording at all.
    assert set(seen_by(people.lee).values()) == {None}
    assert _reads(people.lee) == set()

    consent = Consent.objects.get(grantor=people.alex, therapist=people.lee)
    ConsentScope.objects.create(consent=consent, entry_type="agreement_clause")

    assert seen_by(people.lee) == {
        by_alex.pk: "Alex's words about recovery.",
        by_sam.pk: None,  # Sam gave Lee no consent
        private.pk: None,  # shared with Sam only
    }
    assert _reads(people.lee) == {(words[by_alex.pk].pk, people.alex.pk)}

    # The partners read everything; each read of the other's words is recorded, own are not.
    assert None not in seen_by(people.sam).values()
    assert _reads(people.sam) == {
        (words[by_alex.pk].pk, people.alex.pk),
        (words[private.pk].pk, people.alex.pk),
    }
    assert None not in seen_by(people.alex).values()
    assert _reads(people.alex) == {(words[by_sam.pk].pk, people.sam.pk)}

    # Nobody else reads a word, and nothing is recorded for them.
    for outsider in (people.casey, people.pat, people.noor, people.reyes, people.morgan):
        assert set(seen_by(outsider).values()) == {None}
        assert _reads(outsider) == set()
