"""Turns the dashboard's numbers into what the page shows: server-rendered SVG charts, text
alternatives, the weekly summary in plain words, and the JSON the interactive charts read.

Wording is calm and neutral (QUALITY U5): counts of days are stated, never streaks; a day
without a check-in is simply a day without one. Nothing here reads free text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.utils.html import conditional_escape, escape, format_html
from django.utils.safestring import SafeString, mark_safe

from trellis.lib import svgchart

from .selectors import DashboardData


@dataclass(frozen=True)
class Metric:
    key: str
    label: str  # as a heading: "Sleep quality"
    noun: str  # inside a sentence: "sleep quality"
    y_min: int
    y_max: int
    y_step: int = 1
    note: str = ""


METRICS = (
    Metric("mood", "Mood", "mood", 1, 5, note="1 = low, 5 = good"),
    Metric("stress", "Stress", "stress", 1, 5, note="1 = calm, 5 = very stressed"),
    Metric("sleep", "Sleep quality", "sleep quality", 1, 5, note="1 = poor, 5 = restful"),
    Metric("closeness", "Closeness", "closeness", 1, 5, note="1 = distant, 5 = very close"),
    Metric("safety", "Emotional safety", "emotional safety", 1, 5, note="1 = low, 5 = safe"),
    Metric(
        "craving",
        "Craving",
        "craving",
        0,
        10,
        2,
        note=(
            "0 = none, 10 = very strong. Cravings rise and pass; noticing them is part of "
            "recovery, and a number here is information, not a verdict."
        ),
    ),
)
SUMMARY_METRICS = ("mood", "stress", "sleep", "closeness", "safety")


def average(values: list[int | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def fmt(value: float) -> str:
    return f"{value:.1f}"


def possessive(name: str) -> str:
    return f"{name}'s"


def compare_words(this_week: float, last_week: float, metric: Metric) -> str:
    """Week-on-week change in plain, non-judging words (higher stress is not called "worse")."""
    span = metric.y_max - metric.y_min
    diff = this_week - last_week
    if abs(diff) < 0.075 * span:
        return "about the same as last week"
    direction = "higher" if diff > 0 else "lower"
    if abs(diff) < 0.2 * span:
        return f"a little {direction} than last week"
    return f"{direction} than last week"


def days_phrase(count: int, of: int) -> str:
    return f"{count} of the last {of} days"


def _week_values(rows: dict[date, dict[str, Any]], key: str, start: date) -> list[int | None]:
    return [rows.get(start + timedelta(days=i), {}).get(key) for i in range(7)]


@dataclass
class SummaryLine:
    label: str
    text: str


@dataclass
class WeeklySummary:
    mine_sentence: str
    mine_lines: list[SummaryLine]
    partner_sentence: str
    checked_in_this_week: bool


def weekly_summary(data: DashboardData, metrics: list[Metric]) -> WeeklySummary:
    today = data.today
    this_start = today - timedelta(days=6)
    last_start = today - timedelta(days=13)
    mine_days = sum(1 for i in range(7) if this_start + timedelta(days=i) in data.mine)
    if mine_days:
        mine_sentence = f"You checked in on {days_phrase(mine_days, 7)}."
    else:
        mine_sentence = (
            "There are no check-ins from you in the last 7 days. Whenever you are ready, "
            "today's takes about a minute."
        )
    lines: list[SummaryLine] = []
    for metric in metrics:
        if metric.key not in SUMMARY_METRICS and metric.key != "craving":
            continue
        now = average(_week_values(data.mine, metric.key, this_start))
        if now is None:
            continue
        before = average(_week_values(data.mine, metric.key, last_start))
        text = f"{fmt(now)} of {metric.y_max} on average"
        if before is not None:
            text += f", {compare_words(now, before, metric)} ({fmt(before)})"
        lines.append(SummaryLine(metric.label, text))

    partner_sentence = ""
    if data.partner is not None:
        name = data.partner_name
        shared_days = [
            this_start + timedelta(days=i)
            for i in range(7)
            if this_start + timedelta(days=i) in data.partner_rows
        ]
        if shared_days:
            parts = []
            for metric in metrics:
                avg = average(_week_values(data.partner_rows, metric.key, this_start))
                if avg is not None:
                    parts.append(f"{metric.noun} {fmt(avg)}")
            partner_sentence = (
                f"{name} shared a check-in with you on {days_phrase(len(shared_days), 7)}"
                + (f"; their averages: {', '.join(parts)}." if parts else ".")
            )
        else:
            partner_sentence = f"{name} has not shared a check-in with you in the last 7 days."
    return WeeklySummary(mine_sentence, lines, partner_sentence, bool(mine_days))


def metric_sentence(data: DashboardData, metric: Metric, *, with_mine: bool = True) -> str:
    """The chart's text alternative in one sentence."""
    mine = [v for v in data.series("mine", metric.key) if v is not None]
    period = f"the last {data.days} days"
    if not with_mine:
        theirs = [v for v in data.series("partner", metric.key) if v is not None]
        owner = possessive(data.partner_name)
        if not theirs:
            return f"{data.partner_name} has shared no {metric.noun} values for {period}."
        return (
            f"{owner} shared {metric.noun} averaged {fmt(sum(theirs) / len(theirs))} of "
            f"{metric.y_max} over {period} ({_checkins(len(theirs))})."
        )
    if mine:
        first = (
            f"Your {metric.noun} averaged {fmt(sum(mine) / len(mine))} of {metric.y_max} "
            f"over {period} ({_checkins(len(mine))})"
        )
    else:
        first = f"You have no {metric.noun} values for {period}"
    if data.partner is None:
        return first + "."
    theirs = [v for v in data.series("partner", metric.key) if v is not None]
    owner = possessive(data.partner_name)
    if theirs:
        return (
            f"{first}; {owner} shared average was {fmt(sum(theirs) / len(theirs))} "
            f"({_checkins(len(theirs))})."
        )
    return f"{first}; {data.partner_name} has shared no {metric.noun} values for {period}."


