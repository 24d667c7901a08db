"""The meeting list's items built in Python, byte for byte what `meetings/_item.html` renders
(tests/meetings/test_reads.py compares them); see `trellis.journal.cards` for why. Twenty-six
items through the template engine cost more than the whole trivial page (QUALITY P2)."""

from __future__ import annotations

from typing import Any

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from trellis.journal.cards import day_label, entry_url


def meeting_item(m: Any) -> SafeString:
    """One `<li>` of the meeting list (the template's, without its comment line)."""
    if m.closed_at:
        state = " · closed"
    elif m.revealed_at:
        state = " · talking"
    else:
        state = " · answering"
    html = (
        f'<li><a href="{entry_url("meetings:detail", m.pk)}">Week of '
        f"{day_label(m.week_of, 'j M Y')}</a> — {escape(m.prompt_set_title)}{state}</li>"
    )
    return mark_safe(html)  # noqa: S308 - every value above is escaped
