"""U2: keyboard only. A journal entry is written, shared and re-scoped with Tab, arrows, Space
and Enter; every stop shows a visible focus indicator that the sticky bar does not hide."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .browsing import ENTRY_URL, Browsing, assert_focus_visible, focused, tab_until
from .flows import couple, entry_for

pytestmark = pytest.mark.browser


def test_write_and_share_an_entry_with_the_keyboard_only(site: Browsing, unique):
    people = couple()
    body = unique("Typed without a mouse: today felt steadier than yesterday")
    site.secrets.add(body)
    alex = site.person("Alex")
    site.sign_in(alex, people.alex)
    page = alex.page
    site.goto(alex, "/journal/new/")

    # The skip link is the first stop, appears when focused, and moves focus to the content.
    page.keyboard.press("Tab")
    skip = focused(page)
    assert skip is not None and skip["name"] == "Skip to content", skip
    assert_focus_visible(skip)
    assert skip["left"] >= 0 and skip["right"] <= skip["viewWidth"], "skip link off screen"
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"

    # From the content on: the entry text, then the audience, then Save.
    tab_until(page, lambda f: f["tag"] == "textarea")
    page.keyboard.type(body)
    tab_until(page, lambda f: f["type"] == "radio")
    assert (
        focused(page)["name"] == "me" or page.evaluate("() => document.activeElement.value") == "me"
    )
    page.keyboard.press("ArrowDown")  # arrows move within a radio group; Space would keep "Only me"
    expect(page.get_by_role("radio", name="My partner", exact=True)).to_be_checked()
    expect(page.locator('.aud-help[data-aud="partner"]')).to_be_visible()
    tab_until(page, lambda f: f["tag"] == "button" and f["name"] == "Save entry")
    page.keyboard.press("Enter")
    page.wait_for_url(ENTRY_URL)
    site.check(alex)
    expect(page.locator(".entry-full .body")).to_contain_text(body)
    expect(page.locator("#audience-box .badge")).to_contain_text("My partner")

    # Back to "Only me" on the entry page: Tab to the checked radio, arrow up, Space on Save.
    tab_until(page, lambda f: f["type"] == "radio")
    page.keyboard.press("ArrowUp")
    expect(page.get_by_role("radio", name="Only me", exact=True)).to_be_checked()
    tab_until(page, lambda f: f["name"] == "Save who can see this")
    page.keyboard.press("Space")
    expect(page.locator("#audience-box [role=status]")).to_contain_text("Updated")
    expect(page.locator("#audience-box .badge")).to_contain_text("Only me")
    site.check(alex)
    # Focus is not lost to the top of the page after the swap: the next Tab stays in the content.
    page.keyboard.press("Tab")
    after = focused(page)
    assert after is not None and not after["inHeader"], after
    assert_focus_visible(after)


def test_focus_is_visible_on_links_buttons_and_fields(site: Browsing, unique):
    people = couple()
    alex = site.person("Alex")
    site.sign_in(alex, people.alex)
    for n in range(8):
        entry_for(site, people.alex, unique(f"Entry number {n} about a calmer week"), "partner")
    page = alex.page
    site.goto(alex, "/journal/")
    assert page.evaluate("() => document.documentElement.scrollHeight > 2.5 * innerHeight")
    kinds = set()
    # Walk the whole (long) journal page: every stop must show focus (tab_until asserts it).
    for _ in range(80):
        tab_until(page, lambda f: True, limit=1)
        info = focused(page)
        assert info is not None
        kinds.add(info["tag"])
        if info["name"] == "Privacy and safety":
            break
    assert {"a", "button"} <= kinds, kinds
    # And back up with Shift+Tab: scrolling up is where a sticky bar hides focus (WCAG 2.4.11).
    for _ in range(80):
        page.keyboard.press("Shift+Tab")
        info = focused(page)
        assert_focus_visible(info)
        assert info is not None
        if info["inHeader"]:
            break
    else:
        raise AssertionError("Shift+Tab never reached the safety bar")
    # An explicit look at a link and a button's computed outline.
    for locator in (
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Journal"),
        page.get_by_role("button", name="Sign out"),
    ):
        locator.focus()
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Tab")
        style = page.evaluate(
            "() => [getComputedStyle(document.activeElement).outlineStyle, getComputedStyle(document.activeElement).outlineWidth]"
        )
        assert style[0] != "none" and float(style[1].rstrip("px")) >= 2, style
