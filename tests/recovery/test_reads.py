"""The recovery home, a track's page and the home page's milestones read only what they show,
in fewer queries (QUALITY P2), and show and record exactly what they did before: the same
tracks, plans, lapses and milestones for the author, the partner, the former partner of an
ended space, a therapist, another couple."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from trellis.lib.dates import local_today
from trellis.recovery import counting, selectors, services
from trellis.recovery.models import Lapse, RecoveryPlan, RecoveryTrack, SupportMessage
from trellis.sharing.models import AuditEvent
from trellis.sharing.policy import visible_to

pytestmark = pytest.mark.django_db


def _track(user, *, days: int, audience: str = "partner", what: str = "Alcohol") -> RecoveryTrack:
    return services.track_add(
        user=user,
        kind="substance",
        what=what,
        since=local_today(user.time_zone) - timedelta(days=days),
        audience=audience,
    )


def _lapse(track: RecoveryTrack, day: date, audience: str = "me") -> Lapse:
    return Lapse.objects.create(
        author=track.author,
        couple=track.couple,
        track=track,
        local_date=day,
        audience=audience,
        what_led="Words",
    )


def _world(people) -> dict[str, RecoveryTrack]:
    """Tracks of every kind: lapses before, inside and after the run; milestones this week or
    not; shared, private, ended; a former partner's, another couple's."""
    today = local_today(people.alex.time_zone)
    t = {
        "plain": _track(people.alex, days=7),  # 7 days reached today
        "same_day": _track(people.alex, days=7, what="Added second, same first day"),
        "lapsed": _track(people.alex, days=400, what="Gambling"),
        "private": _track(people.alex, days=31, audience="me", what="Sugar"),
        "therapist": _track(people.alex, days=90, audience="partner_therapist", what="Cards"),
        "sam": _track(people.sam, days=60, what="Smoking"),
        "sam_ended": _track(people.sam, days=100, what="Vaping"),
        "pat": _track(people.pat, days=30, what="Pat's"),
        "casey": _track(people.casey, days=7, what="Casey's"),
    }
    for k in range(1, 13):
        _lapse(t["lapsed"], today - timedelta(days=30 * k), audience="partner" if k % 2 else "me")
    _lapse(t["sam"], today - timedelta(days=1))  # a new run, one day in: 1 day reached today
    _lapse(t["therapist"], today - timedelta(days=8))
    # Dated after its author's today (their time zone moved west after they logged it).
    _lapse(t["plain"], today + timedelta(days=1))
    services.track_end(user=people.sam, track=t["sam_ended"])
    services.plan_save(user=people.alex, content={"partner_can": "Ask"}, audience="partner")
    services.plan_save(user=people.sam, content={"partner_can": "Listen"}, audience="me")
    RecoveryTrack.objects.filter(pk=t["pat"].pk).update(couple=people.old_couple)
    return t


def _old_celebrations(reader, days: int = 7):
    """The home page's milestones as they were computed before: every lapse of every track."""
    tracks = list(
        visible_to(reader, RecoveryTrack)
        .filter(ended_at__isnull=True)
        .select_related("author")
        .order_by("since", "pk")
    )
    counts = selectors.counts_for(tracks)
    out = []
    for tr in tracks:
        c = counts[tr.pk]
        if c.reached and (c.today - c.reached[-1].on).days < days:
            out.append((tr.pk, c.reached[-1]))
    return out


def _readers(people):
    return [people.alex, people.sam, people.pat, people.lee, people.noor, people.casey]


def test_milestones_on_the_home_page_are_those_counted_from_every_lapse(people):
    _world(people)
    for reader in _readers(people):
        for days in (1, 7, 30, 400):
            got = [(tr.pk, m) for tr, m in selectors._celebrations(reader, days)]
            assert got == _old_celebrations(reader, days), (reader, days)
    assert selectors._celebrations(people.sam, 7)  # the test sees some


def test_a_latest_lapse_after_today_is_counted_like_everywhere_else(people):
    t = _world(people)
    # Only the future-dated lapse: it is ignored, so the run started when the track did.
    got = {tr.pk: m for tr, m in selectors._celebrations(people.alex, 7)}
    assert got[t["plain"].pk] == counting.Milestone(
        "7d", "7 days", local_today(people.alex.time_zone)
    )


def test_the_recovery_home_reads_what_it_did_before(people):
    _world(people)
    for reader in _readers(people):
        mine, shared, plans = selectors.recovery_home_for(reader, channel="page")
        # The reader's own in the order they were added when begun the same day.
        assert [t.pk for t in mine] == [
            t.pk
            for t in selectors.my_tracks(reader, open_only=False).order_by("since", "created_at")
        ]
        assert [t.pk for t in shared] == [
            t.pk
            for t in visible_to(reader, RecoveryTrack)
            .filter(ended_at__isnull=True)
            .order_by("since", "pk")
            if t.author_id != reader.pk
        ]
        assert [p.pk for p in plans] == [
            p.pk for p in visible_to(reader, RecoveryPlan).order_by("pk")
        ]
        recorded = set(
            AuditEvent.objects.filter(actor=reader, action="read").values_list(
                "entry_type", "entry_id"
            )
        )
        expected = {("recovery_track", t.pk) for t in shared} | {
            ("recovery_plan", p.pk) for p in plans if p.author_id != reader.pk
        }
        assert recorded == expected, reader


def test_the_recovery_home_page_runs_a_fixed_number_of_queries(people, client_for):
    _world(people)
    services.support_send(user=people.alex, note="Hard evening", audience="partner")
    client = client_for(people.alex)
    client.get("/recovery/")
    with CaptureQueriesContext(connection) as queries:
        page = client.get("/recovery/")
    assert page.status_code == 200
    # session, person, tracks, plans, one read INSERT (its BEGIN is the test's transaction),
    # lapse days, my recent messages
    assert len(queries) == 7, [q["sql"][:80] for q in queries]
    body = page.content.decode()
    assert "Gambling" in body and "Smoking" in body and "Vaping" not in body
    assert "Sam: Smoking" in client_for(people.alex).get("/recovery/").content.decode()


def test_recent_sent_messages_are_the_last_weeks_latest_five(people):
    from django.utils import timezone

    now = timezone.now()
    made = []
    for hours in (1, 20, 50, 100, 130, 150, 160, 200, 24 * 9):
        m = SupportMessage.objects.create(
            author=people.alex, couple=people.couple, audience="partner", note="n"
        )
        SupportMessage.objects.filter(pk=m.pk).update(created_at=now - timedelta(hours=hours))
        made.append(m.pk)
    old = [
        m.pk
        for m in visible_to(people.alex, SupportMessage)
        .filter(author_id=people.alex.pk)
        .order_by("-created_at")[:5]
        if m.created_at >= now - timedelta(days=7)
    ]
    assert [m.pk for m in selectors.my_messages(people.alex, limit=5, days=7)] == old == made[:5]


def test_a_track_page_lists_the_same_lapses_without_their_words(people, django_assert_num_queries):
    t = _world(people)
    for reader in _readers(people):
        for track in t.values():
            got = selectors.lapse_days_visible(reader, track, channel="page")
            expected = [
                lp.pk
                for lp in visible_to(reader, Lapse).filter(track=track).order_by("-local_date")[:50]
            ]
            assert [lp.pk for lp in got] == expected
            with django_assert_num_queries(0):
                for lp in got:
                    (lp.local_date, lp.audience, lp.get_audience_display(), lp.author_id)
