"""Small, dependency-free SVG charts rendered on the server: the chart every page shows without
JavaScript, and the one a screen reader is given (QUALITY.md U4: every chart has a text
alternative).

Markup is built from plain strings: numbers we computed and our own element names go in as they
are, and every label (including a person's display name) goes through `_e` (Django's `escape`,
without its per-call lazy-string machinery — a dashboard holds thousands of these, and
`format_html` per element was most of the page's time). No `style` attributes anywhere: the
CSP forbids them, so colours and dashes are SVG presentation attributes.

Colour is never the only signal: the first series is a solid line with filled round markers,
the second a dashed line with hollow square markers.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from django.utils.safestring import SafeString, mark_safe

# Both meet 3:1 against white for graphics (WCAG 1.4.11); text uses INK/MUTED (AA for text).
COLOURS = ("#2f6b5f", "#6a4c93")
INK = "#1f2a2e"
MUTED = "#4d5b60"
GRID = "#dfe4e2"
EMPTY_CELL = "#ffffff"
EMPTY_CELL_EDGE = "#8a9893"

WIDTH = 320
HEIGHT = 190
PAD_LEFT = 28
PAD_RIGHT = 10
PAD_TOP = 10
PAD_BOTTOM = 28
FONT = 12.5
X_FONT = 11.5  # date labels: a little smaller, so a label per week fits on a phone


@dataclass(frozen=True)
class Series:
    """One person's daily values, aligned with the chart's days (None: no value that day)."""

    label: str
    values: Sequence[float | int | None]
    style: int | None = None  # 0: solid, round markers; 1: dashed, square. Default: position.


def _e(value: object) -> str:
    """Escaped text, as format_html's conditional_escape: html.escape of str(), unless the
    value is already safe markup."""
    if hasattr(value, "__html__"):
        return str(value.__html__())
    return html.escape(str(value))


def _num(value: float) -> str:
    """A coordinate as short, plain text: only digits, a sign and a dot."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _clean(value: object, lo: float, hi: float) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    if not math.isfinite(number):
        return None
    return min(max(number, lo), hi)


# Dates repeat across a page's charts, tables and calendars: format each once.
@lru_cache(maxsize=2048)
def short_date(day: date) -> str:
    return f"{day.day} {day.strftime('%b')}"


@lru_cache(maxsize=2048)
def day_label(day: date) -> str:
    return f"{day.strftime('%a')} {day.day} {day.strftime('%b')}"


@lru_cache(maxsize=2048)
def long_date(day: date) -> str:
    return f"{day.strftime('%a')} {day.day} {day.strftime('%b')} {day.year}"


def _segments(points: Sequence[tuple[float, float] | None]) -> list[list[tuple[float, float]]]:
    """Runs of consecutive days with a value: a missing day breaks the line (it is not zero)."""
    runs: list[list[tuple[float, float]]] = []
    current: list[tuple[float, float]] = []
    for point in points:
        if point is None:
            if current:
                runs.append(current)
            current = []
        else:
            current.append(point)
    if current:
        runs.append(current)
    return runs


def _path(run: Sequence[tuple[float, float]]) -> str:
    return " ".join(f"{'M' if i == 0 else 'L'}{_num(x)} {_num(y)}" for i, (x, y) in enumerate(run))


def _x_ticks(count: int) -> list[int]:
    """Indexes of the days that get a date under the axis: the last day, then every week or
    fortnight back, at most five labels."""
    if count <= 1:
        return [0] if count else []
    step = 7
    while count / step > 4.5:
        step += 7
    ticks = list(range(count - 1, -1, -step))
    return sorted(ticks)