def _checkins(count: int) -> str:
    return "1 check-in" if count == 1 else f"{count} check-ins"


NO_VALUE = format_html(
    '<span aria-hidden="true">{}</span><span class="sr-only">{}</span>', "–", "no value"
)


def table_rows(
    dates: list[date], mine: list[int | None] | None, theirs: list[int | None] | None
) -> SafeString:
    """The <tr>s of a chart's table of daily values (days with any value), built as plain
    strings (every value escaped), not with a template loop or a format_html per cell: a
    ninety-day table is a few hundred cells."""
    columns = [col for col in (mine, theirs) if col is not None]
    rows = []
    for i, day in enumerate(dates):
        values = [col[i] for col in columns]
        if all(v is None for v in values):
            continue
        cells = "".join(
            f"<td>{NO_VALUE if v is None else conditional_escape(str(v))}</td>" for v in values
        )
        rows.append(f'<tr><th scope="row">{escape(svgchart.day_label(day))}</th>{cells}</tr>')
    return mark_safe("".join(rows))  # noqa: S308 - dates and numbers, escaped above


@dataclass
class ValuesTable:
    """A chart's table of daily values. It is built only when asked for (the "Daily values"
    disclosure, fetched when opened, or `?values=<metric>` without JavaScript): six tables of
    ninety rows were most of the page's elements, and every element costs a phone layout time
    (QUALITY P7) whether its <details> is open or not."""

    key: str
    label: str
    rows: SafeString  # the <tr>s; empty when no day has a value
    with_mine: bool
    with_partner: bool


@dataclass
class MetricView:
    key: str
    label: str
    note: str
    svg: SafeString
    sentence: str
    with_mine: bool = True
    with_partner: bool = True
    table: ValuesTable | None = None  # given only for the metric whose values were asked for


def metric_by_key(key: object, shown: list[Metric]) -> Metric | None:
    """`?values=` as one of the metrics on the page; anything else is None (and ignored)."""
    return next((m for m in shown if m.key == key), None)


def values_table(data: DashboardData, metric: Metric, *, in_recovery: bool) -> ValuesTable:
    with_mine = shows_mine(data, metric, in_recovery=in_recovery)
    with_partner = data.partner is not None
    rows = table_rows(
        data.range_dates,
        data.series("mine", metric.key) if with_mine else None,
        data.series("partner", metric.key) if with_partner else None,
    )
    return ValuesTable(metric.key, metric.label, rows, with_mine, with_partner)


def shows_mine(data: DashboardData, metric: Metric, *, in_recovery: bool) -> bool:
    """Craving is asked only of a person in recovery: a supporting partner who is not sees
    only what their partner shared, not an empty line of their own."""
    if metric.key != "craving" or in_recovery:
        return True
    return any(r.get("craving") is not None for r in data.mine.values())


def metrics_to_show(data: DashboardData, *, in_recovery: bool) -> list[Metric]:
    """The five scales always; craving for a person in recovery, or when either series holds a
    craving value (a partner may be the one in recovery)."""
    shown = [m for m in METRICS if m.key != "craving"]
    has_craving = any(r.get("craving") is not None for r in data.mine.values()) or any(
        r.get("craving") is not None for r in data.partner_rows.values()
    )
    if in_recovery or has_craving:
        shown.append(METRICS[-1])
    return shown


