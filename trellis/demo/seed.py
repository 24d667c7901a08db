"""Deterministic demo and benchmark data.

`seed_demo()` makes the people a newcomer signs in as: a couple (Alex, in recovery, and Sam),
their therapist (Dr. Lee, with a fixed demo TOTP secret), and an unrelated couple (Casey and
Riley), with weeks of journal entries in mixed audiences, and Alex and Sam's agreement with its
history (made through the agreement services, as the couple would have), and Alex's recovery: his
alcohol track shared with Sam, one lapse five weeks ago and his relapse-prevention plan saved
twice; and Dr. Lee's practice (`clinic_history`): the clinic "Harbour Counselling" with its
administrator, Alex and Sam's consents, homework, appointments and private notes, and three more
couples whose shared check-ins raise a flag or two on the caseload. `seed_bench(couples, days)` adds
couples with `days` of history for the benchmarks and query-count tests. Same seed, same data.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from trellis.accounts.models import User
from trellis.couples.models import Consent, ConsentScope, Couple, Membership, TherapistLink
from trellis.journal.models import JournalEntry
from trellis.journal.prompts import PROMPTS
from trellis.recovery.models import RecoveryTrack
from trellis.sharing.audiences import Audience

DEMO_PASSWORD = "quiet-harbour-morning"
DEMO_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
DEMO_DOMAIN = "demo.trellis.test"

# Demo journal lines, written for Trellis.
LINES = (
    "Slept badly, but we had a good talk over breakfast. I noticed I wanted to rush it and didn't.",
    "Went to my meeting. Said out loud that the evenings are still the hardest part.",
    "Felt a wave of anger this afternoon and went for a walk before answering. It passed.",
    "We laughed at dinner for the first time in a while. I want to remember how that felt.",
    "Today I kept the agreement about phones in the bedroom. It was easier than I feared.",
    "Therapy was hard. I heard how much the secrecy hurt, not only what I did.",
    "Grateful for coffee made without asking, a quiet morning, and a text that said 'proud of you'.",
    "Noticed the old pull when I was tired and alone. Called my sponsor instead of sitting with it.",
    "I asked for a slower pace tonight and it was respected. That matters to me.",
    "A small thing: we held hands on the walk home. Nobody made it into a big deal.",
    "Work stress leaked into the evening. I named it instead of going quiet.",
    "Wrote down three reasons I'm doing this. Reading them back helped.",
)
AUDIENCE_CYCLE = (
    Audience.ONLY_ME,
    Audience.PARTNER,
    Audience.PARTNER_THERAPIST,
    Audience.ONLY_ME,
    Audience.PARTNER,
)


@dataclass
class DemoPeople:
    alex: User
    sam: User
    therapist: User
    casey: User
    riley: User
    couple: Couple
    other_couple: Couple
    admin: User | None = None


def _user(
    email: str, name: str, *, role: str = "member", pronouns: str = "", password: str
) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(
            email=email, password=password, display_name=name, role=role, pronouns=pronouns
        )
        from allauth.account.models import EmailAddress

        EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
    return user


def _couple(a: User, b: User, name: str, since: datetime) -> Couple:
    couple = Couple.objects.create(name=name, created_by=a, created_at=since)
    Membership.objects.create(couple=couple, user=a, joined_at=since)
    Membership.objects.create(couple=couple, user=b, joined_at=since)
    return couple


def journal_history(
    people: list[tuple[User, Couple]], *, days: int, rng: random.Random, end: date
) -> int:
    """One entry per person per day for `days` days, audiences cycling deterministically."""
    rows = []
    for person_index, (user, couple) in enumerate(people):
        for d in range(days):
            day = end - timedelta(days=days - 1 - d)
            at = datetime.combine(day, time(20, rng.randrange(0, 59)), tzinfo=UTC)
            rows.append(
                JournalEntry(
                    author=user,
                    couple=couple,
                    audience=AUDIENCE_CYCLE[(d + person_index) % len(AUDIENCE_CYCLE)],
                    kind=JournalEntry.Kind.GRATITUDE if d % 7 == 6 else JournalEntry.Kind.JOURNAL,
                    title=""
                    if d % 3
                    else rng.choice(["Evening", "After therapy", "A quieter day", "Notes"]),
                    body=rng.choice(LINES),
                    prompt_key=PROMPTS[d % len(PROMPTS)].key if d % 4 == 0 else "",
                    created_at=at,
                    updated_at=at,
                )
            )
    JournalEntry.objects.bulk_create(rows, batch_size=500)
    return len(rows)


def demo_exists() -> bool:
    return User.objects.filter(email=f"alex@{DEMO_DOMAIN}").exists()


@transaction.atomic
def seed_demo(*, days: int = 42, seed: int = 7) -> DemoPeople:
    rng = random.Random(seed)  # noqa: S311 - deterministic demo data, not secrets
    now = timezone.now()
    since = now - timedelta(days=days + 10)
    alex = _user(f"alex@{DEMO_DOMAIN}", "Alex", pronouns="he/him", password=DEMO_PASSWORD)
    sam = _user(f"sam@{DEMO_DOMAIN}", "Sam", pronouns="she/her", password=DEMO_PASSWORD)
    therapist = _user(
        f"therapist@{DEMO_DOMAIN}",
        "Dr. Jordan Lee",
        role=User.Role.THERAPIST,
        password=DEMO_PASSWORD,
    )
    therapist.accepts_confidences = True
    therapist.save(update_fields=["accepts_confidences"])
    casey = _user(f"casey@{DEMO_DOMAIN}", "Casey", pronouns="they/them", password=DEMO_PASSWORD)
    riley = _user(f"riley@{DEMO_DOMAIN}", "Riley", pronouns="he/him", password=DEMO_PASSWORD)

    admin = _user(
        f"admin@{DEMO_DOMAIN}",
        "Robin Hale",
        role=User.Role.CLINIC_ADMIN,
        password=DEMO_PASSWORD,
    )
    _demo_totp(therapist)
    _demo_totp(admin)

    couple = _couple(alex, sam, "Alex & Sam", since)
    other = _couple(casey, riley, "", since)
    recovery_track(alex, since=(now - timedelta(days=97)).date())
    link = TherapistLink.objects.create(couple=couple, therapist=therapist, created_at=since)
    journal_history(
        [(alex, couple), (sam, couple), (casey, other), (riley, other)],
        days=days,
        rng=rng,
        end=now.date() - timedelta(days=1),
    )
    checkin_history(
        [(alex, couple), (sam, couple)], days=days, rng=rng, end=now.date() - timedelta(days=1)
    )
    agreement_history(alex, sam, now=now)
    recovery_history(alex, now=now)
    clinic_history(therapist, admin, alex, sam, link, now=now, rng=rng)
    return DemoPeople(alex, sam, therapist, casey, riley, couple, other, admin)


def _demo_totp(user: User) -> None:
    """The demo's fixed TOTP secret (printed by `seed_demo`; `demo_totp` shows the code)."""
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP

    if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(user, DEMO_TOTP_SECRET)


