"""Small, dependency-free SVG charts rendered on the server: the chart every page shows without
JavaScript, and the one a screen reader is given (QUALITY.md U4: every chart has a text
alternative).

Everything is built with `format_html` / `format_html_join`, so the only things that reach the
markup unescaped are numbers we computed and our own element names; labels (including a
person's display name) are always escaped. No `style` attributes anywhere: the CSP forbids
them, so colours and dashes are SVG presentation attributes.

Colour is never the only signal: the first series is a solid line with filled round markers,
the second a dashed line with hollow square markers.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

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


def short_date(day: date) -> str:
    return f"{day.day} {day.strftime('%b')}"


def day_label(day: date) -> str:
    return f"{day.strftime('%a')} {day.day} {day.strftime('%b')}"


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

    grid = format_html_join(
        "",
        '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="1"/>'
        '<text x="{}" y="{}" text-anchor="end" fill="{}" font-size="{}">{}</text>',
        (
            (
                PAD_LEFT,
                _num(y_at(v)),
                WIDTH - PAD_RIGHT,
                _num(y_at(v)),
                GRID,
                PAD_LEFT - 6,
                _num(y_at(v) + FONT * 0.35),
                MUTED,
                FONT,
                v,
            )
            for v in range(y_min, y_max + 1, y_step)
        ),
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
    x_labels = format_html_join(
        "",
        '<text x="{}" y="{}" text-anchor="{}" fill="{}" font-size="{}">{}</text>',
        (
            (_num(x), HEIGHT - 8, anchor, MUTED, X_FONT, text)
            for x, anchor, text in reversed(labels)
        ),
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
        dash = "" if index == 0 else "6 4"
        lines = format_html_join(
            "",
            '<path d="{}" fill="none" stroke="{}" stroke-width="2" stroke-linejoin="round"'
            ' stroke-linecap="round"{}/>',
            (
                (_path(run), colour, format_html(' stroke-dasharray="{}"', dash) if dash else "")
                for run in _segments(points)
                if len(run) > 1
            ),
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
            markers = format_html(
                '<path class="markers" d="{}" fill="{}" stroke="none"/>', d, colour
            )
        else:
            side = marker_size * 2
            d = "".join(
                f"M{_num(x - side / 2)} {_num(y - side / 2)}h{_num(side)}v{_num(side)}"
                f"h{_num(-side)}z"
                for x, y in present
            )
            markers = format_html(
                '<path class="markers" d="{}" fill="#ffffff" stroke="{}" stroke-width="1.5"/>',
                d,
                colour,
            )
        drawn.append(
            format_html(
                '<g class="series series-{}" data-label="{}">{}{}</g>',
                index,
                s.label,
                lines,
                markers,
            )
        )

    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" class="chart-svg" id="{id}" role="img"'
        ' aria-labelledby="{id}-title {id}-desc" viewBox="0 0 {w} {h}" width="{w}" height="{h}"'
        ' preserveAspectRatio="xMidYMid meet" focusable="false">'
        '<title id="{id}-title">{title}</title><desc id="{id}-desc">{desc}</desc>'
        '<g class="axes">{grid}{x_labels}'
        '<line x1="{l}" y1="{b}" x2="{r}" y2="{b}" stroke="{muted}" stroke-width="1"/></g>'
        "{series}</svg>",
        id=chart_id,
        w=WIDTH,
        h=HEIGHT,
        title=title,
        desc=desc,
        grid=grid,
        x_labels=x_labels,
        l=PAD_LEFT,
        r=WIDTH - PAD_RIGHT,
        b=_num(y_at(y_min)),
        muted=MUTED,
        series=format_html_join("", "{}", ((g,) for g in drawn)),
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
    row_labels = format_html_join(
        "",
        '<text x="{}" y="{}" text-anchor="end" fill="{}" font-size="{}">{}</text>',
        (
            (
                HEAT_LEFT - 6,
                HEAT_TOP + c.row * (CELL + GAP) + CELL * 0.7,
                MUTED,
                FONT,
                c.day.strftime("%a"),
            )
            for c in first_column
        ),
    )
    column_labels = format_html_join(
        "",
        '<text x="{}" y="{}" text-anchor="start" fill="{}" font-size="{}">{}</text>',
        (
            (HEAT_LEFT + c.column * (CELL + GAP), HEAT_TOP - 6, MUTED, FONT, short_date(c.day))
            for c in cells
            if c.row == 0 and c.column % 4 == 0
        ),
    )
    rects = format_html_join(
        "",
        '<rect x="{}" y="{}" width="{}" height="{}" rx="4" fill="{}" stroke="{}"'
        ' stroke-width="1.5" class="{}"><title>{}: {}</title></rect>',
        (
            (
                HEAT_LEFT + c.column * (CELL + GAP),
                HEAT_TOP + c.row * (CELL + GAP),
                CELL,
                CELL,
                COLOURS[0] if c.on else EMPTY_CELL,
                COLOURS[0] if c.on else EMPTY_CELL_EDGE,
                "cell on" if c.on else "cell off",
                long_date(c.day),
                on_label if c.on else off_label,
            )
            for c in cells
        ),
    )
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" class="heatmap-svg" id="{id}" role="img"'
        ' aria-labelledby="{id}-title {id}-desc" viewBox="0 0 {w} {h}" width="{w}" height="{h}"'
        ' focusable="false">'
        '<title id="{id}-title">{title}</title><desc id="{id}-desc">{desc}</desc>'
        "{rows}{cols}{rects}</svg>",
        id=chart_id,
        w=width,
        h=height,
        title=title,
        desc=desc,
        rows=row_labels,
        cols=column_labels,
        rects=rects,
    )
