"""The dashboard in a real Chromium: the server SVGs are the charts, with or without JavaScript;
"Explore day by day" fetches uPlot and upgrades that one chart, "Daily values" fetches its
table (htmx) or, without JavaScript, links to the page with it; nothing trips the CSP, axe
finds nothing, nothing scrolls sideways at 320 px. Screenshots land in
test-artifacts/screenshots/dashboard-e2e-*.png."""

from __future__ import annotations

import random
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.browsing import Browsing, no_horizontal_scroll
from tests.e2e.flows import couple
from trellis.couples.models import Couple
from trellis.demo.seed import checkin_history
from trellis.lib.dates import local_today
from trellis.recovery.models import RecoveryTrack
from trellis.sharing.services import current_couple_id

pytestmark = pytest.mark.browser

# The `browser` and `site` fixtures come from tests/e2e/conftest.py.


def _history() -> Any:
    people = couple()
    RecoveryTrack.objects.create(
        author=people.alex, kind="substance", what="Alcohol", since=local_today("UTC")
    )
    space = Couple.objects.get(pk=current_couple_id(people.alex))
    checkin_history(
        [(people.alex, space), (people.sam, space)],
        days=50,
        rng=random.Random(3),
        end=local_today("UTC"),
    )
    return people


def _requests(who: Any, part: str) -> list[str]:
    """The URLs containing `part` that this person's tab asks for from now on."""
    seen: list[str] = []
    who.page.on("request", lambda req: seen.append(req.url) if part in req.url else None)
    return seen


def test_charts_upgrade_on_request(site: Browsing):
    people = _history()
    sam = site.person("Sam")
    uplot = _requests(sam, "uplot")
    site.sign_in(sam, people.sam)
    page = site.goto(sam, "/dashboard/", shot="dashboard-e2e-sam-390-js")
    # Five scales plus craving (Alex shares craving values), each the server's SVG; uPlot is
    # neither fetched nor run until someone asks for an interactive chart (QUALITY P7).
    expect(page.locator(".chart-svg")).to_have_count(6)
    expect(page.locator(".chart-svg").first).to_be_visible()
    expect(page.locator(".dash-chart.is-live")).to_have_count(0)
    assert page.evaluate("typeof window.uPlot") == "undefined" and uplot == []

    mood = page.locator("section.dash-metric").filter(has=page.locator("#heading-mood"))
    mood.locator(".dash-explore summary").click()
    expect(mood.locator(".dash-chart.is-live .chart-live canvas")).to_have_count(1)
    expect(mood.locator(".dash-explore-note")).to_contain_text("see each day’s values")
    expect(page.locator(".dash-chart.is-live")).to_have_count(1)  # only the one asked for
    # The SVG stays for screen readers, visually hidden (1 px), named by its <title>.
    box = mood.locator(".chart-svg").bounding_box()
    assert box is not None and box["width"] <= 1 and box["height"] <= 1
    expect(page.get_by_role("img", name="Mood, last 30 days")).to_have_count(1)
    # The live legend says the values of a day (the latest with any, away from the chart).
    expect(mood.locator(".u-legend")).to_contain_text("You")
    site.check(sam, shot="dashboard-e2e-sam-390-explore")

    # Closing puts the SVG back; another chart reuses the uPlot already fetched.
    mood.locator(".dash-explore summary").click()
    expect(page.locator(".dash-chart.is-live")).to_have_count(0)
    box = mood.locator(".chart-svg").bounding_box()
    assert box is not None and box["width"] > 250
    stress = page.locator("section.dash-metric").filter(has=page.locator("#heading-stress"))
    stress.locator(".dash-explore summary").click()
    expect(stress.locator(".dash-chart.is-live canvas")).to_have_count(1)
    assert len([u for u in uplot if u.endswith(".js")]) == 1, uplot

    # Daily values: the table arrives when its disclosure opens (htmx), once.
    tables = _requests(sam, "values=")
    stress.locator(".dash-values summary").click()
    expect(stress.locator(".dash-values table")).to_be_visible()
    expect(stress.locator(".dash-values caption")).to_have_text("Stress, day by day, last 30 days")
    stress.locator(".dash-values summary").click()
    stress.locator(".dash-values summary").click()
    expect(stress.locator(".dash-values table")).to_have_count(1)
    assert tables == [site.url("/dashboard/?range=30&values=stress")], tables
    site.check(sam)

    site.goto(sam, "/dashboard/?range=90")
    expect(page.get_by_role("link", name="Last 90 days")).to_have_attribute("aria-current", "page")
    page.locator(".dash-explore summary").first.click()
    expect(page.locator(".dash-chart.is-live canvas")).to_have_count(1)