@transaction.atomic
def seed_bench(*, couples: int, days: int, seed: int = 11, prefix: str = "bench") -> list[Any]:
    """`couples` couples with `days` of history each; returns [(a, b, couple), ...]."""
    rng = random.Random(seed)  # noqa: S311 - deterministic demo data, not secrets
    now = timezone.now()
    made = []
    people: list[tuple[User, Couple]] = []
    for i in range(couples):
        a = _user(f"{prefix}{i}a@{DEMO_DOMAIN}", f"Partner {i}A", password=DEMO_PASSWORD)
        b = _user(f"{prefix}{i}b@{DEMO_DOMAIN}", f"Partner {i}B", password=DEMO_PASSWORD)
        c = _couple(a, b, "", now - timedelta(days=days + 1))
        people += [(a, c), (b, c)]
        made.append((a, b, c))
    journal_history(people, days=days, rng=rng, end=now.date() - timedelta(days=1))
    return made


# Demo gratitude lines for check-ins, written for Trellis.
GRATITUDE = (
    "A slow breakfast together.",
    "The walk after dinner.",
    "A kind text in the afternoon.",
    "Being listened to without being fixed.",
    "Sleeping through the night.",
    "",
    "",
)


def checkin_history(
    people: list[tuple[User, Couple]], *, days: int, rng: random.Random, end: date
) -> int:
    """Daily check-ins for `days` days ending at `end`: gently varying values (a slow drift
    plus a little noise), a day without one now and then, audiences mostly "my partner" with
    some "only me". Craving is recorded only for a person with an open recovery track."""
    from trellis.checkins.models import DailyCheckin

    in_recovery = set(
        RecoveryTrack.objects.filter(
            author__in=[u for u, _ in people], ended_at__isnull=True
        ).values_list("author_id", flat=True)
    )

    # Where each scale tends to settle, and which way it eases over the weeks.
    targets = {"mood": 3.1, "stress": 3.3, "sleep": 3.2, "closeness": 2.9, "safety": 3.1}
    eases = {"mood": 1.0, "stress": -1.0, "sleep": 0.6, "closeness": 1.0, "safety": 0.8}

    def drift(level: float, target: float, noise: float) -> float:
        return level + 0.35 * (target - level) + rng.uniform(-noise, noise)

    rows = []
    for person_index, (user, couple) in enumerate(people):
        recovering = user.pk in in_recovery
        level = dict(targets)
        craving = 4.0
        for d in range(days):
            day = end - timedelta(days=days - 1 - d)
            # Things ease a little over the weeks; the same seed always gives the same days.
            progress = d / max(days - 1, 1)
            for key in level:
                level[key] = drift(level[key], targets[key] + 0.7 * eases[key] * progress, 0.75)
            craving = min(10.0, max(0.0, drift(craving, 4.0 - 2.5 * progress, 1.4)))
            if rng.random() < 0.14:
                continue  # no check-in that day
            at = datetime.combine(day, time(21, rng.randrange(0, 59)), tzinfo=UTC)
            scale = {key: max(1, min(5, round(value))) for key, value in level.items()}
            roll = rng.random()
            rows.append(
                DailyCheckin(
                    author=user,
                    couple=couple,
                    audience=Audience.ONLY_ME if roll < 0.15 else Audience.PARTNER,
                    local_date=day,
                    mood=scale["mood"],
                    stress=scale["stress"],
                    sleep=scale["sleep"],
                    closeness=scale["closeness"],
                    safety=scale["safety"],
                    desire=rng.choice([None, 2, 3, 3, 4]),
                    fatigue=rng.choice([None, 2, 3, 4]),
                    craving=round(craving) if recovering else None,
                    recovery=DailyCheckin.Recovery.KEPT if recovering else "",
                    halt_tired=rng.random() < 0.25,
                    halt_lonely=rng.random() < 0.1 + 0.05 * person_index,
                    gratitude=rng.choice(GRATITUDE),
                    created_at=at,
                    updated_at=at,
                )
            )
    DailyCheckin.objects.bulk_create(rows, batch_size=500)
    return len(rows)