def line_chart(
    *,
    chart_id: str,
    title: str,
    desc: str,
    days: Sequence[date],
    series: Sequence[Series],
    y_min: int,
    y_max: int,
    y_step: int = 1,
) -> SafeString:
    """A daily line chart with a fixed y range. Up to two series (solid, then dashed)."""
    if len(series) > len(COLOURS):
        raise ValueError("line_chart draws at most two series")
    n = len(days)
    plot_w = WIDTH - PAD_LEFT - PAD_RIGHT
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    span = (y_max - y_min) or 1

    def x_at(i: int) -> float:
        return PAD_LEFT + (plot_w / 2 if n <= 1 else i * plot_w / (n - 1))

    def y_at(v: float) -> float:
        return PAD_TOP + plot_h - (v - y_min) * plot_h / span

    grid = "".join(
        f'<line x1="{PAD_LEFT}" y1="{_num(y_at(v))}" x2="{WIDTH - PAD_RIGHT}" y2="{_num(y_at(v))}"'
        f' stroke="{GRID}" stroke-width="1"/>'
        f'<text x="{PAD_LEFT - 6}" y="{_num(y_at(v) + FONT * 0.35)}" text-anchor="end"'
        f' fill="{MUTED}" font-size="{FONT}">{_e(v)}</text>'
        for v in range(y_min, y_max + 1, y_step)
    )
    # Date labels from the right (today) leftwards, skipping any that would touch its neighbour.
    labels: list[tuple[float, str, str]] = []
    left_edge = float(WIDTH)
    for i in reversed(_x_ticks(n)):
        text = short_date(days[i])
        width = len(text) * X_FONT * 0.6
        anchor = "end" if i == n - 1 and n > 1 else ("start" if i == 0 else "middle")
        x = x_at(i)
        start = x - width if anchor == "end" else (x if anchor == "start" else x - width / 2)
        if start + width + 4 > left_edge:
            continue
        labels.append((x, anchor, text))
        left_edge = start
    x_labels = "".join(
        f'<text x="{_num(x)}" y="{HEIGHT - 8}" text-anchor="{anchor}" fill="{MUTED}"'
        f' font-size="{X_FONT}">{_e(text)}</text>'
        for x, anchor, text in reversed(labels)
    )

    marker_size = 3.2 if n <= 45 else 2.2
    drawn = []
    for position, s in enumerate(series):
        index = position if s.style is None else s.style
        colour = COLOURS[index]
        points = [
            None
            if (v := _clean(s.values[i] if i < len(s.values) else None, y_min, y_max)) is None
            else (x_at(i), y_at(v))
            for i in range(n)
        ]
        dash = "" if index == 0 else ' stroke-dasharray="6 4"'
        lines = "".join(
            f'<path d="{_path(run)}" fill="none" stroke="{colour}" stroke-width="2"'
            f' stroke-linejoin="round" stroke-linecap="round"{dash}/>'
            for run in _segments(points)
            if len(run) > 1
        )
        present = [p for p in points if p is not None]
        # All of a series' markers are one path (numbers only): a page of 90-day charts stays
        # small and quick to build. Round and filled for the first series, hollow squares for
        # the second.
        if index == 0:
            r = marker_size
            d = "".join(
                f"M{_num(x - r)} {_num(y)}a{_num(r)} {_num(r)} 0 1 0 {_num(2 * r)} 0"
                f"a{_num(r)} {_num(r)} 0 1 0 {_num(-2 * r)} 0z"
                for x, y in present
            )
            markers = f'<path class="markers" d="{d}" fill="{colour}" stroke="none"/>'
        else:
            side = marker_size * 2
            d = "".join(
                f"M{_num(x - side / 2)} {_num(y - side / 2)}h{_num(side)}v{_num(side)}"
                f"h{_num(-side)}z"
                for x, y in present
            )
            markers = (
                f'<path class="markers" d="{d}" fill="#ffffff" stroke="{colour}"'
                ' stroke-width="1.5"/>'
            )
        drawn.append(
            f'<g class="series series-{index}" data-label="{_e(s.label)}">{lines}{markers}</g>'
        )

    cid, b = _e(chart_id), _num(y_at(y_min))
    return mark_safe(  # noqa: S308 - every label above went through _e
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart-svg" id="{cid}" role="img"'
        f' aria-labelledby="{cid}-title {cid}-desc" viewBox="0 0 {WIDTH} {HEIGHT}"'
        f' width="{WIDTH}" height="{HEIGHT}" preserveAspectRatio="xMidYMid meet"'
        f' focusable="false"><title id="{cid}-title">{_e(title)}</title>'
        f'<desc id="{cid}-desc">{_e(desc)}</desc><g class="axes">{grid}{x_labels}'
        f'<line x1="{PAD_LEFT}" y1="{b}" x2="{WIDTH - PAD_RIGHT}" y2="{b}" stroke="{MUTED}"'
        f' stroke-width="1"/></g>{"".join(drawn)}</svg>'
    )


