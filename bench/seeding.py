"""Bulk data for the large benchmarks (P3 caseload, P4 load, P6 warning signs): many couples with
daily history, inserted with bulk_create in chunks. Free text still goes through the model
fields, so it is encrypted exactly as the services would store it (bulk_create calls each
field's get_prep_value). The per-day rows come from trellis.demo.seed's generators, so the data
looks like the demo's; only the accounts and links are made here, without the services'
per-row checks and audit rows (which a benchmark of reads does not need)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from trellis.demo.seed import DEMO_DOMAIN, DEMO_PASSWORD

_HASH: str | None = None


def password_hash() -> str:
    """One real hash of the demo password for every bulk account (hashing each would take
    minutes with argon2's production cost)."""
    global _HASH
    if _HASH is None:
        _HASH = make_password(DEMO_PASSWORD)
    return _HASH


@dataclass
class BulkCouple:
    a: Any
    b: Any
    couple: Any


def couples(
    n: int,
    *,
    prefix: str,
    days: int,
    journal: bool = True,
    checkins: bool = True,
    recovery: bool = True,
    therapist: Any = None,
    scopes: tuple[str, ...] = ("journal", "checkin"),
    chunk: int = 25,
    seed: int = 3,
    progress: bool = False,
) -> list[BulkCouple]:
    """`n` couples with `days` of history each (journal entries and check-ins of both partners,
    partner A in recovery so check-ins carry a craving), optionally all linked to `therapist`
    with both partners' consent for `scopes`."""
    from trellis.accounts.models import User
    from trellis.checkins.models import DailyCheckin
    from trellis.couples.models import Consent, ConsentScope, Couple, Membership, TherapistLink
    from trellis.journal.models import JournalEntry
    from trellis.recovery.models import RecoveryTrack
    from trellis.sharing.audiences import Audience

    rng = random.Random(seed)
    now = timezone.now()
    since = now - timedelta(days=days + 1)
    end = now.date() - timedelta(days=1)
    made: list[BulkCouple] = []
    for start in range(0, n, chunk):
        with transaction.atomic():
            users, pairs = [], []
            for i in range(start, min(n, start + chunk)):
                a = User(
                    email=f"{prefix}{i}a@{DEMO_DOMAIN}",
                    display_name=f"Partner {i}A",
                    password=password_hash(),
                    date_joined=since,
                )
                b = User(
                    email=f"{prefix}{i}b@{DEMO_DOMAIN}",
                    display_name=f"Partner {i}B",
                    password=password_hash(),
                    date_joined=since,
                )
                users += [a, b]
                pairs.append((a, b, Couple(name="", created_by=a, created_at=since)))
            User.objects.bulk_create(users)
            Couple.objects.bulk_create([c for _, _, c in pairs])
            Membership.objects.bulk_create(
                [Membership(couple=c, user=u, joined_at=since) for a, b, c in pairs for u in (a, b)]
            )
            if recovery:
                RecoveryTrack.objects.bulk_create(
                    [
                        RecoveryTrack(
                            author=a,
                            couple=c,
                            audience=Audience.PARTNER_THERAPIST,
                            kind=RecoveryTrack.Kind.SUBSTANCE,
                            what="Alcohol",
                            since=since.date(),
                            goal="One day at a time.",
                            created_at=since,
                            updated_at=since,
                        )
                        for a, _, c in pairs
                    ]
                )
            people = [(u, c, u is a) for a, b, c in pairs for u in (a, b)]
            if journal:
                fast_insert(JournalEntry, journal_rows(people, days=days, rng=rng, end=end))
            if checkins:
                shared = Audience.PARTNER_THERAPIST if therapist is not None else Audience.PARTNER
                fast_insert(
                    DailyCheckin,
                    checkin_rows(people, days=days, rng=rng, end=end, shared=shared),
                )
            if therapist is not None:
                links = [
                    TherapistLink(couple=c, therapist=therapist, created_at=since)
                    for _, _, c in pairs
                ]
                TherapistLink.objects.bulk_create(links)
                consents = [
                    Consent(
                        link=link,
                        grantor=u,
                        therapist=therapist,
                        purpose="Couples therapy sessions",
                        given_at=since,
                        expires_at=now + timedelta(days=180),
                    )
                    for link, (a, b, _) in zip(links, pairs, strict=True)
                    for u in (a, b)
                ]
                Consent.objects.bulk_create(consents)
                ConsentScope.objects.bulk_create(
                    [ConsentScope(consent=c, entry_type=s) for c in consents for s in scopes]
                )
            made += [BulkCouple(a, b, c) for a, b, c in pairs]
        if progress and (start // chunk) % 4 == 3:
            print(f"  … {len(made)}/{n} couples", flush=True)
    return made


def fast_insert(model: Any, rows: list[dict[str, Any]], batch: int = 2000) -> int:
    """INSERT rows (dicts of attname → Python value) with executemany, converting each column
    the way the field would (encrypted text through the field itself, each distinct clear text
    encrypted once), filling the rest with the fields' defaults. Django's bulk_create spends
    most of its time in per-value field preparation; this does the same conversions, once per
    distinct value where that is safe."""
    from django.db import connection

    fields = [f for f in model._meta.concrete_fields]
    cache: dict[tuple[str, Any], Any] = {}

    sqlite = connection.vendor == "sqlite"

    def uuid_value(value: Any) -> Any:
        if value is None:
            return None
        if hasattr(value, "pk"):
            value = value.pk
        return value.hex if sqlite else value

    def cached(f: Any) -> Any:
        def conv(value: Any) -> Any:
            if value is None:
                return None
            key = (f.attname, value)
            if key not in cache:
                cache[key] = f.get_db_prep_save(value, connection)
            return cache[key]

        return conv

    converters = []
    for f in fields:
        kind = (f.target_field if f.is_relation else f).get_internal_type()
        if kind == "UUIDField":
            converters.append(uuid_value)
        elif f.is_relation:
            converters.append(
                lambda v, t=f.target_field: (
                    None if v is None else t.get_db_prep_save(getattr(v, "pk", v), connection)
                )
            )
        else:
            # Encrypted text: each distinct clear text encrypted once (a real Fernet token of
            # it); dates, times, numbers: each distinct value converted once.
            converters.append(cached(f))
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} ({columns}) VALUES ({marks})"
    params = []
    for row in rows:
        values = []
        for f, conv in zip(fields, converters, strict=True):
            if f.attname in row:
                value = row[f.attname]
            elif f.name in row:
                value = row[f.name]
            else:
                value = f.get_default()
            values.append(conv(value))
        params.append(values)
    with connection.cursor() as cur:
        for i in range(0, len(params), batch):
            cur.executemany(sql, params[i : i + batch])
    return len(params)


def journal_rows(
    people: list[tuple[Any, Any, bool]], *, days: int, rng: random.Random, end: Any
) -> list[dict[str, Any]]:
    """One journal entry per person per day, as trellis.demo.seed.journal_history writes them."""
    from datetime import UTC, datetime, time

    from trellis.demo.seed import AUDIENCE_CYCLE, LINES
    from trellis.journal.prompts import PROMPTS

    rows = []
    for index, (user, couple, _) in enumerate(people):
        for d in range(days):
            day = end - timedelta(days=days - 1 - d)
            at = datetime.combine(day, time(20, rng.randrange(0, 59)), tzinfo=UTC)
            rows.append(
                {
                    "author_id": user.pk,
                    "couple_id": couple.pk,
                    "audience": AUDIENCE_CYCLE[(d + index) % len(AUDIENCE_CYCLE)],
                    "kind": "gratitude" if d % 7 == 6 else "journal",
                    "title": "" if d % 3 else rng.choice(["Evening", "Notes", "A quieter day"]),
                    "body": rng.choice(LINES),
                    "prompt_key": PROMPTS[d % len(PROMPTS)].key if d % 4 == 0 else "",
                    "created_at": at,
                    "updated_at": at,
                }
            )
    return rows


def checkin_rows(
    people: list[tuple[Any, Any, bool]],
    *,
    days: int,
    rng: random.Random,
    end: Any,
    shared: str,
) -> list[dict[str, Any]]:
    """Daily check-ins (a day missed now and then), values drifting gently as in
    trellis.demo.seed.checkin_history; craving for the partner in recovery; 85 % shared."""
    from datetime import UTC, datetime, time

    from trellis.demo.seed import GRATITUDE
    from trellis.sharing.audiences import Audience

    rows = []
    for user, couple, recovering in people:
        level = {"mood": 3.0, "stress": 3.3, "sleep": 3.2, "closeness": 2.9, "safety": 3.1}
        craving = 4.0
        for d in range(days):
            for key in level:
                level[key] += 0.35 * (3.0 - level[key]) + rng.uniform(-0.75, 0.75)
            craving = min(10.0, max(0.0, craving + 0.35 * (4 - craving) + rng.uniform(-1.4, 1.4)))
            if rng.random() < 0.14:
                continue
            day = end - timedelta(days=days - 1 - d)
            at = datetime.combine(day, time(21, rng.randrange(0, 59)), tzinfo=UTC)
            row: dict[str, Any] = {
                "author_id": user.pk,
                "couple_id": couple.pk,
                "audience": Audience.ONLY_ME if rng.random() < 0.15 else shared,
                "local_date": day,
                "craving": round(craving) if recovering else None,
                "recovery": "kept" if recovering else "",
                "halt_tired": rng.random() < 0.25,
                "halt_lonely": rng.random() < 0.1,
                "gratitude": rng.choice(GRATITUDE),
                "created_at": at,
                "updated_at": at,
            }
            for key, value in level.items():
                row[key] = max(1, min(5, round(value)))
            rows.append(row)
    return rows


def therapist(email: str = f"bench-therapist@{DEMO_DOMAIN}") -> Any:
    """A therapist with TOTP set up (so the two-factor middleware lets them in)."""
    from allauth.mfa.totp.internal.auth import TOTP

    from trellis.accounts.models import User
    from trellis.demo.seed import DEMO_TOTP_SECRET

    user = User.objects.create(
        email=email,
        display_name="Dr. Bench",
        role=User.Role.THERAPIST,
        password=password_hash(),
        accepts_confidences=True,
    )
    TOTP.activate(user, DEMO_TOTP_SECRET)
    return user