# --- the demo recovery -----------------------------------------------------------------------

# Alex's words, written for Trellis: calm, specific, his own.
RECOVERY_GOAL = (
    "No alcohol, one day at a time. When the evenings get long I reach for a person, not a drink."
)
LAPSE_WORDS = {
    "what_led": (
        "A late Friday at work, then drinks for a colleague who was leaving. I told myself one "
        "glass was polite. I was tired and had not eaten since lunch."
    ),
    "what_helps": (
        "Telling Sam the next morning instead of waiting. Going to the Saturday meeting and "
        "saying it out loud there."
    ),
    "who_to_tell": "Sam, my sponsor Jo, and Dr. Lee at our next session.",
    "impact": (
        "Sam was hurt that I had not called before going. She said the honesty the next "
        "morning helped."
    ),
    "prevention": (
        "Leave work events after the first hour, eat before going, and text Jo on the way."
    ),
}
# Two saves of Alex's relapse-prevention plan: the second adds what he learned from the lapse.
PLAN_FIRST: dict[str, Any] = {
    "situations": [
        {
            "situation": "Friday evenings after a hard week",
            "coping": "Go to the gym straight from work and cook dinner with Sam.",
        },
        {
            "situation": "Arguments with Sam that end with one of us leaving the room",
            "coping": "Say 'I need twenty minutes', walk round the block, then come back.",
        },
        {
            "situation": "Being home alone on weekday evenings",
            "coping": "Call Jo, or go to the evening meeting on Brook Street.",
        },
    ],
    "warning_signs": [
        "Skipping meals and running on coffee",
        "Going quiet with Sam and saying 'I'm fine'",
        "Telling myself I have earned a break",
        "Staying up late on my phone",
    ],
    "halt": ["tired", "lonely"],
    "lifestyle": (
        "A walk before work, the Tuesday football game, meals at the table with Sam, and "
        "in bed by eleven."
    ),
    "lapse_plan": (
        "Stop, and pour the rest away. Tell Sam within a day. Call Jo. Remember that one "
        "evening does not undo the weeks before it: write down what led to it and what I "
        "will do differently."
    ),
    "contacts": [
        {
            "name": "Jo (sponsor)",
            "how": "Phone, any time before 11pm",
            "email": "",
            "notify": False,
        },
        {
            "name": "My brother Dan",
            "how": "Text first, he calls back",
            "email": "",
            "notify": False,
        },
    ],
    "reasons": (
        "I want to be someone Sam can trust again. I want clear mornings and to remember our "
        "evenings. I like who I am when I am not hiding."
    ),
    "partner_can": (
        "Ask me how I am doing and wait for the real answer. Say it kindly when you notice I "
        "have gone quiet. It does not help to check my phone or count the bottles."
    ),
}
PLAN_SECOND: dict[str, Any] = {
    **PLAN_FIRST,
    "situations": [
        *PLAN_FIRST["situations"][:2],
        {
            "situation": "Work drinks and leaving parties",
            "coping": "Eat first, stay one hour, text Jo when I arrive and when I leave.",
        },
    ],
}