def metric_views(
    data: DashboardData,
    metrics: list[Metric],
    *,
    in_recovery: bool = False,
    values_for: str = "",
) -> list[MetricView]:
    """Each chart with its text alternative; the table of daily values only for `values_for`
    (the metric whose values a person without JavaScript asked to see)."""
    views = []
    dates = data.range_dates
    for metric in metrics:
        with_mine = shows_mine(data, metric, in_recovery=in_recovery)
        mine: list[int | None] = (
            data.series("mine", metric.key) if with_mine else [None] * len(dates)
        )
        series = [svgchart.Series("You", mine, style=0)] if with_mine else []
        theirs: list[int | None] = []
        if data.partner is not None:
            theirs = data.series("partner", metric.key)
            series.append(svgchart.Series(data.partner_name, theirs, style=1))
        sentence = metric_sentence(data, metric, with_mine=with_mine)
        parts = [
            f"Daily {metric.noun} from {svgchart.long_date(dates[0])} to "
            f"{svgchart.long_date(dates[-1])}, on a scale of {metric.y_min} to {metric.y_max}."
        ]
        if with_mine:
            parts.append("Yours: solid line, round markers.")
        if data.partner is not None:
            parts.append(
                f"{possessive(data.partner_name)} shared values: dashed line, square markers."
            )
        parts += ["Days without a value leave a gap.", sentence]
        desc = " ".join(parts)
        svg = svgchart.line_chart(
            chart_id=f"chart-{metric.key}",
            title=f"{metric.label}, last {data.days} days",
            desc=desc,
            days=dates,
            series=series,
            y_min=metric.y_min,
            y_max=metric.y_max,
            y_step=metric.y_step,
        )
        table = (
            values_table(data, metric, in_recovery=in_recovery)
            if metric.key == values_for
            else None
        )
        views.append(
            MetricView(
                metric.key,
                metric.label,
                metric.note,
                svg,
                sentence,
                with_mine=with_mine,
                with_partner=data.partner is not None,
                table=table,
            )
        )
    return views


@dataclass
class HeatmapView:
    svg: SafeString
    sentence: str
    weeks: list[tuple[str, int]]  # (first day of the week, days with a check-in)


def heatmap_view(data: DashboardData, *, who: str) -> HeatmapView:
    from .selectors import HEATMAP_WEEKS

    rows = data.mine if who == "mine" else data.partner_rows
    cells = svgchart.heatmap_cells(data.today, rows.keys(), weeks=HEATMAP_WEEKS)
    count = sum(1 for c in cells if c.on)
    first, last = svgchart.long_date(cells[0].day), svgchart.long_date(cells[-1].day)
    if who == "mine":
        title = "Your check-ins, last 12 weeks"
        on_label, off_label = "checked in", "no check-in"
        sentence = f"You checked in on {days_phrase(count, len(cells))}."
    else:
        name = data.partner_name
        title = f"Check-ins {name} shared with you, last 12 weeks"
        # Not "no check-in": the partner may have checked in and kept it to themselves.
        on_label, off_label = "shared a check-in", "nothing shared"
        sentence = f"{name} shared a check-in with you on {days_phrase(count, len(cells))}."
    desc = (
        f"A calendar from {first} to {last}, one column per week, one row per weekday. "
        f"Filled squares: {on_label}; outlined squares: {off_label}. {sentence}"
    )
    svg = svgchart.heatmap(
        chart_id=f"heatmap-{who}",
        title=title,
        desc=desc,
        cells=cells,
        on_label=on_label,
        off_label=off_label,
    )
    weeks = [
        (svgchart.day_label(cells[i].day), sum(1 for c in cells[i : i + 7] if c.on))
        for i in range(0, len(cells), 7)
    ]
    return HeatmapView(svg, sentence, weeks)


def chart_json(
    data: DashboardData, metrics: list[Metric], *, in_recovery: bool = False
) -> dict[str, Any]:
    """What static/js/dashboard.js draws: numbers, dates and our own labels only."""
    return {
        "dates": [d.isoformat() for d in data.range_dates],
        "partner": data.partner_name if data.partner is not None else None,
        "metrics": {
            m.key: {
                "label": m.label,
                "min": m.y_min,
                "max": m.y_max,
                "step": m.y_step,
                "mine": (
                    data.series("mine", m.key)
                    if shows_mine(data, m, in_recovery=in_recovery)
                    else None
                ),
                "partner": data.series("partner", m.key) if data.partner is not None else None,
            }
            for m in metrics
        },
    }
