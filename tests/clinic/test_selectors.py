"""Caseload, timeline and warning signs read only what each partner consented to share."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.personas import build_people, give_consent
from trellis.checkins.models import DailyCheckin
from trellis.clinic import selectors, services, warnings
from trellis.journal.models import JournalEntry
from trellis.sharing.audiences import Audience

pytestmark = pytest.mark.django_db


def _checkin(person, couple, day, *, craving=None, safety=4, audience=Audience.PARTNER_THERAPIST):
    return DailyCheckin.objects.create(
        author=person,
        couple=couple,
        audience=audience,
        local_date=day,
        mood=3,
        stress=3,
        sleep=3,
        closeness=3,
        safety=safety,
        craving=craving,
    )


def test_signals_come_only_from_consented_data():
    p = build_people()
    today = timezone.localdate()
    # Alex consented to journal only; Sam consents to check-ins.
    give_consent(p.sam, p.lee, p.couple, scopes=["checkin"])
    for i in range(14):
        day = today - timedelta(days=i)
        _checkin(p.alex, p.couple, day, craving=8 if i < 7 else 1, safety=1)
        _checkin(p.sam, p.couple, day, safety=1)
    kinds = {(s.person_id, s.kind) for s in warnings.for_therapist(p.lee, [p.couple.pk], today)}
    assert (p.sam.pk, "low_safety") in kinds
    assert not any(pid == p.alex.pk for pid, _ in kinds), "Alex never consented to check-ins"
    mine = {s.kind for s in warnings.for_person(p.alex, today)}
    assert {"rising_craving", "low_safety"} <= mine
    assert not warnings.for_therapist(p.noor, [p.couple.pk], today)
    every = {(s.person_id, s.kind) for s in warnings.evaluate_all(today)}
    assert (p.alex.pk, "rising_craving") in every


def test_caseload_and_timeline_show_only_consented_entries():
    p = build_people()
    shared = JournalEntry.objects.create(
        author=p.alex, couple=p.couple, audience=Audience.PARTNER_THERAPIST, body="x"
    )
    JournalEntry.objects.create(author=p.alex, couple=p.couple, audience=Audience.ONLY_ME, body="y")
    JournalEntry.objects.create(
        author=p.sam, couple=p.couple, audience=Audience.PARTNER_THERAPIST, body="z"
    )
    rows = selectors.caseload(p.lee)
    assert len(rows) == 1
    row = rows[0]
    assert row.last_shared_at == shared.created_at
    names = {pc.name: pc.scopes for pc in row.partners}
    assert names == {"Alex": ["journal"], "Sam": []}
    items = selectors.timeline(p.lee, p.couple.pk)
    assert [i.id for i in items] == [shared.pk]
    assert selectors.timeline(p.noor, p.couple.pk) == []


def test_caseload_query_count_does_not_grow_with_couples():
    p = build_people()

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            selectors.caseload(p.lee)
        return len(ctx.captured_queries)

    small = count()
    from tests.personas import make_couple, make_user

    for i in range(5):
        a = make_user(f"a{i}@example.test", f"A{i}")
        b = make_user(f"b{i}@example.test", f"B{i}")
        c = make_couple(a, b)
        give_consent(a, p.lee, c, scopes=["journal", "checkin"])
        services.homework_assign(
            therapist=p.lee,
            link_id=c.therapist_links.get().pk,
            kind="task",
            title="Walk together",
            due_on=timezone.localdate(),
            assignees=[a.pk, b.pk],
        )
    assert count() == small
