"""The dashboard in a real Chromium: uPlot upgrades the charts with JavaScript, the server SVGs
stand alone without it, nothing trips the CSP, axe finds nothing, nothing scrolls sideways at
320 px. Screenshots land in test-artifacts/screenshots/dashboard-e2e-*.png."""

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


def test_charts_upgrade_with_javascript(site: Browsing):
    people = _history()
    sam = site.person("Sam")
    site.sign_in(sam, people.sam)
    page = site.goto(sam, "/dashboard/", shot="dashboard-e2e-sam-390-js")
    # Five scales plus craving (Alex shares craving values): each one is now a uPlot chart.
    expect(page.locator(".dash-chart.is-live")).to_have_count(6)
    expect(page.locator(".chart-live canvas")).to_have_count(6)
    # The SVG stays for screen readers, visually hidden (1 px), named by its <title>.
    box = page.locator(".chart-svg").first.bounding_box()
    assert box is not None and box["width"] <= 1 and box["height"] <= 1
    expect(page.get_by_role("img", name="Mood, last 30 days")).to_have_count(1)
    site.goto(sam, "/dashboard/?range=90")
    expect(page.get_by_role("link", name="Last 90 days")).to_have_attribute("aria-current", "page")
    expect(page.locator(".dash-chart.is-live")).to_have_count(6)


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
    page.get_by_text("Daily values").first.click()
    expect(page.locator(".dash-values table").first).to_be_visible()

    blocked = site.person("Alex, scripts blocked")
    _without_scripts(blocked)
    site.sign_in(blocked, people.alex)
    page = site.goto(blocked, "/dashboard/")
    expect(page.locator(".dash-chart.is-live")).to_have_count(0)
    expect(page.locator(".chart-svg").first).to_be_visible()


@pytest.mark.parametrize("js", [True, False])
def test_no_sideways_scrolling_at_320(site: Browsing, js: bool):
    people = _history()
    sam = site.person("Sam", viewport={"width": 320, "height": 640})
    if not js:
        _without_scripts(sam)
    site.sign_in(sam, people.sam)
    for path in ("/dashboard/", "/dashboard/?range=90"):
        site.goto(sam, path)
        expect(sam.page.locator(".dash-chart.is-live")).to_have_count(6 if js else 0)
        sam.page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
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
