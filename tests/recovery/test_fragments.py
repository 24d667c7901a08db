"""A track's counts and story built in Python (recovery/fragments.py) are what
`recovery/_counts.html` and `recovery/_story.html` render, byte for byte (QUALITY P2)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
from django.template import loader
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from trellis.recovery import counting
from trellis.recovery.fragments import counts_html, story_html
from trellis.recovery.views import EarlierRun, TrackCard, _cards

TODAY = date(2025, 3, 14)


def _card(since: date, lapses: list[date], today: date = TODAY, *, ended: bool = False):
    counts = counting.count(since, lapses, today)
    if ended:
        counts = replace(counts, upcoming=None)
    track = SimpleNamespace(
        pk="t", author_id=1, ended_at=datetime(2025, 3, 1, tzinfo=UTC) if ended else None
    )
    card = TrackCard(track, counts, True)  # type: ignore[arg-type]
    # The story as the views shape it (earlier runs, latest first).
    card.earlier = [
        EarlierRun(run.start, run.end - timedelta(days=1), run.days, milestones)
        for run, milestones in reversed(counts.earlier)
        if run.end is not None and run.days > 0
    ]
    return card


def _same(card) -> None:
    ctx = {"card": card}
    assert str(counts_html(card)) == loader.render_to_string("recovery/_counts.html", ctx)
    assert str(story_html(card)) == loader.render_to_string("recovery/_story.html", ctx)


CASES = {
    "day one": (TODAY, []),
    "one day": (TODAY - timedelta(days=1), []),
    "two days": (TODAY - timedelta(days=2), []),
    "a week": (TODAY - timedelta(days=7), []),
    "lapse today: a new run tomorrow": (TODAY - timedelta(days=40), [TODAY]),
    "lapse yesterday": (TODAY - timedelta(days=40), [TODAY - timedelta(days=1)]),
    "monthly lapses over two years": (
        TODAY - timedelta(days=800),
        [TODAY - timedelta(days=30 * k) for k in range(1, 26)],
    ),
    "lapse on the first day, twice the same day": (
        TODAY - timedelta(days=100),
        [TODAY - timedelta(days=100), TODAY - timedelta(days=50), TODAY - timedelta(days=50)],
    ),
    "next milestone next year": (date(2024, 12, 20), []),
    "years": (date(2021, 3, 15), [date(2022, 1, 1)]),
}


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("language", ["en", "de"])
@pytest.mark.parametrize("ended", [False, True])
def test_counts_and_story_are_the_templates_byte_for_byte(name, language, ended):
    since, lapses = CASES[name]
    with translation.override(language):
        _same(_card(since, lapses, ended=ended))


@settings(max_examples=60, deadline=None)
@given(
    start=st.integers(min_value=0, max_value=1500),
    lapses=st.lists(st.integers(min_value=0, max_value=1500), max_size=12),
)
def test_any_history_renders_as_the_templates_do(start, lapses):
    since = TODAY - timedelta(days=start)
    _same(_card(since, [TODAY - timedelta(days=d) for d in lapses]))


@pytest.mark.django_db
def test_the_pages_show_the_template_fragments(people, client_for):
    from trellis.lib.dates import local_today
    from trellis.recovery import selectors, services
    from trellis.recovery.models import Lapse

    today = local_today(people.alex.time_zone)
    track = services.track_add(
        user=people.alex,
        kind="substance",
        what="Alcohol",
        since=today - timedelta(days=300),
        audience="partner",
    )
    for k in (30, 90, 200):
        Lapse.objects.create(
            author=people.alex,
            couple=people.couple,
            track=track,
            local_date=today - timedelta(days=k),
        )
    track = selectors.track_for_author(people.alex, track.pk)
    for who in (people.alex, people.sam):
        (card,) = _cards(who, [track])
        ctx = {"card": card}
        counts = loader.render_to_string("recovery/_counts.html", ctx)
        story = loader.render_to_string("recovery/_story.html", ctx)
        home = client_for(who).get("/recovery/").content.decode()
        page = client_for(who).get(f"/recovery/tracks/{track.pk}/").content.decode()
        assert counts in home and counts in page
        assert story in page
        if who == people.alex:
            assert story in home