def recovery_track(alex: User, *, since: date) -> RecoveryTrack:
    """Alex's alcohol track, shared with Sam (before the check-ins: they ask about craving)."""
    from trellis.recovery import services
    from trellis.sharing.models import AuditEvent

    # `what` is encrypted: compared here, not in SQL.
    mine = RecoveryTrack.objects.filter(author=alex, kind=RecoveryTrack.Kind.SUBSTANCE)
    track = next((t for t in mine.order_by("since") if t.what == "Alcohol"), None)
    if track is None:
        track = services.track_add(
            user=alex,
            kind=RecoveryTrack.Kind.SUBSTANCE,
            what="Alcohol",
            since=since,
            goal=RECOVERY_GOAL,
            audience=Audience.PARTNER,
        )
        at = datetime.combine(since, time(9, 0), tzinfo=UTC)
        RecoveryTrack.objects.filter(pk=track.pk).update(created_at=at, updated_at=at)
        AuditEvent.objects.filter(entry_id=track.pk).update(at=at, day=at.date())
    return track


def recovery_history(alex: User, *, now: datetime) -> None:
    """One lapse about five weeks ago, shared with Sam, so the track shows a current run, the
    recovery days kept across it and the milestones of the earlier run; and Alex's plan, for
    Sam and Dr. Lee, saved twice. Safe to run again: nothing is added twice."""
    from trellis.checkins.models import DailyCheckin
    from trellis.recovery import services
    from trellis.recovery.models import Lapse, PlanRevision, RecoveryPlan
    from trellis.sharing.models import AuditEvent

    track = recovery_track(alex, since=(now - timedelta(days=97)).date())
    if not Lapse.objects.filter(track=track).exists():
        day = (now - timedelta(days=36)).date()
        lapse = services.lapse_log(
            user=alex, track=track, local_date=day, audience=Audience.PARTNER, **LAPSE_WORDS
        )
        logged = datetime.combine(day + timedelta(days=1), time(8, 40), tzinfo=UTC)
        Lapse.objects.filter(pk=lapse.pk).update(created_at=logged, updated_at=logged)
        AuditEvent.objects.filter(entry_id=lapse.pk).update(at=logged, day=logged.date())
        # That evening's check-in says so too.
        DailyCheckin.objects.filter(author=alex, local_date=day).update(
            recovery=DailyCheckin.Recovery.LAPSE
        )

    if RecoveryPlan.objects.filter(author=alex).exists():
        return
    plan = services.plan_save(user=alex, content=PLAN_FIRST, audience=Audience.PARTNER_THERAPIST)
    plan = services.plan_save(
        user=alex,
        content=PLAN_SECOND,
        audience=Audience.PARTNER_THERAPIST,
        expected_version=plan.version,
    )
    first = datetime.combine((now - timedelta(days=60)).date(), time(19, 30), tzinfo=UTC)
    second = datetime.combine((now - timedelta(days=33)).date(), time(20, 15), tzinfo=UTC)
    RecoveryPlan.objects.filter(pk=plan.pk).update(created_at=first, updated_at=second)
    PlanRevision.objects.filter(plan=plan, number=1).update(saved_at=first)
    PlanRevision.objects.filter(plan=plan, number=2).update(saved_at=second)
    saves = AuditEvent.objects.filter(entry_id=plan.pk)
    saves.filter(action=AuditEvent.Action.CREATED).update(at=first, day=first.date())
    saves.filter(action=AuditEvent.Action.EDITED).update(at=second, day=second.date())


