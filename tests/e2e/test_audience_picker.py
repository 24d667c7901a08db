"""The audience picker on an entry's page: an htmx fragment swapped in place (no page load),
and what it says is what the partner can then open."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .browsing import Browsing, visible_text
from .flows import couple, entry_for

pytestmark = pytest.mark.browser


def choose_audience(site: Browsing, who, label: str) -> None:
    page = who.page
    before = page.url
    page.evaluate("() => { window.__samePage = true; }")  # gone if the page reloads
    with page.expect_response(lambda r: r.url.endswith("/audience/")) as answer:
        page.get_by_role("radio", name=label, exact=True).check()
        page.get_by_role("button", name="Save who can see this").click()
    response = answer.value
    assert response.request.headers.get("hx-request") == "true", "not sent by htmx"
    assert response.status == 200
    box = page.locator("#audience-box")
    expect(box.get_by_role("status")).to_contain_text("Updated")
    expect(box.locator(".badge")).to_contain_text(f"Visible to: {label}")
    expect(page.get_by_role("radio", name=label, exact=True)).to_be_checked()
    assert page.url == before, "the URL changed: a full page load, not a swap"
    assert page.evaluate("() => window.__samePage === true"), "the page was reloaded"
    # Exactly one picker: the fragment replaced the box's content, it did not nest a copy.
    expect(page.locator("#audience-box")).to_have_count(1)
    expect(page.locator("#audience-box form")).to_have_count(1)
    site.check(who)


def test_changing_who_can_see_an_entry_in_place(site: Browsing, unique):
    people = couple()
    body = unique("Something I was not ready to share at first")
    path = entry_for(site, people.alex, body, audience="me")
    alex = site.person("Alex")
    sam = site.person("Sam")
    site.sign_in(alex, people.alex)
    site.sign_in(sam, people.sam)

    site.goto(sam, path, status=404)
    assert body not in visible_text(sam.page)

    site.goto(alex, path)
    expect(alex.page.locator("#audience-box .badge")).to_contain_text("Only me")
    choose_audience(site, alex, "My partner")
    site.screenshot(alex, "audience-picker-swapped")

    site.goto(sam, path)
    expect(sam.page.locator(".entry-full .body")).to_contain_text(body)
    site.goto(sam, "/journal/?show=shared")
    expect(sam.page.locator(".entry", has_text=body)).to_have_count(1)

    # The swapped-in form works again (htmx processed the new content), back to "Only me".
    choose_audience(site, alex, "Only me")
    site.goto(sam, path, status=404)
    assert body not in visible_text(sam.page)
    site.goto(sam, "/journal/?show=shared")
    expect(sam.page.locator(".entry", has_text=body)).to_have_count(0)

    # The author's page, reloaded, agrees with what was swapped in.
    site.goto(alex, path)
    expect(alex.page.locator("#audience-box .badge")).to_contain_text("Only me")
    expect(alex.page.get_by_role("radio", name="Only me", exact=True)).to_be_checked()
