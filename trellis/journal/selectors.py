"""Every read of journal entries, always starting from sharing's visible-to query."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from trellis.sharing.policy import get_own_or_404, get_visible_or_404, visible_to

from .cards import CARD_FIELDS
from .models import JournalEntry
from .paging import RecentFirst

SEARCH_SCAN_LIMIT = 5000


def journal_entries_for_reader(reader: Any, *, scope: str = "all") -> QuerySet[JournalEntry]:
    qs = visible_to(reader, JournalEntry).select_related("author").order_by("-created_at")
    if scope == "mine":
        qs = qs.filter(author_id=reader.pk)
    elif scope == "shared":
        qs = qs.exclude(author_id=reader.pk)
    return qs


def journal_cards_for_reader(reader: Any, *, scope: str = "all") -> QuerySet[JournalEntry]:
    """What a list of cards shows (the journal list, the home page): the same entries, in the
    same order, reading only the columns a card renders. The other encrypted field and the
    author's other columns are neither fetched nor sorted along nor decrypted."""
    return journal_entries_for_reader(reader, scope=scope).only(*CARD_FIELDS)


# Pages are read within the last RECENT when it holds them (paging.py): a month holds the
# first page of an everyday journal; older pages and quieter journals are read from the whole
# history.
RECENT = timedelta(days=30)


def journal_list_for_reader(reader: Any, *, scope: str = "all") -> RecentFirst:
    """The journal list's cards, newest first, for a Paginator."""
    return RecentFirst(
        journal_cards_for_reader(reader, scope=scope),
        field="created_at",
        since=timezone.now() - RECENT,
    )


def journal_entries_page(
    reader: Any, *, scope: str, offset: int, limit: int
) -> tuple[int, list[JournalEntry]]:
    """The API's page of whole entries and the count of all of them."""
    entries = RecentFirst(
        journal_entries_for_reader(reader, scope=scope),
        field="created_at",
        since=timezone.now() - RECENT,
    )
    return entries.count(), entries[offset : offset + limit]


def journal_entry_for_reader(reader: Any, pk: Any, *, channel: str) -> JournalEntry:
    return get_visible_or_404(reader, JournalEntry, pk, channel=channel)


def journal_entry_for_author(author: Any, pk: Any) -> JournalEntry:
    return get_own_or_404(author, JournalEntry, pk)


def journal_search_for_reader(reader: Any, query: str) -> list[JournalEntry]:
    """Search what the reader may see. Text is encrypted at rest, so there is no SQL index to
    ask: decrypt the reader's visible entries (newest first, bounded) and match in memory."""
    needle = query.strip().casefold()
    if not needle:
        return []
    found = []
    for entry in journal_entries_for_reader(reader)[:SEARCH_SCAN_LIMIT]:
        if needle in entry.body.casefold() or needle in entry.title.casefold():
            found.append(entry)
    return found
