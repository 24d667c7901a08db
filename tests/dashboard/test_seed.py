"""The demo's check-in history: deterministic, plausible, craving only for a person in recovery."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from tests.personas import make_couple, make_user
from trellis.checkins.models import DailyCheckin
from trellis.demo.seed import checkin_history
from trellis.recovery.models import RecoveryTrack
from trellis.sharing.audiences import Audience

pytestmark = pytest.mark.django_db
END = date(2025, 5, 31)


def _values(user):
    return list(
        DailyCheckin.objects.filter(author=user)
        .order_by("local_date")
        .values_list("local_date", "mood", "stress", "sleep", "closeness", "safety", "craving")
    )


def test_checkin_history_is_deterministic_and_gentle():
    alex = make_user("a@example.test", "Alex")
    sam = make_user("s@example.test", "Sam")
    couple = make_couple(alex, sam)
    RecoveryTrack.objects.create(author=alex, kind="substance", what="x", since=date(2025, 1, 1))

    made = checkin_history([(alex, couple), (sam, couple)], days=42, rng=random.Random(7), end=END)
    first = (_values(alex), _values(sam))
    assert made == DailyCheckin.objects.count()
    assert 2 * 42 * 0.7 <= made < 2 * 42  # most days, not every day

    DailyCheckin.objects.all().delete()
    checkin_history([(alex, couple), (sam, couple)], days=42, rng=random.Random(7), end=END)
    assert (_values(alex), _values(sam)) == first

    rows = DailyCheckin.objects.all()
    assert min(r.local_date for r in rows) >= END - timedelta(days=41)
    assert max(r.local_date for r in rows) <= END
    assert all(1 <= getattr(r, f) <= 5 for r in rows for f in ("mood", "stress", "sleep"))
    assert {r.audience for r in rows} == {Audience.PARTNER, Audience.ONLY_ME}
    shared = sum(r.audience == Audience.PARTNER for r in rows)
    assert shared > 0.7 * len(rows)
    # Craving only for Alex, who has a recovery track; within 0..10.
    assert all(r.craving is None for r in rows if r.author_id == sam.pk)
    cravings = [r.craving for r in rows if r.author_id == alex.pk]
    assert all(c is not None and 0 <= c <= 10 for c in cravings)
    assert all(r.couple_id == couple.pk for r in rows)