# --- the demo agreement ----------------------------------------------------------------------


def agreement_history(alex: User, sam: User, *, now: datetime) -> Any:
    """Alex and Sam's agreement over the last six weeks, in their own words (adapted from
    trellis.agreements.suggestions), made through the services and then dated back: clauses in
    several sections, a counter-proposal, a declined proposal with a kind reason, a changed
    clause, a retired one, a proposal from Sam waiting for Alex, and a clause due for review."""
    from trellis.agreements import services
    from trellis.agreements.models import (
        Agreement,
        AgreementProposal,
        AgreementVersion,
        Clause,
        ClauseText,
    )
    from trellis.sharing.models import AuditEvent

    agreement = services.agreement_for(alex)
    assert agreement is not None
    first = now - timedelta(days=42)
    Agreement.objects.filter(pk=agreement.pk).update(created_at=first, updated_at=first)

    def when(days_ago: int, hour: int) -> datetime:
        return datetime.combine((now - timedelta(days=days_ago)).date(), time(hour, 5), tzinfo=UTC)

    def propose(author: User, days_ago: int, **terms: Any) -> AgreementProposal:
        current = Agreement.objects.get(pk=agreement.pk)
        proposal, _ = services.proposal_create(
            author=author, agreement=current, base_version=current.version, **terms
        )
        _dated(proposal, when(days_ago, 20))
        return proposal

    def _dated(proposal: AgreementProposal, at: datetime) -> None:
        AgreementProposal.objects.filter(pk=proposal.pk).update(created_at=at, updated_at=at)
        AuditEvent.objects.filter(entry_id=proposal.pk).update(at=at, day=at.date())

    def _decided(proposal: AgreementProposal, at: datetime) -> None:
        AgreementProposal.objects.filter(pk=proposal.pk).update(decided_at=at, updated_at=at)

    def accept(user: User, proposal: AgreementProposal, days_ago: int) -> AgreementVersion:
        version = services.proposal_accept(
            user=user, proposal=proposal, expected_version=proposal.version
        )
        at = when(days_ago, 21)
        _decided(proposal, at)
        AgreementVersion.objects.filter(pk=version.pk).update(created_at=at)
        ClauseText.objects.filter(proposal=proposal).update(
            created_at=at, updated_at=at, accepted_at=at
        )
        Clause.objects.filter(agreement_id=agreement.pk, created_in=version.number).update(
            created_at=at
        )
        Clause.objects.filter(agreement_id=agreement.pk, retired_in=version.number).update(
            retired_at=at
        )
        Agreement.objects.filter(pk=agreement.pk).update(updated_at=at)
        return version

    def clause_of(proposal: AgreementProposal) -> str:
        return str(ClauseText.objects.get(proposal=proposal).clause_id)

    meetings = propose(
        alex,
        41,
        kind="add",
        section="recovery",
        text="I go to my AA meetings on Tuesdays and Saturdays, and I tell Sam beforehand if "
        "I have to miss one.",
        rationale="Knowing the rhythm of my recovery helps Sam feel less in the dark.",
    )
    accept(sam, meetings, 40)
    secrets = propose(
        sam,
        40,
        kind="add",
        section="off_limits",
        text="No secret accounts, apps or phones, for either of us.",
        rationale="The secrecy hurt more than anything else. Being open is how we rebuild.",
    )
    accept(alex, secrets, 39)
    screen_time = propose(
        alex,
        38,
        kind="add",
        section="digital",
        text="Every Sunday I show Sam my phone's screen-time report.",
        rationale="A simple way to show I have nothing to hide while trust comes back.",
    )
    accept(sam, screen_time, 38)

    # Alex proposes; Sam answers with her own wording; Alex accepts hers.
    phones = propose(
        alex, 36, kind="add", section="digital", text="My phone stays out of the bedroom."
    )
    both_phones = services.proposal_counter(
        user=sam,
        proposal=phones,
        expected_version=phones.version,
        text="Both our phones stay out of the bedroom at night and charge in the kitchen.",
        rationale="If it is both of us, it is a habit we share, not a rule just for you.",
    )
    _dated(both_phones, when(35, 19))
    _decided(phones, when(35, 19))
    accept(alex, both_phones, 34)

    space = propose(
        sam,
        31,
        kind="add",
        section="ok",
        text="Either of us can ask for time alone to calm down, as long as we say when we will "
        "talk again.",
        rationale="Taking a pause is fine; going silent without a word is what hurts.",
    )
    accept(alex, space, 30)
    money = propose(
        alex,
        28,
        kind="add",
        section="money",
        text="We talk before any single purchase over $200.",
    )
    accept(sam, money, 27)

    # Declined, kindly, with another idea.
    evenings = propose(
        alex,
        23,
        kind="add",
        section="recovery",
        text="We each do a check-in every evening, even on days when there is little to say.",
        rationale="Small, regular honesty builds more trust than occasional big talks.",
    )
    services.proposal_decline(
        user=sam,
        proposal=evenings,
        expected_version=evenings.version,
        reason="I love why you want this. Evenings are when I am most worn out, though; could "
        "we try mornings, or bring it to our Sunday meeting first?",
    )
    _decided(evenings, when(22, 8))

    # A change, so two versions can be compared.
    money_change = propose(
        sam,
        17,
        kind="change",
        clause_id=clause_of(money),
        text="We talk before any single purchase over $150, and we look at our statements "
        "together on the first Sunday of the month.",
        rationale="Money was part of how things stayed hidden; looking together keeps it open.",
        reason="Looking together once a month feels better than me asking about receipts.",
    )
    accept(alex, money_change, 16)

    # Retired: it did its job.
    retire = propose(
        sam,
        11,
        kind="retire",
        clause_id=clause_of(screen_time),
        reason="It did its job. It has started to feel like checking up on you, and I do not "
        "need it any more.",
    )
    accept(alex, retire, 10)

    # Waiting for Alex.
    propose(
        sam,
        3,
        kind="add",
        section="disclosure",
        text="If a slip happens, I would like to hear within a day that it happened and what "
        "your plan is. I do not need the details unless I ask.",
        rationale="The waiting and wondering is harder for me than the news itself.",
    )

    # The meetings clause was set for an early first look; that day has come.
    due = when(4, 12).date()
    meetings_clause = clause_of(meetings)
    Clause.objects.filter(pk=meetings_clause).update(review_on=due, review_every_days=30)
    ClauseText.objects.filter(proposal=meetings).update(review_on=due)
    return Agreement.objects.get(pk=agreement.pk)