def test_explore_when_uplot_cannot_load(site: Browsing):
    """uPlot fails to arrive: the SVG stays, and the note says so in plain words."""
    people = _history()
    sam = site.person("Sam")
    sam.context.route("**/uplot-*", lambda route: route.abort())
    site.sign_in(sam, people.sam)
    page = site.goto(sam, "/dashboard/")
    page.locator(".dash-explore summary").first.click()
    expect(page.locator(".dash-explore-note").first).to_contain_text("could not be loaded")
    expect(page.locator(".dash-chart.is-live")).to_have_count(0)
    expect(page.locator(".chart-svg").first).to_be_visible()
    # The aborted requests are what this test is about; their console lines are expected.
    assert all("Failed to load resource" in p for p in sam.problems), sam.problems


def _without_scripts(who: Any) -> None:
    """Scripts that never arrive (a blocked or failed download): the page as without
    JavaScript, while axe, which needs JavaScript itself, can still run."""
    who.context.route("**/*.js", lambda route: route.fulfill(status=404, body=""))


def test_server_charts_without_javascript(site: Browsing):
    people = _history()
    # JavaScript off. (axe needs JavaScript, so it runs on the no-scripts page below.)
    alex = site.person("Alex", java_script_enabled=False)
    site.sign_in(alex, people.alex)
    page = site.goto(alex, "/dashboard/", shot="dashboard-e2e-alex-390-nojs", axe=False)
    expect(page.locator(".chart-svg")).to_have_count(6)
    expect(page.locator(".chart-svg").first).to_be_visible()
    box = page.locator(".chart-svg").first.bounding_box()
    assert box is not None and box["width"] > 250
    expect(page.locator(".chart-live").first).to_be_hidden()
    expect(page.locator(".heatmap-svg")).to_have_count(2)
    page.locator(".dash-explore summary").first.click()
    expect(page.locator(".dash-explore-note").first).to_contain_text("needs JavaScript")
    # Daily values: a link to the page with that table, open where it was.
    page.locator("#values-sleep summary").click()
    page.locator("#values-sleep").get_by_role("link", name="Show the daily values").click()
    page.wait_for_url("**/dashboard/?range=30&values=sleep#values-sleep")
    expect(page.locator("#values-sleep table")).to_be_visible()
    expect(page.locator("#values-sleep caption")).to_have_text(
        "Sleep quality, day by day, last 30 days"
    )
    expect(page.locator(".dash-metric table")).to_have_count(1)
    site.check(alex, axe=False)

    blocked = site.person("Alex, scripts blocked")
    _without_scripts(blocked)
    site.sign_in(blocked, people.alex)
    page = site.goto(blocked, "/dashboard/?range=30&values=sleep")
    expect(page.locator(".dash-chart.is-live")).to_have_count(0)
    expect(page.locator(".chart-svg").first).to_be_visible()
    expect(page.locator("#values-sleep table")).to_be_visible()


@pytest.mark.parametrize("js", [True, False])
def test_no_sideways_scrolling_at_320(site: Browsing, js: bool):
    people = _history()
    sam = site.person("Sam", viewport={"width": 320, "height": 640})
    if not js:
        _without_scripts(sam)
    site.sign_in(sam, people.sam)
    paths = ["/dashboard/", "/dashboard/?range=90"]
    if not js:  # a table without JavaScript comes with the page
        paths.append("/dashboard/?range=90&values=craving")
    for path in paths:
        site.goto(sam, path)
        # Everything open, one after another as a person would: with JavaScript, six
        # interactive charts and six fetched tables.
        sections = sam.page.locator("section.dash-metric")
        for i in range(sections.count()):
            section = sections.nth(i)
            for part in (".dash-explore", ".dash-values"):
                if section.locator(f"{part}[open]").count() == 0:
                    section.locator(f"{part} summary").click()
            if js:
                expect(section.locator("canvas")).to_have_count(1)
                expect(section.locator(".dash-values table")).to_have_count(1)
        sam.page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        expect(sam.page.locator(".dash-chart.is-live canvas")).to_have_count(6 if js else 0)
        tables = 6 + 2 if js else (1 if "values=" in path else 0) + 2
        expect(sam.page.locator(".dash-values table")).to_have_count(tables)
        fits, scroll, client = no_horizontal_scroll(sam.page)
        assert fits, f"{path} (js={js}): {scroll} > {client}"
        site.axe(sam)  # also with every table open


def test_empty_dashboard(site: Browsing):
    people = couple()
    sam = site.person("Sam")
    site.sign_in(sam, people.sam)
    page = site.goto(sam, "/dashboard/", shot="dashboard-e2e-empty-390")
    expect(page.get_by_text("Your charts will appear after your first check-in.")).to_be_visible()
    expect(page.get_by_role("link", name="Check in for today")).to_be_visible()
