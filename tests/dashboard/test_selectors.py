"""The dashboard's one read: mine, and what my current partner shares with me, from the policy."""

from __future__ import annotations

from datetime import timedelta

import pytest

from trellis.dashboard.selectors import (
    DEFAULT_RANGE,
    HEATMAP_DAYS,
    checkins_for_dashboard,
    parse_range,
)
from trellis.sharing.audiences import Audience
from trellis.sharing.models import AuditEvent

from .factories import checkin, today_for

pytestmark = pytest.mark.django_db


def test_mine_and_partner_shared_are_separate(people):
    own = checkin(people.alex, 1, mood=4)
    shared = checkin(people.sam, 1, mood=2, audience=Audience.PARTNER)
    with_therapist = checkin(people.sam, 2, mood=5, audience=Audience.PARTNER_THERAPIST)

    data = checkins_for_dashboard(people.alex, 30)

    assert data.partner == people.sam
    assert {r["id"] for r in data.mine.values()} == {own.pk}
    assert {r["id"] for r in data.partner_rows.values()} == {shared.pk, with_therapist.pk}
    assert data.series("mine", "mood")[-2] == 4
    assert data.series("partner", "mood")[-2] == 2
    assert data.series("partner", "mood")[-3] == 5


def test_partner_only_me_and_therapist_only_never_appear(people):
    checkin(people.sam, 1, audience=Audience.ONLY_ME, mood=1)
    checkin(people.sam, 2, audience=Audience.THERAPIST, mood=1)

    data = checkins_for_dashboard(people.alex, 90)

    assert data.partner_rows == {}
    assert all(v is None for v in data.series("partner", "mood"))


def test_only_numbers_leave_the_database(people):
    checkin(people.sam, 1, gratitude="CANARY-gratitude", note="CANARY-note")
    data = checkins_for_dashboard(people.alex, 30)
    (row,) = data.partner_rows.values()
    assert set(row) == {
        "id",
        "author_id",
        "local_date",
        "mood",
        "stress",
        "sleep",
        "closeness",
        "safety",
        "craving",
    }


def test_former_partner_sees_nothing(people):
    # Shared with Pat while they were together; then Pat left, which ended that space.
    checkin(people.alex, 3, audience=Audience.PARTNER, couple_id=people.old_couple.pk)
    checkin(people.alex, 1, audience=Audience.PARTNER)

    data = checkins_for_dashboard(people.pat, 30)

    assert data.partner is None
    assert data.partner_rows == {} and data.mine == {}
    assert not data.has_any


def test_new_partner_does_not_inherit_what_was_shared_with_a_former_one(people):
    checkin(people.alex, 3, audience=Audience.PARTNER, couple_id=people.old_couple.pk)
    current = checkin(people.alex, 1, audience=Audience.PARTNER)

    data = checkins_for_dashboard(people.sam, 30)

    assert {r["id"] for r in data.partner_rows.values()} == {current.pk}


@pytest.mark.parametrize("persona", ["lee", "noor", "casey", "reyes", "morgan"])
def test_nobody_else_gets_alexs_checkins(people, persona):
    for i, audience in enumerate(Audience.values):
        checkin(people.alex, i, audience=audience)
    data = checkins_for_dashboard(getattr(people, persona), 30)
    assert data.partner_rows == {}
    assert data.mine == {}


def test_partner_reads_are_recorded_for_the_author(people):
    shared = checkin(people.alex, 1, audience=Audience.PARTNER)
    checkin(people.alex, 2, audience=Audience.ONLY_ME)
    checkin(people.sam, 1)

    checkins_for_dashboard(people.sam, 30)
    checkins_for_dashboard(people.sam, 30)  # the same day: still one row per entry

    reads = AuditEvent.objects.filter(action=AuditEvent.Action.READ)
    assert [(e.entry_id, e.owner_id, e.actor_id, e.channel, e.entry_type) for e in reads] == [
        (shared.pk, people.alex.pk, people.sam.pk, "dashboard", "checkin")
    ]


def test_own_reads_are_not_audited(people):
    checkin(people.alex, 1)
    checkins_for_dashboard(people.alex, 30)
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.READ).exists()


def test_window_covers_the_range_or_the_calendar_whichever_is_longer(people):
    today = today_for(people.alex)
    checkin(people.alex, 0, mood=5)
    checkin(people.alex, 40, mood=4)  # outside 30 days, inside the 12-week calendar
    checkin(people.alex, HEATMAP_DAYS - 1, mood=3)  # first calendar day
    checkin(people.alex, HEATMAP_DAYS, mood=2)  # before the calendar
    checkin(people.alex, 95, mood=1)  # before 90 days
    checkin(people.alex, today + timedelta(days=1), mood=1)  # a future day is not shown

    short = checkins_for_dashboard(people.alex, 30)
    assert short.range_dates[0] == today - timedelta(days=29)
    assert short.range_dates[-1] == today and len(short.range_dates) == 30
    assert [v for v in short.series("mine", "mood") if v is not None] == [5]
    assert set(short.mine) == {
        today,
        today - timedelta(days=40),
        today - timedelta(days=HEATMAP_DAYS - 1),
    }

    long = checkins_for_dashboard(people.alex, 90)
    assert len(long.range_dates) == 90
    assert [v for v in long.series("mine", "mood") if v is not None] == [2, 3, 4, 5]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("30", 30),
        ("90", 90),
        (" 90 ", 90),
        (90, 90),
        (None, DEFAULT_RANGE),
        ("", DEFAULT_RANGE),
        ("7", DEFAULT_RANGE),
        ("365", DEFAULT_RANGE),
        ("-30", DEFAULT_RANGE),
        ("90.0", DEFAULT_RANGE),
        ("1e9", DEFAULT_RANGE),
        ("abc", DEFAULT_RANGE),
        ("9" * 400, DEFAULT_RANGE),
    ],
)
def test_range_is_validated(raw, expected):
    assert parse_range(raw) == expected


def test_unknown_range_in_the_selector_falls_back(people):
    assert checkins_for_dashboard(people.alex, 12345).days == DEFAULT_RANGE
