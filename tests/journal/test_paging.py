"""Newest-first pages read within the recent past when it holds them (journal/paging.py) are the
pages of the whole list, for every persona and scope, on every page, in two queries whatever
the history (QUALITY P2)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.paginator import Paginator
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from trellis.checkins import selectors as checkin_selectors
from trellis.checkins.models import DailyCheckin
from trellis.journal import selectors
from trellis.journal.models import JournalEntry
from trellis.journal.paging import RecentFirst
from trellis.journal.services import journal_entry_create
from trellis.sharing.audiences import Audience

pytestmark = pytest.mark.django_db


def _journal(people) -> None:
    """Entries over a hundred days, both partners, every audience; the former partner's and
    another couple's; some in the old space, some before any space."""
    now = timezone.now()
    audiences = list(Audience)
    writers = [people.alex, people.sam, people.alex, people.pat, people.casey]
    for day in range(100):
        author = writers[day % len(writers)]
        entry, _ = journal_entry_create(author=author, body=f"Day {day}", audience="me")
        updates = {
            "created_at": now - timedelta(days=day, minutes=day),
            "audience": audiences[day % len(audiences)],
        }
        if day % 17 == 0:
            updates["couple"] = people.old_couple if day % 2 else None
        JournalEntry.objects.filter(pk=entry.pk).update(**updates)


def _checkins(people) -> None:
    today = timezone.localdate()
    for day in range(100):
        for author, couple in ((people.alex, people.couple), (people.sam, people.couple)):
            if (day + len(author.display_name)) % 3 == 0:
                continue
            DailyCheckin.objects.create(
                author=author,
                couple=couple if day % 23 else people.old_couple,
                local_date=today - timedelta(days=day),
                audience=Audience.PARTNER if day % 4 else Audience.ONLY_ME,
                mood=3,
                stress=3,
                sleep=3,
                closeness=3,
                safety=3,
            )


def _pages(object_list, per_page: int) -> list[list]:
    paginator = Paginator(object_list, per_page)
    numbers = [*paginator.page_range, paginator.num_pages + 1]
    return [[e.pk for e in paginator.get_page(n)] for n in numbers]


@pytest.mark.parametrize("days", [0, 1, 10, 30, 200])
def test_journal_pages_are_the_pages_of_the_whole_list(people, days):
    _journal(people)
    since = timezone.now() - timedelta(days=days)
    for reader in people.actors().values():
        if reader is None:
            continue
        for scope in ("all", "mine", "shared"):
            qs = selectors.journal_cards_for_reader(reader, scope=scope)
            for per_page in (3, 20):
                recent = RecentFirst(qs, field="created_at", since=since)
                assert _pages(recent, per_page) == _pages(qs, per_page), (reader, scope, days)


@pytest.mark.parametrize("days", [0, 5, 30, 200])
def test_checkin_pages_are_the_pages_of_the_whole_list(people, days):
    _checkins(people)
    since = timezone.localdate() - timedelta(days=days)
    for reader in people.actors().values():
        if reader is None:
            continue
        for scope in ("all", "mine", "shared"):
            qs = checkin_selectors.checkin_cards_for_reader(reader, scope=scope)
            recent = RecentFirst(qs, field="local_date", since=since)
            assert _pages(recent, 14) == _pages(qs, 14), (reader, scope, days)


@pytest.mark.parametrize("days", [0, 30, 200])
def test_a_page_takes_one_count_and_one_read(people, days):
    _journal(people)
    qs = selectors.journal_cards_for_reader(people.alex)
    total = qs.count()
    for start, stop in ((0, 20), (20, 40), (0, 1000), (5000, 5020)):
        recent = RecentFirst(qs, field="created_at", since=timezone.now() - timedelta(days=days))
        with CaptureQueriesContext(connection) as queries:
            rows = recent[start:stop]
            counted = recent.count()  # counted once, with the page
        assert counted == total
        assert [e.pk for e in rows] == [e.pk for e in qs[start:stop]]
        # The count, then the page (none past the end), whether the recent rows hold it or not.
        assert len(queries) == (1 if start >= total else 2)


def test_the_lists_and_apis_show_the_same_pages(people, client_for, api_for):
    _journal(people)
    _checkins(people)
    client = client_for(people.sam)
    for n in (1, 2, 3):
        page = client.get(f"/journal/?page={n}").context["entries"]
        full = Paginator(selectors.journal_entries_for_reader(people.sam), 20).get_page(n)
        assert [e.pk for e in page] == [e.pk for e in full]
        page = client.get(f"/checkins/history/?page={n}").context["checkins"]
        full = Paginator(checkin_selectors.checkins_for_reader(people.sam), 14).get_page(n)
        assert [c.pk for c in page] == [c.pk for c in full]
    api = api_for(people.sam)
    for offset, limit in ((0, 20), (10, 100), (45, 5), (1000, 5)):
        got = api.get(f"/api/journal/entries?offset={offset}&limit={limit}").json()
        qs = selectors.journal_entries_for_reader(people.sam)
        assert got["count"] == qs.count()
        assert [e["id"] for e in got["items"]] == [str(e.pk) for e in qs[offset : offset + limit]]
        got = api.get(f"/api/checkins/checkins?offset={offset}&limit={limit}").json()
        qs = checkin_selectors.checkins_for_reader(people.sam)
        assert got["count"] == qs.count()
        assert [c["id"] for c in got["items"]] == [str(c.pk) for c in qs[offset : offset + limit]]