# --- the demo practice -----------------------------------------------------------------------

CLINIC_NAME = "Harbour Counselling"
# Dr. Lee's words, written for Trellis: brief, clinical, the therapist's own.
NOTE_SESSION = (
    "Joint session. Alex described the lapse and what he has changed since; Sam said the honesty "
    "the next morning mattered more to her than the slip itself. Both engaged. Agreed: the weekly "
    "meeting stays on Sundays; trust-building homework for both. Next: review the disclosure "
    "preferences Sam is drafting."
)
NOTE_REFERRAL = (
    "Alex reports poor sleep and low energy for several weeks. With his agreement, suggested he "
    "see his GP to rule out a physical cause before we move to the next sensate-focus stage."
)
# Three more couples Dr. Lee sees: (first, second, couple name, how their shared check-ins go).
OTHER_COUPLES = (
    ("Maya", "Chris", "Maya & Chris", "rising_craving"),
    ("Priya", "Dan", "Priya & Dan", "missed_checkins"),
    ("Noah", "Eli", "Noah & Eli", "steady"),
)


def _consent(
    link: TherapistLink, grantor: User, scopes: list[str], *, given: datetime, days: int = 90
) -> Consent:
    consent = Consent.objects.create(
        link=link,
        grantor=grantor,
        therapist=link.therapist,
        purpose="Couples therapy",
        given_at=given,
        expires_at=given + timedelta(days=days),
    )
    ConsentScope.objects.bulk_create([ConsentScope(consent=consent, entry_type=s) for s in scopes])
    return consent


