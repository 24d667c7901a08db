"""Check-in cards (the check-in history) and the trust page's moments built in Python, byte for
byte what `checkins/_card.html` and `checkins/_moment.html` render (tests/checkins/test_cards.py
compares them); see `trellis.journal.cards` for why. Those templates stay the reference."""

from __future__ import annotations

from typing import Any

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from trellis.journal.cards import audience_badge, day_label, entry_url

# What a card shows: nothing else is fetched (the gratitude and the note stay encrypted).
CARD_FIELDS = (
    "id",
    "author_id",
    "audience",
    "local_date",
    "mood",
    "stress",
    "sleep",
    "closeness",
    "safety",
    "craving",
    "author__display_name",
)


def checkin_card(c: Any, viewer_pk: Any) -> SafeString:
    """One `<li>` of the check-in history: what `checkins/_card.html` renders for `c`."""
    pk = c.pk
    who = "You" if c.author_id == viewer_pk else escape(c.author.display_name)
    craving = f" · cravings {c.craving}/10" if c.craving is not None else ""
    html = (
        f'<li class="entry" data-entry-id="{pk}">\n'
        "  <article>\n"
        '    <header class="entry-head">\n'
        f'      <a class="entry-link" href="{entry_url("checkins:detail", pk)}">'
        f"{day_label(c.local_date, 'l j M')}</a>\n"
        f'      <span class="meta">{who}</span>\n'
        "    </header>\n"
        f'    <p class="excerpt">Mood {c.mood}/5 · stress {c.stress}/5 · sleep {c.sleep}/5 · '
        f"closeness {c.closeness}/5 · safety {c.safety}/5{craving}</p>\n"
        f"    {audience_badge(c.audience, c.get_audience_display())}\n"
        "  </article>\n"
        "</li>\n"
    )
    return mark_safe(html)  # noqa: S308 - every value above is escaped or a number


def csrf_input(token: Any) -> str:
    """`{% csrf_token %}` for the context's `csrf_token`."""
    if not token:
        return ""
    if token == "NOTPROVIDED":
        return ""
    return format_html('<input type="hidden" name="csrfmiddlewaretoken" value="{}">', token)


def trust_moment(m: Any, *, viewer: Any, paused: Any, csrf_token: Any) -> SafeString:
    """One moment of the trust page: what `checkins/_moment.html` renders for `m`."""
    pk = m.pk
    mine = m.author_id == viewer.pk
    who = "You" if mine else escape(m.author.display_name)
    if m.acknowledged_at:
        response = f": “{escape(m.response)}”" if m.response else ""
        tail = f'<p class="meta">Acknowledged{response}</p>\n  '
    elif not mine and viewer.role == "member" and not paused:
        tail = (
            f'\n    <form method="post" action="{entry_url("checkins:trust_acknowledge", pk)}"'
            f' class="stack">{csrf_input(csrf_token)}\n'
            f'      <label for="resp-{pk}">A word of support (optional)</label>\n'
            f'      <textarea id="resp-{pk}" name="response" rows="2" maxlength="500">'
            "</textarea>\n"
            '      <button class="btn primary" type="submit">Acknowledge</button></form>\n  '
        )
    else:
        tail = ""
    html = (
        f'\n<li class="entry" data-entry-id="{pk}">\n'
        f'  <p><a href="{entry_url("checkins:trust_detail", pk)}">'
        f"{day_label(m.local_date, 'l j M')}</a> · {who}</p>\n"
        f"  <p>{escape(m.intention)}</p>\n"
        f"  {tail}\n"
        "</li>\n"
    )
    return mark_safe(html)  # noqa: S308 - every value above is escaped
