"""SPEC C5, "concurrent edits never lose an update": both partners acting on their agreement at
the same moment never lose, double or overwrite a change. Real threads, real database
connections, real commits (transaction=True), released together by a barrier; each scenario
runs many times.

PostgreSQL: the agreement's row lock (SELECT ... FOR UPDATE) serialises the two writes; no retry
is allowed. SQLite: as in tests/meetings/test_concurrency.py, the production database (a file
with WAL, IMMEDIATE transactions and a busy timeout) queues the second writer; the in-memory
shared-cache test database tells it "database table is locked" at once instead, so the helper
retries that one error (the busy wait production does itself) and nothing else.
"""

from __future__ import annotations

from collections import Counter

import pytest
from django.db import connection

from tests.concurrency import together as race
from tests.personas import build_people
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

RUNS = 20
STATS: dict[str, int] = {"retries": 0}
Kind = AgreementProposal.Kind
Status = AgreementProposal.Status


def together(*calls, raising: bool = True):
    return race(*calls, stats=STATS, raising=raising)


def answered(call):
    """An accept as the person sees it: the new version, or "stale" with its message."""

    def attempt():
        try:
            return call()
        except services.Stale as exc:
            assert exc.message
            return "stale"

    return attempt


@pytest.fixture
def people(transactional_db):
    return build_people()


def number(agreement: Agreement) -> int:
    return Agreement.objects.get(pk=agreement.pk).version


def fresh(proposal: AgreementProposal) -> AgreementProposal:
    """Each thread gets its own copy of the row, as each request would."""
    return AgreementProposal.objects.get(pk=proposal.pk)


def propose(author, agreement, kind=Kind.ADD, **kw) -> AgreementProposal:
    kw.setdefault("base_version", number(agreement))
    if kind == Kind.ADD:
        kw.setdefault("section", Section.RECOVERY)
    proposal, _ = services.proposal_create(author=author, agreement=agreement, kind=kind, **kw)
    return proposal


def accept(user, proposal: AgreementProposal, expected: int | None = None) -> AgreementVersion:
    return services.proposal_accept(
        user=user,
        proposal=proposal,
        expected_version=proposal.version if expected is None else expected,
    )


def agreed(author, accepter, agreement, text: str, **kw) -> Clause:
    return Clause.objects.get(
        pk=accept(accepter, propose(author, agreement, text=text, **kw)).clause_id
    )


def assert_history_whole(agreement: Agreement) -> None:
    """Versions 1..N, no gap, no duplicate; every version's snapshot names real wordings."""
    n = number(agreement)
    versions = list(AgreementVersion.objects.filter(agreement=agreement).order_by("number"))
    assert [v.number for v in versions] == list(range(1, n + 1))
    accepted = AgreementProposal.objects.filter(agreement=agreement, status=Status.ACCEPTED)
    assert sorted(accepted.values_list("result_version", flat=True)) == list(range(1, n + 1))
    for v in versions:
        ids = [t for _, t in v.clauses]
        assert ClauseText.objects.filter(pk__in=ids).count() == len(ids)


def wording(version: AgreementVersion) -> dict[str, str]:
    ids = [t for _, t in version.clauses]
    words = {str(t.pk): t.text for t in ClauseText.objects.filter(pk__in=ids)}
    return {c: words[t] for c, t in version.clauses}