def clinic_history(
    therapist: User,
    admin: User,
    alex: User,
    sam: User,
    link: TherapistLink,
    *,
    now: datetime,
    rng: random.Random,
) -> None:
    """Dr. Lee's practice: the clinic and its administrator; Alex's and Sam's consents (each
    their own); three pieces of homework (one open for both, one Alex did and shared, one Sam did
    and shared); a session next week and a booster in six weeks; two private notes; and three
    more couples whose shared check-ins make the caseload show a rising-craving flag on one and
    missed check-ins on another. Safe to run again: nothing is added twice."""
    from trellis.clinic import services
    from trellis.clinic.models import (
        Appointment,
        Clinic,
        ClinicMember,
        Homework,
        HomeworkCompletion,
        SessionNote,
    )

    if Clinic.objects.filter(name=CLINIC_NAME, members__user=admin).exists():
        return
    clinic = services.clinic_create(name=CLINIC_NAME, admin=admin)
    ClinicMember.objects.create(clinic=clinic, user=therapist, role=ClinicMember.Role.THERAPIST)

    given = now - timedelta(days=20)
    _consent(
        link,
        alex,
        ["journal", "checkin", "recovery_track", "recovery_lapse", "homework"],
        given=given,
    )
    _consent(link, sam, ["checkin", "meeting_answer", "homework"], given=given)
    # Since they consented, the check-ins they already share with each other include Dr. Lee.
    from trellis.checkins.models import DailyCheckin

    DailyCheckin.objects.filter(
        author__in=[alex, sam], audience=Audience.PARTNER, created_at__gte=given
    ).update(audience=Audience.PARTNER_THERAPIST)

    today = now.date()

    def assign(kind: str, title: str, due: int, who: list[User], ref: str = "", **kw: Any) -> Any:
        hw = services.homework_assign(
            therapist=therapist,
            link_id=link.pk,
            kind=kind,
            title=title,
            due_on=today + timedelta(days=max(due, 0)),
            assignees=[u.pk for u in who],
            ref=ref,
            **kw,
        )
        at = now - timedelta(days=max(7 - due, 2))
        Homework.objects.filter(pk=hw.pk).update(due_on=today + timedelta(days=due), created_at=at)
        return hw

    def done(user: User, hw: Any, days_ago: int, note: str) -> None:
        completion, _ = services.homework_complete(
            user=user, homework_id=hw.pk, note=note, audience=Audience.PARTNER_THERAPIST
        )
        at = datetime.combine(today - timedelta(days=days_ago), time(19, 10), tzinfo=UTC)
        HomeworkCompletion.objects.filter(pk=completion.pk).update(created_at=at, updated_at=at)

    assign(
        "journal_prompt",
        "Write about one small thing that felt trustworthy this week",
        3,
        [alex, sam],
        ref="trust-small",
        instructions="A few lines each is plenty. Share it with each other if you want to.",
    )
    evenings = assign(
        "task",
        "Plan two evenings this week around a person, not a drink",
        -4,
        [alex],
        instructions="Write down who you will see or call, and when.",
    )
    done(alex, evenings, 5, "Football on Tuesday with Dan, and Thursday dinner at Jo's.")
    closeness = assign(
        "meeting_prompts",
        "Use the closeness prompts at your Sunday meeting",
        4,
        [alex, sam],
        ref="closeness",
    )
    done(sam, closeness, 1, "We did it on Sunday. Easier to talk than I expected.")

    for days, kind in ((7, Appointment.Kind.SESSION), (42, Appointment.Kind.BOOSTER)):
        when = datetime.combine(today + timedelta(days=days), time(17, 0), tzinfo=UTC)
        services.appointment_create(therapist=therapist, link_id=link.pk, starts_at=when, kind=kind)
    services.note_create(
        therapist=therapist,
        link_id=link.pk,
        kind=SessionNote.Kind.SESSION,
        on_date=today - timedelta(days=5),
        body=NOTE_SESSION,
    )
    services.note_create(
        therapist=therapist,
        link_id=link.pk,
        kind=SessionNote.Kind.REFERRAL,
        on_date=today - timedelta(days=5),
        body=NOTE_REFERRAL,
        referral_to="Alex's GP",
    )
    _other_couples(therapist, now=now, rng=rng)


