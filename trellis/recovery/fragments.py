"""A track's day counts and its story so far, built in Python: byte for byte what
`recovery/_counts.html` and `recovery/_story.html` render (tests/recovery/test_fragments.py
compares them over runs, lapses, ended tracks and two languages). Those templates stay the
reference.

The recovery home and a track's page show these for every track, and a story holds every
earlier run with its milestones: through the template engine, two years of monthly lapses cost
more than a whole trivial page (QUALITY P2), nearly all of it `{% for %}`, `{% if %}` and
`date` over a handful of numbers and labels.
"""

from __future__ import annotations

from typing import Any

from django.utils.formats import localize
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from trellis.journal.cards import day_label


def _days(n: int) -> str:
    """`{{ n }} day{{ n|pluralize }}`"""
    return f"{localize(n)} day{'' if n == 1 else 's'}"


def counts_html(card: Any) -> SafeString:
    """`{% include "recovery/_counts.html" %}` for `card` (views.TrackCard)."""
    c = card.counts
    if c.run_start > c.today:
        run = '<p class="run"><span class="run-today">A new run begins tomorrow.</span></p>'
    elif c.current_run == 0:
        run = '<p class="run"><span class="run-today">Today is day one of this run.</span></p>'
    else:
        n = c.current_run
        run = (
            f'<p class="run"><span class="run-days">{localize(n)}</span> '
            f'<span class="run-unit">day{"" if n == 1 else "s"} in this run</span></p>'
        )
    reached = ""
    if c.reached:
        labels = ", ".join(f'<span class="milestone">{escape(m.label)}</span>' for m in c.reached)
        reached = (
            '\n    <p class="milestones"><span class="label">Milestones this run:</span>\n'
            f"      {labels}</p>\n  "
        )
    upcoming = ""
    up = card.upcoming
    if up and not card.track.ended_at:
        when = day_label(up.on, "j F Y" if up.on.year != c.today.year else "j F")
        upcoming = (
            f'\n    <p class="next">Next: <strong>{escape(up.label)}</strong> on '
            f'<span class="nowrap">{when}</span></p>\n  '
        )
    html = (
        '\n\n<div class="counts">\n'
        f"  \n    {run}\n  \n"
        '  <dl class="figures">\n'
        f"    <div><dt>Recovery days in total</dt><dd>{_days(c.recovery_days)}</dd></div>\n"
        f"    <div><dt>Longest run</dt><dd>{_days(c.longest_run)}</dd></div>\n"
        "  </dl>\n"
        f"  {reached}\n"
        f"  {upcoming}\n"
        "</div>\n\n"
    )
    return mark_safe(html)  # noqa: S308 - labels escaped, the rest numbers and dates


def story_html(card: Any) -> SafeString:
    """`{% include "recovery/_story.html" %}` for `card` (views.TrackCard)."""
    if not card.earlier:
        return mark_safe("\n\n")
    runs = []
    for run in card.earlier:
        milestones = ""
        if run.milestones:
            labels = ", ".join(escape(m.label) for m in run.milestones)
            milestones = f'\n    <br><span class="meta">Milestones: {labels}</span>'
        runs.append(
            f"\n  <li><strong>{_days(run.days)}</strong>, {day_label(run.start, 'j M Y')} to "
            f"{day_label(run.last_day, 'j M Y')}{milestones}</li>\n  "
        )
    html = '\n\n<ul class="story">\n  ' + "".join(runs) + "\n</ul>\n\n"
    return mark_safe(html)  # noqa: S308 - labels escaped, the rest numbers and dates