@pytest.mark.django_db(transaction=True)
def test_crossed_changes_to_one_clause_one_lands_the_other_is_stale(people, agreement, capsys):
    """Both propose a change to the same clause at once, then each accepts the other's at the
    same moment: exactly one is accepted, the other is refused as stale, nothing is lost."""
    winners: Counter = Counter()
    for run in range(RUNS):
        clause = agreed(people.alex, people.sam, agreement, f"We talk it through, run {run}.")
        base = number(agreement)
        by_alex, by_sam = together(
            lambda c=clause, b=base, r=run: propose(
                people.alex,
                agreement,
                Kind.CHANGE,
                clause_id=c.pk,
                base_version=b,
                text=f"Alex's wording {r}.",
            ),
            lambda c=clause, b=base, r=run: propose(
                people.sam,
                agreement,
                Kind.CHANGE,
                clause_id=c.pk,
                base_version=b,
                text=f"Sam's wording {r}.",
            ),
        )
        assert by_alex.pk != by_sam.pk and by_alex.base_version == by_sam.base_version == base

        sam_answers, alex_answers = together(
            answered(lambda p=fresh(by_alex): accept(people.sam, p)),
            answered(lambda p=fresh(by_sam): accept(people.alex, p)),
        )

        outcomes = sorted(
            ["stale" if a == "stale" else "accepted" for a in (sam_answers, alex_answers)]
        )
        assert outcomes == ["accepted", "stale"], f"run {run}: {sam_answers!r}, {alex_answers!r}"
        landed, kept = (by_alex, by_sam) if sam_answers != "stale" else (by_sam, by_alex)
        version = sam_answers if sam_answers != "stale" else alex_answers
        winners["alex's" if landed is by_alex else "sam's"] += 1

        assert version.number == base + 1 == number(agreement), f"run {run}"
        clause.refresh_from_db()
        assert clause.current.text == landed.text and clause.current.in_version == base + 1
        assert wording(version)[str(clause.pk)] == landed.text
        # The refused proposal is still there, word for word, open for its author to rebase.
        still = AgreementProposal.objects.get(pk=kept.pk)
        assert (still.status, still.text, still.version, still.base_version) == (
            Status.OPEN,
            kept.text,
            kept.version,
            base,
        )
        assert AgreementProposal.objects.get(pk=landed.pk).status == Status.ACCEPTED
        assert AgreementProposal.objects.filter(clause=clause).count() == 2
        assert ClauseText.objects.filter(clause=clause).count() == 2
        assert_history_whole(agreement)
    with capsys.disabled():
        print(
            f"\n[C5 crossed accepts, {connection.vendor}] {RUNS} runs: one accepted, one stale "
            f"each ({dict(winners)}); shared-cache retries: {STATS['retries']}"
        )


@pytest.mark.django_db(transaction=True)
def test_the_same_accept_twice_at_once_makes_one_version(people, agreement):
    for run in range(RUNS):
        proposal = propose(people.alex, agreement, text=f"One small promise, run {run}.")
        base = number(agreement)
        first, second = together(
            lambda p=fresh(proposal), v=proposal.version: accept(people.sam, p, v),
            lambda p=fresh(proposal), v=proposal.version: accept(people.sam, p, v),
        )
        assert first.pk == second.pk and first.number == base + 1, f"run {run}"
        assert number(agreement) == base + 1
        assert ClauseText.objects.filter(proposal=proposal).count() == 1
        assert AgreementVersion.objects.filter(agreement=agreement).count() == base + 1
    assert_history_whole(agreement)


@pytest.mark.django_db(transaction=True)
def test_accepts_on_different_clauses_at_once_both_land(people, agreement):
    first = agreed(
        people.alex, people.sam, agreement, "Money talk on Sundays.", section=Section.MONEY
    )
    second = agreed(
        people.sam, people.alex, agreement, "Phones away at dinner.", section=Section.DIGITAL
    )
    orders: Counter = Counter()
    for run in range(RUNS):
        base = number(agreement)
        by_alex, by_sam = together(
            lambda r=run, b=base: propose(
                people.alex,
                agreement,
                Kind.CHANGE,
                clause_id=first.pk,
                base_version=b,
                text=f"Money talk, version {r}.",
            ),
            lambda r=run, b=base: propose(
                people.sam,
                agreement,
                Kind.CHANGE,
                clause_id=second.pk,
                base_version=b,
                text=f"Phones away, version {r}.",
            ),
        )
        from_sam, from_alex = together(
            lambda p=fresh(by_alex): accept(people.sam, p),
            lambda p=fresh(by_sam): accept(people.alex, p),
        )
        assert sorted([from_sam.number, from_alex.number]) == [base + 1, base + 2], f"run {run}"
        assert number(agreement) == base + 2
        last, middle = sorted([from_sam, from_alex], key=lambda v: -v.number)
        orders["alex's first" if middle.clause_id == first.pk else "sam's first"] += 1
        # The later version holds both changes: neither overwrote the other.
        assert wording(last) == {
            str(first.pk): f"Money talk, version {run}.",
            str(second.pk): f"Phones away, version {run}.",
        }
        # The one between holds exactly the change accepted first.
        changed = middle.clause_id
        untouched = second.pk if changed == first.pk else first.pk
        before = wording(AgreementVersion.objects.get(agreement=agreement, number=base))
        between = wording(middle)
        assert between[str(changed)] == wording(last)[str(changed)]
        assert between[str(untouched)] == before[str(untouched)]
    assert_history_whole(agreement)
    assert sum(orders.values()) == RUNS


