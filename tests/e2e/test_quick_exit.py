"""U3 / security.md R56: quick exit and crisis help, on every page, by mouse and keyboard.

The neutral site is answered by a local stub (the network is closed); any other request that
leaves the live server is a third-party request and fails the test.
"""

from __future__ import annotations

import time

import pytest
from django.conf import settings
from playwright.sync_api import expect

from .browsing import Browsing, focused, visible_text
from .flows import couple, entry_for

pytestmark = pytest.mark.browser

EXIT = settings.QUICK_EXIT_URL
# A long entry: the page must scroll well past several screens.
PARAGRAPHS = 40


def long_body(first_line: str) -> str:
    return "\n\n".join(
        [first_line]
        + [f"Paragraph {i}: we talked, we listened, we tried again." for i in range(PARAGRAPHS)]
    )


def assert_left_without_a_trace(site: Browsing, who, entry_url: str, body: str) -> None:
    """On the neutral site; Back does not bring the entry back (location.replace)."""
    page = who.page
    # wait_for_url returns at once when the address already matches, before the page has
    # loaded (Chromium's title is then "Loading …"): wait for the neutral page itself.
    page.wait_for_url(EXIT)
    page.wait_for_load_state("load")
    assert EXIT in who.exits
    expect(page).to_have_title("Wikipedia")
    assert body.splitlines()[0] not in visible_text(page)
    page.go_back()
    page.wait_for_load_state("load")
    assert page.url != entry_url, "Back returned to the entry: the exit used a normal navigation"
    assert body.splitlines()[0] not in visible_text(page)
    assert body.splitlines()[0] not in page.content()


def test_quick_exit_by_click_and_by_escape_leaves_no_way_back(site: Browsing, unique):
    people = couple()
    first_line = unique("The thing I have not told anyone yet")
    body = long_body(first_line)
    path = entry_for(site, people.alex, body, audience="me")
    alex = site.person("Alex")
    site.sign_in(alex, people.alex)
    page = alex.page
    entry_url = site.url(path)

    # The entry page is never cached: Back after an exit cannot show it from the cache either.
    site.goto(alex, "/")
    response = page.goto(entry_url)
    assert response is not None and "no-store" in response.headers["cache-control"]
    site.check(alex)
    expect(page.locator(".entry-full .body")).to_contain_text(first_line)

    # 1. A tap on "Quick exit".
    started = time.perf_counter()
    page.get_by_role("link", name="Quick exit").click()
    assert_left_without_a_trace(site, alex, entry_url, body)
    print(
        f"\nquick exit by click: {(time.perf_counter() - started) * 1000:.0f} ms to the neutral site"
    )

    # 2. The content is hidden and the title blanked in the same moment the exit starts.
    site.goto(alex, "/")
    site.goto(alex, path)
    hidden = page.evaluate(
        """() => {
            document.getElementById('quick-exit').click();
            return [getComputedStyle(document.body).visibility, document.title];
        }"""
    )
    assert hidden == ["hidden", ""], hidden
    assert_left_without_a_trace(site, alex, entry_url, body)

    # 3. Escape pressed once does nothing (it closes things); twice within a second leaves.
    site.goto(alex, "/")
    site.goto(alex, path)
    page.keyboard.press("Escape")
    page.wait_for_timeout(1100)
    page.keyboard.press("Escape")
    page.wait_for_timeout(300)
    assert page.url == entry_url, "two Escapes more than a second apart must not leave"
    started = time.perf_counter()
    page.keyboard.press("Escape")
    page.keyboard.press("Escape")
    assert_left_without_a_trace(site, alex, entry_url, body)
    print(f"quick exit by Esc Esc: {(time.perf_counter() - started) * 1000:.0f} ms")

    # 4. The same on the 404 page, which is rendered without the request.
    site.goto(alex, "/journal/00000000-0000-0000-0000-000000000000/", status=404)
    page.get_by_role("link", name="Quick exit").click()
    page.wait_for_url(EXIT)


def test_quick_exit_is_early_in_tab_order_and_always_on_screen(site: Browsing, unique):
    people = couple()
    first_line = unique("A long evening of honest talk")
    path = entry_for(site, people.alex, long_body(first_line), audience="me")
    alex = site.person("Alex")
    site.sign_in(alex, people.alex)
    page = alex.page
    entry_url = site.url(path)
    site.goto(alex, path)

    # Tab 1 is the skip link; "Help now" and "Quick exit" come within the next three.
    page.keyboard.press("Tab")
    first = focused(page)
    assert first is not None and first["name"] == "Skip to content", first
    reached = []
    for _ in range(3):
        page.keyboard.press("Tab")
        info = focused(page)
        assert info is not None
        reached.append(info["name"])
        if info["id"] == "quick-exit":
            break
    assert "Help now" in reached and "Quick exit" in reached, reached

    # Enter on the focused control leaves too.
    page.keyboard.press("Enter")
    page.wait_for_url(EXIT)
    page.go_back()
    assert page.url != entry_url

    # Visible and on top (not covered by anything) at the top, the middle and the bottom.
    site.goto(alex, path)
    height = page.evaluate("() => document.documentElement.scrollHeight")
    viewport = page.viewport_size
    assert viewport is not None and height > 3 * viewport["height"], "the page is not long"
    for where in (
        "0",
        "document.documentElement.scrollHeight / 2",
        "document.documentElement.scrollHeight",
    ):
        state = page.evaluate(
            f"""() => {{
                window.scrollTo(0, {where});
                const out = [];
                for (const id of ['quick-exit']) {{
                    const el = document.getElementById(id), r = el.getBoundingClientRect();
                    const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
                    out.push({{
                        scrollY: window.scrollY,
                        inView: r.top >= 0 && r.bottom <= window.innerHeight && r.width > 0,
                        onTop: hit === el || el.contains(hit),
                    }});
                }}
                const help = document.querySelector('.help-now').getBoundingClientRect();
                out.push({{helpInView: help.top >= 0 && help.bottom <= window.innerHeight}});
                return out;
            }}"""
        )
        exit_state, help_state = state
        assert exit_state["inView"] and exit_state["onTop"], (where, exit_state)
        assert help_state["helpInView"], (where, help_state)
    assert exit_state["scrollY"] > 2 * viewport["height"], "did not scroll to the bottom"
    # What the phone shows at the bottom of a long entry: only the safety row stays on top.
    site.screenshot(alex, "quick-exit-scrolled-bottom", full_page=False)
    expect(page.locator("#quick-exit")).to_be_visible()


def test_help_now_is_one_tap_away_and_lists_crisis_resources(site: Browsing):
    people = couple()
    alex = site.person("Alex")
    guest = site.person("Guest")
    site.sign_in(alex, people.alex)

    for who, start in ((alex, "/journal/"), (guest, "/"), (guest, "/accounts/login/")):
        site.goto(who, start)
        who.page.get_by_role("link", name="Help now").click()
        who.page.wait_for_url(site.url("/help/"))
        site.check(who)
        expect(who.page.get_by_role("heading", level=1)).to_have_text("Help now")
        cards = who.page.locator(".resources > li")
        expect(cards).to_have_count(len(settings.CRISIS_RESOURCES))
        for resource in settings.CRISIS_RESOURCES:
            card = who.page.locator(".resources > li", has_text=resource["name"])
            expect(card).to_contain_text(resource["how"])
            if resource.get("tel"):
                expect(card.locator(f'a[href="tel:{resource["tel"]}"]')).to_be_visible()
