"""Server-side SVG: well-formed, labelled, escaped, gaps break the line, no style attributes."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import date, timedelta
from itertools import pairwise

from django.utils.safestring import SafeString

from trellis.lib.svgchart import Series, heatmap, heatmap_cells, line_chart

NS = "{http://www.w3.org/2000/svg}"
DAYS = [date(2025, 3, 1) + timedelta(days=i) for i in range(5)]


def _chart(values, partner=None, **kw):
    series = [Series("You", values)]
    if partner is not None:
        series.append(Series("Sam", partner))
    args = {
        "chart_id": "chart-mood",
        "title": "Mood, last 5 days",
        "desc": "Daily mood.",
        "days": DAYS,
        "series": series,
        "y_min": 1,
        "y_max": 5,
    }
    args.update(kw)
    return line_chart(**args)


def _group(svg: str, index: int) -> ET.Element:
    group = ET.fromstring(svg).find(f".//{NS}g[@class='series series-{index}']")
    assert group is not None
    return group


def _paths(svg: str, index: int) -> list[ET.Element]:
    """The lines of a series (its markers are one separate path)."""
    return [p for p in _group(svg, index).findall(f"{NS}path") if p.get("class") != "markers"]


def _markers(svg: str, index: int) -> list[str]:
    """One sub-path per marker: 'M x y' and its drawing commands."""
    path = _group(svg, index).find(f"{NS}path[@class='markers']")
    assert path is not None
    return re.findall(r"M[^M]+", path.get("d"))


def test_structure_and_accessible_name():
    svg = _chart([1, 2, 3, 4, 5], [2, 2, 2, 2, 2])
    assert isinstance(svg, SafeString)
    root = ET.fromstring(svg)
    assert root.tag == f"{NS}svg"
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "chart-mood-title chart-mood-desc"
    assert root.get("viewBox") == "0 0 320 190"
    assert root.find(f"{NS}title").get("id") == "chart-mood-title"
    assert root.find(f"{NS}title").text == "Mood, last 5 days"
    assert root.find(f"{NS}desc").text == "Daily mood."
    assert "style=" not in svg


def test_two_series_differ_by_more_than_colour():
    svg = _chart([1, 2, 3, 4, 5], [2, 3, 2, 3, 2])
    mine, theirs = _paths(svg, 0), _paths(svg, 1)
    assert mine[0].get("stroke-dasharray") is None
    assert theirs[0].get("stroke-dasharray") == "6 4"
    # Filled round markers (two arcs each) for mine, hollow squares for the partner's.
    mine_marks, their_marks = _markers(svg, 0), _markers(svg, 1)
    assert len(mine_marks) == 5 and all(m.count("a") == 2 for m in mine_marks)
    assert len(their_marks) == 5 and all(re.search(r"h.*v.*h", m) for m in their_marks)
    group0, group1 = _group(svg, 0), _group(svg, 1)
    assert group0.find(f"{NS}path[@class='markers']").get("fill") == "#2f6b5f"
    assert group1.find(f"{NS}path[@class='markers']").get("fill") == "#ffffff"


def test_missing_days_break_the_line_instead_of_dropping_to_zero():
    svg = _chart([4, 4, None, 3, 3])
    paths = _paths(svg, 0)
    assert len(paths) == 2
    assert all(p.get("d").count("M") == 1 and p.get("d").count("L") == 1 for p in paths)
    # Four markers, and nothing drawn for the missing day (not at the bottom, not anywhere).
    assert len(_markers(svg, 0)) == 4
    xs = [float(re.match(r"M([-\d.]+)", m).group(1)) for m in _markers(svg, 0)]
    assert xs == sorted(xs) and xs[2] - xs[1] > 1.5 * (xs[1] - xs[0])


def test_a_lone_day_is_a_marker_without_a_line():
    svg = _chart([None, 3, None, None, 5])
    assert _paths(svg, 0) == []
    assert len(_markers(svg, 0)) == 2


def test_fixed_range_and_bad_values():
    svg = _chart([0, 9, float("nan"), "x", True], y_min=1, y_max=5)
    root = ET.fromstring(svg)
    # 0 and 9 are clamped to the scale; NaN, text and booleans are gaps.
    assert len(_markers(svg, 0)) == 2
    # Circles start at their left edge, on the centre line: y is 10 at 5 and 162 at 1.
    ys = sorted(float(re.match(r"M[-\d.]+ ([-\d.]+)", m).group(1)) for m in _markers(svg, 0))
    assert ys == [10.0, 162.0]
    labels = [t.text for t in root.findall(f"{NS}g[@class='axes']/{NS}text")]
    assert labels[:5] == ["1", "2", "3", "4", "5"]


def test_craving_scale_ticks():
    svg = _chart([0, 10, 5, None, 2], y_min=0, y_max=10, y_step=2)
    root = ET.fromstring(svg)
    labels = [t.text for t in root.findall(f"{NS}g[@class='axes']/{NS}text")]
    assert labels[:6] == ["0", "2", "4", "6", "8", "10"]


def test_labels_are_escaped():
    evil = '"><script>alert(1)</script><svg onload="x">&'
    svg = line_chart(
        chart_id="c",
        title=evil,
        desc=evil,
        days=DAYS,
        series=[Series("You", [1, 2, 3, 4, 5]), Series(evil, [1, 2, 3, 4, 5])],
        y_min=1,
        y_max=5,
    )
    assert "<script" not in svg and "onload=" not in svg.replace("onload=&quot;", "")
    assert "&lt;script&gt;" in svg
    root = ET.fromstring(svg)  # still well-formed
    assert root.find(f"{NS}title").text == evil


def test_heatmap_cells_are_twelve_weeks_of_seven_days():
    end = date(2025, 6, 15)
    cells = heatmap_cells(end, {end, end - timedelta(days=8)})
    assert len(cells) == 84
    assert {c.row for c in cells} == set(range(7))
    assert {c.column for c in cells} == set(range(12))
    assert cells[-1].day == end and (cells[-1].row, cells[-1].column) == (6, 11)
    assert cells[0].day == end - timedelta(days=83)
    # One weekday per row.
    for row in range(7):
        assert len({c.day.weekday() for c in cells if c.row == row}) == 1
    assert sum(c.on for c in cells) == 2


def test_heatmap_svg_labels_every_cell():
    end = date(2025, 6, 15)
    cells = heatmap_cells(end, {end})
    svg = heatmap(
        chart_id="heatmap-mine",
        title="Your check-ins",
        desc="A calendar.",
        cells=cells,
        on_label="checked in",
        off_label="no check-in",
    )
    root = ET.fromstring(svg)
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "heatmap-mine-title heatmap-mine-desc"
    rects = root.findall(f"{NS}rect")
    assert len(rects) == 84
    titles = [r.find(f"{NS}title").text for r in rects]
    assert titles[-1] == "Sun 15 Jun 2025: checked in"
    assert titles[0] == "Mon 24 Mar 2025: no check-in"
    assert sum(t.endswith(": checked in") for t in titles) == 1
    assert sum(t.endswith(": no check-in") for t in titles) == 83
    assert "style=" not in svg
    # Neutral colours: filled for a check-in, white with an outline otherwise; nothing red.
    fills = {r.get("fill") for r in rects}
    assert fills == {"#2f6b5f", "#ffffff"}


def test_date_labels_never_overlap():
    for count in (1, 2, 7, 30, 45, 90):
        days = [date(2025, 1, 1) + timedelta(days=i) for i in range(count)]
        svg = line_chart(
            chart_id="c",
            title="t",
            desc="d",
            days=days,
            series=[Series("You", [3] * count)],
            y_min=1,
            y_max=5,
        )
        root = ET.fromstring(svg)
        texts = [t for t in root.findall(f"{NS}g[@class='axes']/{NS}text") if not t.text.isdigit()]
        assert texts, count
        spans = []
        for t in texts:
            x, width = float(t.get("x")), len(t.text) * 11.5 * 0.6
            start = {"end": x - width, "start": x, "middle": x - width / 2}[t.get("text-anchor")]
            spans.append((start, start + width))
        spans.sort()
        assert all(a[1] < b[0] for a, b in pairwise(spans)), (count, spans)
        assert spans[0][0] >= 0 and spans[-1][1] <= 320
        assert texts[-1].text == f"{days[-1].day} {days[-1].strftime('%b')}"  # today is labelled
        if count in (30, 90):
            assert len(texts) == 5  # one label every week (30 days) or three weeks (90)