def _other_couples(therapist: User, *, now: datetime, rng: random.Random) -> None:
    """Three couples with two weeks of check-ins shared with Dr. Lee (each partner consented
    to check-ins), shaped so the warning signs have something to say."""
    from trellis.checkins.models import DailyCheckin
    from trellis.clinic import services

    today = now.date()
    since = now - timedelta(days=60)
    rows = []
    for index, (first, second, name, story) in enumerate(OTHER_COUPLES):
        a = _user(f"{first.lower()}@{DEMO_DOMAIN}", first, password=DEMO_PASSWORD)
        b = _user(f"{second.lower()}@{DEMO_DOMAIN}", second, password=DEMO_PASSWORD)
        couple = _couple(a, b, name, since)
        link = TherapistLink.objects.create(couple=couple, therapist=therapist, created_at=since)
        for person in (a, b):
            _consent(link, person, ["checkin"], given=since + timedelta(days=1))
        if story == "rising_craving":
            RecoveryTrack.objects.create(
                author=a,
                couple=couple,
                audience=Audience.PARTNER_THERAPIST,
                kind=RecoveryTrack.Kind.BEHAVIOUR,
                what="Gambling",
                since=(now - timedelta(days=120)).date(),
            )
        else:
            when = datetime.combine(today + timedelta(days=2 + 7 * index), time(16, 0), tzinfo=UTC)
            services.appointment_create(therapist=therapist, link_id=link.pk, starts_at=when)
        for person_index, person in enumerate((a, b)):
            for ago in range(13, 0, -1):
                if story == "missed_checkins" and person_index == 1 and ago <= 3:
                    continue  # Dan has not checked in for three days
                if story == "missed_checkins" and person_index == 0 and ago % 3 == 0:
                    continue
                craving = None
                if story == "rising_craving" and person_index == 0:
                    craving = (6 if ago <= 6 else 2) + rng.choice([0, 0, 1])
                day = today - timedelta(days=ago)
                at = datetime.combine(day, time(21, rng.randrange(0, 59)), tzinfo=UTC)
                rows.append(
                    DailyCheckin(
                        author=person,
                        couple=couple,
                        audience=Audience.PARTNER_THERAPIST,
                        local_date=day,
                        mood=rng.choice([3, 3, 4]),
                        stress=rng.choice([2, 3, 3]),
                        sleep=rng.choice([3, 4]),
                        closeness=rng.choice([3, 4]),
                        safety=rng.choice([3, 4, 4]),
                        craving=craving,
                        recovery=DailyCheckin.Recovery.KEPT if craving is not None else "",
                        created_at=at,
                        updated_at=at,
                    )
                )
    DailyCheckin.objects.bulk_create(rows)
