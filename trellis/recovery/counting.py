"""Day counting for recovery tracks: pure functions over local calendar dates.

Everything is counted in the person's own calendar days, never in 24-hour blocks, so a
daylight-saving change (a 23- or 25-hour day) or a trip across time zones never adds or loses a
day. "Today" is the person's local date (`trellis.lib.dates.local_today`).

- A run starts on the track's first day, or on the day after a lapse.
- The current run is the number of whole days from its start to today (0 on its first day).
- Recovery days are counted across every run: a lapse ends a run, it never erases the days
  before it (SPEC principle 5: a lapse is an event to learn from, not a reset of the story).
- Milestones (1, 7, 30, 60, 90 days, 6 months, 1 year, then every year) belong to a run; those
  reached in earlier runs stay in the history.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

DAY_MILESTONES = (1, 7, 30, 60, 90)


def add_months(day: date, months: int) -> date:
    """The same day of the month `months` later, or the month's last day when it is shorter
    (31 August + 6 months = 28/29 February)."""
    month_index = day.month - 1 + months
    year = day.year + month_index // 12
    month = month_index % 12 + 1
    last = calendar.monthrange(year, month)[1]
    return date(year, month, min(day.day, last))


@dataclass(frozen=True)
class Milestone:
    key: str  # "1d", "7d", ..., "6m", "1y", "2y", ...
    label: str  # "1 day", "6 months", "2 years"
    on: date  # the local date it is (or will be) reached


def milestones_for_run(start: date, until: date) -> list[Milestone]:
    """Every milestone of a run that started on `start`, reached on or before `until`."""
    out: list[Milestone] = []
    for n in DAY_MILESTONES:
        on = start + timedelta(days=n)
        if on <= until:
            out.append(Milestone(f"{n}d", "1 day" if n == 1 else f"{n} days", on))
    six = add_months(start, 6)
    if six <= until:
        out.append(Milestone("6m", "6 months", six))
    years = 1
    while True:
        on = add_months(start, 12 * years)
        if on > until:
            break
        out.append(Milestone(f"{years}y", "1 year" if years == 1 else f"{years} years", on))
        years += 1
    return sorted(out, key=lambda m: m.on)


def next_milestone(start: date, today: date) -> Milestone:
    """The next milestone of the current run after today."""
    horizon = today + timedelta(days=400)
    for m in milestones_for_run(start, horizon):
        if m.on > today:
            return m
    raise AssertionError("a milestone always comes within 400 days")  # pragma: no cover


@dataclass(frozen=True)
class Run:
    start: date
    end: date | None  # the lapse day that ended it (not a recovery day); None: still going
    days: int


@dataclass(frozen=True)
class Counts:
    today: date
    run_start: date
    current_run: int
    recovery_days: int
    longest_run: int
    lapses: int
    runs: tuple[Run, ...] = field(default=())
    reached: tuple[Milestone, ...] = field(default=())  # this run's, oldest first
    earlier: tuple[tuple[Run, tuple[Milestone, ...]], ...] = field(default=())
    upcoming: Milestone | None = None


def count(since: date, lapse_days: Iterable[date], today: date) -> Counts:
    """Counts for a track that began on `since`, with lapses on `lapse_days`, seen on `today`.
    Lapses before `since` or after `today` are ignored; several on one day count once."""
    lapses = sorted({d for d in lapse_days if since <= d <= today})
    runs: list[Run] = []
    start = since
    for lapse in lapses:
        days = max(0, (lapse - start).days)
        runs.append(Run(start, lapse, days))
        start = lapse + timedelta(days=1)
    current_days = max(0, (today - start).days)
    runs.append(Run(start, None, current_days))
    recovery_days = sum(r.days for r in runs)
    earlier = tuple(
        # A milestone of N days was reached if the run lasted N whole days before the lapse.
        (r, tuple(milestones_for_run(r.start, r.end)))
        for r in runs[:-1]
        if r.end is not None
    )
    return Counts(
        today=today,
        run_start=start,
        current_run=current_days,
        recovery_days=recovery_days,
        longest_run=max(r.days for r in runs),
        lapses=len(lapses),
        runs=tuple(runs),
        reached=tuple(milestones_for_run(start, today)),
        earlier=earlier,
        upcoming=next_milestone(start, today) if start <= today else None,
    )
