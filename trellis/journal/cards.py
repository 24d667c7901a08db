"""Journal cards (the journal list, search and home pages) built in Python.

A list page shows twenty cards; through the template engine each card (`{% url %}`, two `date`
filters, `truncatechars` and the audience badge's `{% include %}`) cost ~0.13 ms, more than
the whole trivial page (QUALITY P2). The markup is exactly what `journal/list_card.html`
renders, byte for byte (tests/journal/test_cards.py compares them over every audience, kind,
hostile text and both authors); that template stays the reference and is still what the htmx
card fragment renders.

The audience badge depends only on the audience and its label, so it is rendered once per pair
through `sharing/badge.html` itself (the markup stays in that one template) and kept. Check-in
cards use it too (the journal is the entry type the others copy).
"""

from __future__ import annotations

import unicodedata
import uuid
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from django.template import loader
from django.template.defaultfilters import date as date_filter
from django.template.defaultfilters import truncatechars
from django.urls import get_script_prefix, reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import template_localtime  # type: ignore[attr-defined]
from django.utils.translation import get_language

# What a card shows: read these and nothing else (no other field is decrypted for a list).
CARD_FIELDS = (
    "id",
    "author_id",
    "audience",
    "created_at",
    "kind",
    "title",
    "body",
    "author__display_name",
)

_PLACEHOLDER = uuid.UUID(int=0)


@lru_cache(maxsize=32)
def audience_badge(audience: str, label: str) -> SafeString:
    """`{% include "sharing/badge.html" with audience=… label=… %}`, rendered once per pair."""
    html = loader.render_to_string("sharing/badge.html", {"audience": audience, "label": label})
    return mark_safe(html)  # noqa: S308 - the template engine escaped it


@lru_cache(maxsize=64)
def url_around_pk(name: str, script_prefix: str) -> tuple[str, str]:
    """The escaped URL of `name` split where the entry's id goes (one `reverse` per process
    and script prefix instead of one per card)."""
    url = escape(reverse(name, args=[_PLACEHOLDER]))
    head, _, tail = url.partition(str(_PLACEHOLDER))
    return head, tail


def entry_url(name: str, pk: Any) -> str:
    head, tail = url_around_pk(name, get_script_prefix())
    return f"{head}{pk}{tail}"


@lru_cache(maxsize=2048)
def _day_label(day: date, fmt: str, language: str | None) -> str:
    return escape(date_filter(day, fmt))


def day_label(value: date | datetime, fmt: str) -> str:
    """`{{ value|date:fmt }}` for a format made of date parts only ("j M Y", "l j M"): the day
    in the current time zone, formatted once per day, format and language."""
    if isinstance(value, datetime):
        value = template_localtime(value).date()
    return _day_label(value, fmt, get_language())


def iso_datetime(value: datetime) -> str:
    """`{{ value|date:'c' }}`: Django's "c" is `isoformat()` of the local time."""
    return escape(template_localtime(value).isoformat())


def excerpt(text: str, length: int) -> str:
    """`{{ text|truncatechars:length }}`, escaped. Django's Truncator returns the text in NFC
    when it is not longer than `length` code points; only a longer one needs its walk."""
    normal = unicodedata.normalize("NFC", text)
    return escape(normal if len(normal) <= length else truncatechars(text, length))


def journal_card(entry: Any, viewer_pk: Any) -> SafeString:
    """One `<li>` of a journal list: what `journal/list_card.html` renders for `entry`."""
    pk = entry.pk
    heading: str
    if entry.title:
        heading = escape(entry.title)
    elif entry.kind == "gratitude":
        heading = "Gratitude"
    else:
        heading = "Journal entry"
    who = "You" if entry.author_id == viewer_pk else escape(entry.author.display_name)
    created = entry.created_at
    html = (
        f'<li class="entry" id="entry-{pk}" data-entry-id="{pk}">\n'
        "  <article>\n"
        '    <header class="entry-head">\n'
        f'      <a href="{entry_url("journal:detail", pk)}" class="entry-link">{heading}</a>\n'
        f'      <span class="meta">{who} · <time datetime="{iso_datetime(created)}">'
        f"{day_label(created, 'j M Y')}</time></span>\n"
        "    </header>\n"
        f'    <p class="excerpt">{excerpt(entry.body, 220)}</p>\n'
        f"    {audience_badge(entry.audience, entry.get_audience_display())}\n"
        "  </article>\n"
        "</li>\n"
    )
    return mark_safe(html)  # noqa: S308 - every value above is escaped