@pytest.mark.django_db(transaction=True)
def test_the_same_proposal_sent_twice_at_once_is_kept_once(people, agreement):
    for run in range(RUNS):
        args = {
            "author": people.sam,
            "agreement": agreement,
            "kind": Kind.ADD,
            "base_version": 0,
            "section": Section.OK,
            "text": f"Coffee with an old friend is OK, run {run}.",
        }
        (p1, created1), (p2, created2) = together(
            lambda: services.proposal_create(**args), lambda: services.proposal_create(**args)
        )
        assert p1.pk == p2.pk and sorted([created1, created2]) == [False, True], f"run {run}"
    assert AgreementProposal.objects.count() == RUNS


@pytest.mark.django_db(transaction=True)
def test_both_calling_a_review_at_once_open_one(people, agreement):
    for run in range(RUNS):
        (r1, c1), (r2, c2) = together(
            lambda: services.review_call(user=people.alex, agreement=agreement),
            lambda: services.review_call(user=people.sam, agreement=agreement),
        )
        assert r1.pk == r2.pk and sorted([c1, c2]) == [False, True], f"run {run}"
        services.review_close(user=people.alex, agreement=agreement)
    assert AgreementReview.objects.count() == RUNS


@pytest.mark.django_db(transaction=True)
def test_the_race_is_real_without_the_row_lock_updates_collide(
    people, agreement, monkeypatch, capsys
):
    """Proof that the tests above race: with the agreement's row lock planted out, two accepts
    on different clauses read the same version number and collide (one fails, or a change goes
    missing) on PostgreSQL. On SQLite the IMMEDIATE transactions (settings, security.md R45)
    serialise whole accepts, so even without the row lock nothing collides: asserted instead."""
    first = agreed(people.alex, people.sam, agreement, "First clause.")
    second = agreed(people.sam, people.alex, agreement, "Second clause.")

    def unlocked(agreement, user):
        return Agreement.objects.get(pk=agreement.pk)

    monkeypatch.setattr(services, "_lock", unlocked)
    collided = 0
    for run in range(RUNS):
        base = number(agreement)
        by_alex = propose(people.alex, agreement, Kind.CHANGE, clause_id=first.pk, text=f"a{run}")
        by_sam = propose(people.sam, agreement, Kind.CHANGE, clause_id=second.pk, text=f"s{run}")
        results = together(
            lambda p=fresh(by_alex): accept(people.sam, p),
            lambda p=fresh(by_sam): accept(people.alex, p),
            raising=False,
        )
        landed = [r for r in results if isinstance(r, AgreementVersion)]
        final = selectors.version_of(agreement, number(agreement))
        complete = final is not None and set(wording(final).values()) == {f"a{run}", f"s{run}"}
        collided += not (len(landed) == 2 and number(agreement) == base + 2 and complete)
        # Put the agreement back in step for the next run (the other accept, alone).
        for proposal in (by_alex, by_sam):
            proposal.refresh_from_db()
            if proposal.status == Status.OPEN:
                accept(people.alex if proposal.author == people.sam else people.sam, proposal)
    with capsys.disabled():
        print(
            f"\n[C5 accepts without the lock, {connection.vendor}] "
            f"collisions in {collided} of {RUNS} runs"
        )
    if connection.vendor == "postgresql":
        assert collided > 0
    else:
        assert collided == 0
