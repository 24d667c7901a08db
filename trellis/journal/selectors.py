"""Every read of journal entries, always starting from sharing's visible-to query."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from trellis.sharing.policy import get_own_or_404, get_visible_or_404, visible_to

from .models import JournalEntry

SEARCH_SCAN_LIMIT = 5000


def journal_entries_for_reader(reader: Any, *, scope: str = "all") -> QuerySet[JournalEntry]:
    qs = visible_to(reader, JournalEntry).select_related("author").order_by("-created_at")
    if scope == "mine":
        qs = qs.filter(author_id=reader.pk)
    elif scope == "shared":
        qs = qs.exclude(author_id=reader.pk)
    return qs


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
