"""Journal cards built in Python (journal/cards.py) are what `journal/list_card.html` renders,
byte for byte, and the card lists read the same entries as the full policy query (QUALITY P2)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.template import loader
from django.test import override_settings
from django.utils import timezone

from trellis.journal.cards import journal_card
from trellis.journal.models import JournalEntry
from trellis.journal.selectors import journal_cards_for_reader, journal_entries_for_reader
from trellis.journal.services import journal_entry_create
from trellis.sharing.audiences import Audience

HOSTILE = "<b>\"x\" & 'y'</b> {{ user }} {% now %}"
LONG = "Ünïcödé and a long day. " * 30


def _entry(author, **kw) -> JournalEntry:
    kw.setdefault("body", "We walked by the river.")
    kw.setdefault("audience", Audience.PARTNER)
    entry, _ = journal_entry_create(author=author, **kw)
    return entry


def _template(entry: JournalEntry, viewer) -> str:
    return loader.render_to_string("journal/list_card.html", {"entry": entry, "user": viewer})


def _variants(people) -> list[JournalEntry]:
    out = []
    for audience in Audience:
        out.append(_entry(people.alex, audience=audience, title="Sunday"))
    out += [
        _entry(people.alex, title=HOSTILE, body=HOSTILE),
        _entry(people.alex, title="", kind="gratitude", body="Coffee in bed."),
        _entry(people.alex, title="", kind="journal", body=LONG),
        _entry(people.alex, title="", body="x" * 220),
        _entry(people.alex, title="", body="x" * 221),
        # Combining marks: composed by NFC, or not counted by the truncation.
        _entry(people.alex, title="", body="e\u0301" * 200),
        _entry(people.alex, title="", body="x\u0301" * 230),
        _entry(people.alex, title="", body="Cafe\u0301 " * 60),
        _entry(people.alex, title="Line\nbreaks", body="one\ntwo\n\nthree"),
        _entry(people.sam, title="From Sam", body="Thank you for today."),
    ]
    return out


@pytest.mark.django_db
@pytest.mark.parametrize("zone", ["UTC", "Pacific/Auckland", "America/St_Johns"])
def test_python_cards_are_the_template_byte_for_byte(people, zone):
    entries = _variants(people)
    # Around midnight, so the time zone decides the printed day.
    JournalEntry.objects.filter(pk=entries[0].pk).update(
        created_at=datetime(2024, 12, 31, 23, 30, tzinfo=UTC)
    )
    with override_settings(TIME_ZONE=zone), timezone.override(zone):
        for viewer in (people.alex, people.sam):
            for qs in (
                JournalEntry.objects.filter(pk__in=[e.pk for e in entries]).select_related(
                    "author"
                ),
                journal_cards_for_reader(viewer),
            ):
                shown = list(qs)
                assert shown
                for entry in shown:
                    assert str(journal_card(entry, viewer.pk)) == _template(entry, viewer)


@pytest.mark.django_db
def test_the_list_and_home_show_the_template_cards(people, client_for):
    _variants(people)
    client = client_for(people.sam)
    listing = client.get("/journal/").content.decode()
    home = client.get("/home/").content.decode()
    shown = list(journal_entries_for_reader(people.sam)[:20])
    for entry in shown:
        assert _template(entry, people.sam) in listing
    for entry in list(journal_entries_for_reader(people.sam, scope="shared")[:3]):
        assert _template(entry, people.sam) in home


@pytest.mark.django_db
def test_card_lists_read_the_same_entries_as_the_policy(people, django_assert_num_queries):
    """Same rows, same order, for every persona: the current partner, the former partner (whose
    old space ended), a therapist with and without consent, another couple; in every scope."""
    from trellis.couples.models import Couple

    _variants(people)
    old = _entry(people.alex, title="In the old space")
    JournalEntry.objects.filter(pk=old.pk).update(couple=people.old_couple)
    alone = _entry(people.alex, title="Before any space")
    JournalEntry.objects.filter(pk=alone.pk).update(couple=None)
    _entry(people.pat, title="Pat, later", audience=Audience.PARTNER)
    _entry(people.casey, title="Casey's", audience=Audience.PARTNER)
    assert Couple.objects.filter(pk=people.old_couple.pk).exists()
    for reader in people.actors().values():
        if reader is None:
            continue
        for scope in ("all", "mine", "shared"):
            full = [e.pk for e in journal_entries_for_reader(reader, scope=scope)]
            cards = list(journal_cards_for_reader(reader, scope=scope))
            assert [e.pk for e in cards] == full, (reader, scope)
            # A card reads nothing the query did not fetch (no deferred field is touched).
            with django_assert_num_queries(0):
                for entry in cards:
                    journal_card(entry, reader.pk)
