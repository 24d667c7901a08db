"""Day counting across time zones, daylight-saving changes and lapses (issue: property tests
for day counting, milestone logic after lapses). Checked against a brute-force walk over the
calendar, written separately from trellis.recovery.counting."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from trellis.recovery.counting import add_months, count, milestones_for_run

ZONES = [
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "America/Los_Angeles",
    "Australia/Lord_Howe",  # a 30-minute daylight-saving shift
    "Pacific/Apia",  # skipped a whole calendar day in 2011
    "Asia/Kolkata",
    "Pacific/Chatham",
]

days = st.dates(min_value=date(2009, 1, 1), max_value=date(2031, 12, 31))


def brute(since: date, lapses: set[date], today: date) -> tuple[int, int, int]:
    """(current run, recovery days, longest run) by walking every calendar day."""
    recovery = 0
    streak = 0
    longest = 0
    d = since
    while d < today:
        if d in lapses:
            streak = 0
        else:
            recovery += 1
            streak += 1
            longest = max(longest, streak)
        d += timedelta(days=1)
    current = 0 if today in lapses else streak
    return current, recovery, max(longest, current)


@settings(max_examples=400, deadline=None)
@given(
    since=days,
    span=st.integers(min_value=0, max_value=900),
    offsets=st.lists(st.integers(min_value=-30, max_value=950), max_size=8),
)
def test_counts_match_a_walk_over_the_calendar(since, span, offsets):
    today = since + timedelta(days=span)
    lapses = {since + timedelta(days=o) for o in offsets}
    c = count(since, lapses, today)
    in_range = {d for d in lapses if since <= d <= today}
    assert (c.current_run, c.recovery_days, c.longest_run) == brute(since, in_range, today)
    assert c.lapses == len(in_range)
    # A lapse never erases the story: the days before it are still counted.
    assert c.recovery_days >= c.current_run
    assert c.recovery_days == (today - since).days - len({d for d in in_range if d < today})


@settings(max_examples=300, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    instant=st.datetimes(
        min_value=datetime(2010, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
    ),
    since_back=st.integers(min_value=0, max_value=800),
)
def test_same_local_day_same_count_and_each_new_local_day_adds_one(zone, instant, since_back):
    """Whatever the hour (and however long the day: 23, 23.5, 25 hours), the count is that of
    the person's local calendar day, and the next local day adds exactly one."""
    tz = zoneinfo.ZoneInfo(zone)
    local = instant.astimezone(tz)
    today = local.date()
    since = today - timedelta(days=since_back)
    c = count(since, [], today)
    assert c.current_run == since_back
    # Every instant of the same local day gives the same count.
    start_of_day = datetime.combine(today, datetime.min.time(), tzinfo=tz)
    for hours in (0, 1, 2, 3, 11, 22, 23):
        t = (start_of_day + timedelta(hours=hours)).astimezone(UTC).astimezone(tz)
        if t.date() == today:
            assert count(since, [], t.date()).current_run == since_back
    # The first instant of the next local day, however many hours away, adds exactly one
    # (the next instant whose local date differs, found by stepping in UTC).
    step = instant
    while step.astimezone(tz).date() == today:
        step += timedelta(minutes=30)
    nxt = step.astimezone(tz).date()
    assert count(since, [], nxt).current_run == (nxt - since).days
    assert (nxt - today).days in (1, 2)  # 2 only where a zone skipped a calendar day


def test_a_daylight_saving_night_is_one_day():
    tz = zoneinfo.ZoneInfo("Europe/Berlin")
    since = date(2026, 3, 28)
    # 29 March 2026 has 23 hours in Berlin; 25 October 2026 has 25.
    before = datetime(2026, 3, 29, 0, 30, tzinfo=tz)
    # 23 real hours later (arithmetic in UTC: Python adds wall-clock time to aware datetimes).
    after = (before.astimezone(UTC) + timedelta(hours=23)).astimezone(tz)  # 30 March 00:30
    assert after.astimezone(tz).date() == date(2026, 3, 30)
    assert count(since, [], before.date()).current_run == 1
    assert count(since, [], after.astimezone(tz).date()).current_run == 2
    long_day = datetime(2026, 10, 25, 0, 30, tzinfo=tz)
    late = (long_day.astimezone(UTC) + timedelta(hours=24)).astimezone(tz)
    assert late.date() == date(2026, 10, 25)  # 25 hours: still the same local day
    assert count(date(2026, 10, 24), [], late.date()).current_run == 1


@settings(max_examples=300, deadline=None)
@given(since=days, span=st.integers(min_value=0, max_value=1200), lapse_at=st.integers(0, 1200))
def test_milestones_after_a_lapse_start_again_and_earlier_ones_stay(since, span, lapse_at):
    today = since + timedelta(days=span)
    lapse = since + timedelta(days=lapse_at)
    c = count(since, [lapse], today)
    if lapse > today:
        assert c.lapses == 0 and c.earlier == ()
        return
    run_before = (lapse - since).days
    # This run's milestones are counted from the day after the lapse...
    assert c.run_start == lapse + timedelta(days=1)
    assert all(m.on > lapse for m in c.reached)
    assert [m.key for m in c.reached] == [
        m.key for m in milestones_for_run(lapse + timedelta(days=1), today)
    ]
    # ...and the ones reached before it are kept, never erased.
    ((earlier_run, earlier_marks),) = c.earlier
    assert earlier_run.days == run_before
    expected = [n for n in (1, 7, 30, 60, 90) if n <= run_before]
    assert [m.key for m in earlier_marks if m.key.endswith("d")] == [f"{n}d" for n in expected]
    assert c.longest_run == max(run_before, c.current_run)
    if c.upcoming is not None:
        assert c.upcoming.on > today


def test_month_milestones_clamp_to_the_end_of_shorter_months():
    assert add_months(date(2025, 8, 31), 6) == date(2026, 2, 28)
    assert add_months(date(2027, 8, 31), 6) == date(2028, 2, 29)
    assert add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)
    keys = [m.key for m in milestones_for_run(date(2024, 1, 10), date(2026, 1, 10))]
    assert keys == ["1d", "7d", "30d", "60d", "90d", "6m", "1y", "2y"]