# --- Calendar heat-map ---------------------------------------------------------------------
CELL = 20
GAP = 3
HEAT_LEFT = 36
HEAT_TOP = 20


@dataclass(frozen=True)
class HeatCell:
    day: date
    on: bool
    row: int
    column: int


def heatmap_cells(end: date, marked: Iterable[date], *, weeks: int = 12) -> list[HeatCell]:
    """`weeks` × 7 consecutive days ending with `end`: one column per 7 days, oldest first.
    Each row therefore holds one weekday."""
    on = set(marked)
    start = end - timedelta(days=weeks * 7 - 1)
    cells = []
    for offset in range(weeks * 7):
        day = start + timedelta(days=offset)
        cells.append(HeatCell(day, day in on, offset % 7, offset // 7))
    return cells


def heatmap(
    *,
    chart_id: str,
    title: str,
    desc: str,
    cells: Sequence[HeatCell],
    on_label: str,
    off_label: str,
) -> SafeString:
    """A calendar of days (rows: weekdays, columns: weeks). Each cell says its date and whether
    it holds a check-in in its own <title>; filled vs. outlined is the signal, not hue."""
    columns = max((c.column for c in cells), default=-1) + 1
    width = HEAT_LEFT + columns * (CELL + GAP)
    height = HEAT_TOP + 7 * (CELL + GAP)
    first_column = [c for c in cells if c.column == 0]
    row_labels = "".join(
        f'<text x="{HEAT_LEFT - 6}" y="{HEAT_TOP + c.row * (CELL + GAP) + CELL * 0.7}"'
        f' text-anchor="end" fill="{MUTED}" font-size="{FONT}">{_e(c.day.strftime("%a"))}</text>'
        for c in first_column
    )
    column_labels = "".join(
        f'<text x="{HEAT_LEFT + c.column * (CELL + GAP)}" y="{HEAT_TOP - 6}" text-anchor="start"'
        f' fill="{MUTED}" font-size="{FONT}">{_e(short_date(c.day))}</text>'
        for c in cells
        if c.row == 0 and c.column % 4 == 0
    )
    on_text, off_text = _e(on_label), _e(off_label)
    rects = "".join(
        f'<rect x="{HEAT_LEFT + c.column * (CELL + GAP)}" y="{HEAT_TOP + c.row * (CELL + GAP)}"'
        f' width="{CELL}" height="{CELL}" rx="4"'
        + (
            f' fill="{COLOURS[0]}" stroke="{COLOURS[0]}" stroke-width="1.5" class="cell on">'
            f"<title>{_e(long_date(c.day))}: {on_text}</title></rect>"
            if c.on
            else f' fill="{EMPTY_CELL}" stroke="{EMPTY_CELL_EDGE}" stroke-width="1.5"'
            f' class="cell off"><title>{_e(long_date(c.day))}: {off_text}</title></rect>'
        )
        for c in cells
    )
    cid = _e(chart_id)
    return mark_safe(  # noqa: S308 - every label above went through _e
        f'<svg xmlns="http://www.w3.org/2000/svg" class="heatmap-svg" id="{cid}" role="img"'
        f' aria-labelledby="{cid}-title {cid}-desc" viewBox="0 0 {width} {height}"'
        f' width="{width}" height="{height}" focusable="false">'
        f'<title id="{cid}-title">{_e(title)}</title><desc id="{cid}-desc">{_e(desc)}</desc>'
        f"{row_labels}{column_labels}{rects}</svg>"
    )
