"""Real-browser tests: Playwright for Python driving Debian's Chromium against `live_server`.

Everything a page is checked for lives in `Browsing.check`, called after every navigation:
no third-party request, no CSP violation or script error, no entry text in the title, and
axe-core with the WCAG 2.2 AA tags. Run with `uv run pytest tests/e2e -m browser`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import Browser, BrowserContext, Page, Route

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE = Path(__file__).parent / "vendor" / "axe-4.14.1.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
SCREENSHOTS = Path(settings.BASE_DIR) / "test-artifacts" / "screenshots"
PHONE = {"width": 390, "height": 844}
# An entry's page (a redirect keeps the "#main" of a skip link used before the form was sent).
ENTRY_URL = re.compile(r"/journal/[0-9a-f-]{36}/(#main)?$")

# What the quick exit lands on: the network is closed, so the neutral site is a local stub.
EXIT_STUB = (
    "<!doctype html><html lang='en'><head><title>Wikipedia</title></head>"
    "<body><h1>Wikipedia</h1><p>The free encyclopedia</p></body></html>"
)


@dataclass
class Person:
    """One person at one device: a browser context and its single tab."""

    name: str
    context: BrowserContext
    page: Page
    third_party: list[str] = field(default_factory=list)
    exits: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


class Browsing:
    """The live server, the people using it, and the checks every page must pass."""

    def __init__(self, browser: Browser, origin: str):
        self.browser = browser
        self.origin = origin.rstrip("/")
        self.people: list[Person] = []
        # Everything anyone has written in the test: none of it may ever reach a <title>.
        self.secrets: set[str] = set()
        self.pages_checked = 0
        self.axe_seconds = 0.0
        self._axe_source = AXE.read_text()

    # --- people and devices ------------------------------------------------------------------
    def person(self, name: str, viewport: dict[str, int] | None = None, **opts: Any) -> Person:
        vp = viewport or PHONE
        phone = vp["width"] <= 480
        context = self.browser.new_context(
            viewport=vp,
            device_scale_factor=2 if phone else 1,
            is_mobile=phone,
            has_touch=phone,
            locale="en-US",
            timezone_id="UTC",
            service_workers="block",
            **opts,
        )
        context.set_default_timeout(10_000)
        page = context.new_page()
        who = Person(name, context, page)

        def outside(url: str) -> bool:
            return not url.startswith(self.origin + "/") and url != self.origin

        def handle(route: Route) -> None:
            request = route.request
            if request.url.startswith(settings.QUICK_EXIT_URL) and request.is_navigation_request():
                # A deliberate, top-level navigation by the person: answered by a stub page.
                who.exits.append(request.url)
                route.fulfill(status=200, content_type="text/html; charset=utf-8", body=EXIT_STUB)
                return
            # Anything else leaving the origin is a third-party request: recorded, never sent.
            who.third_party.append(f"{request.resource_type} {request.url}")
            route.abort()

        context.route(outside, handle)

        def on_console(msg: Any) -> None:
            text = msg.text
            if msg.type == "error" or "Content Security Policy" in text:
                # 404 pages log "Failed to load resource" for their own status; that is expected.
                if "status of 404" in text:
                    return
                loc = msg.location
                where = f" at {loc.get('url', '')}:{loc.get('lineNumber', '')}" if loc else ""
                who.problems.append(f"console {msg.type}: {text}{where}")

        page.on("console", on_console)
        page.on("pageerror", lambda exc: who.problems.append(f"page error: {exc}"))
        self.people.append(who)
        return who

    def sign_in(self, who: Person, user: Any) -> None:
        """A session made on the server and handed to the browser (the sign-in form itself is
        exercised by the sign-up flow in test_u1_flow.py)."""
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        who.context.add_cookies(
            [{"name": cookie.key, "value": cookie.value, "url": self.origin + "/"}]
        )

    def url(self, path: str) -> str:
        return self.origin + path

    # --- the checks ---------------------------------------------------------------------------
    def goto(self, who: Person, path: str, shot: str | None = None, **kw: Any) -> Page:
        response = who.page.goto(self.url(path))
        assert response is not None
        expected = kw.pop("status", 200)
        assert response.status == expected, f"{path}: HTTP {response.status}, wanted {expected}"
        self.check(who, shot=shot, **kw)
        return who.page

    def check(self, who: Person, shot: str | None = None, axe: bool = True) -> None:
        page = who.page
        page.wait_for_load_state("load")
        where = page.url
        title = page.title()
        assert title.strip(), f"{where}: the page has no title"
        for secret in self.secrets:
            assert secret not in title, f"{where}: the title shows entry text: {title!r}"
        assert who.third_party == [], f"{where}: third-party requests: {who.third_party}"
        assert who.problems == [], f"{where}: console/CSP problems: {who.problems}"
        if axe:
            self.axe(who)
        if shot:
            self.screenshot(who, shot)
        self.pages_checked += 1

    def axe(self, who: Person, context: str = "document") -> None:
        """Run axe-core (WCAG 2.2 AA tags) and fail with every violation's id, target, help.

        Why page.evaluate and not add_script_tag or bypass_csp: the site's CSP is
        `script-src 'self'`, so add_script_tag's inline <script> is refused ("Executing inline
        script violates the following Content Security Policy directive"). A context
        with bypass_csp=True would switch the CSP off for the app under test as well, hiding any
        CSP violation of our own pages. page.evaluate runs through the DevTools protocol, which
        the page's CSP does not govern, so axe loads while the app keeps its real policy.
        """
        page = who.page
        started = time.perf_counter()
        if not page.evaluate("() => typeof window.axe === 'object'"):
            page.evaluate(self._axe_source + "\n;undefined")
        result = page.evaluate(
            """async ([context, tags]) => {
                const r = await window.axe.run(context === 'document' ? document : context, {
                    runOnly: {type: 'tag', values: tags},
                    resultTypes: ['violations'],
                });
                return r.violations.map(v => ({
                    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                    targets: v.nodes.map(n => n.target.join(' ') + ' :: ' + n.failureSummary),
                }));
            }""",
            [context, WCAG_TAGS],
        )
        self.axe_seconds += time.perf_counter() - started
        if result:
            lines = [f"axe found {len(result)} violation(s) on {page.url}:"]
            for v in result:
                lines.append(f"- {v['id']} ({v['impact']}): {v['help']} <{v['helpUrl']}>")
                lines.extend(f"    {t}" for t in v["targets"][:8])
            report = "\n".join(lines)
            print(report)
            pytest.fail(report)

    def screenshot(self, who: Person, name: str, full_page: bool = True) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        who.page.screenshot(path=str(path), full_page=full_page)
        return path

    def close(self) -> None:
        leaked = {who.name: who.third_party for who in self.people if who.third_party}
        for who in self.people:
            who.context.close()
        assert leaked == {}, f"third-party requests: {leaked}"


def visible_text(page: Page) -> str:
    return page.evaluate("() => document.body ? document.body.innerText : ''")


def no_horizontal_scroll(page: Page) -> tuple[bool, int, int]:
    sw, cw = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    return sw <= cw + 1, sw, cw


def wide_elements(page: Page) -> list[str]:
    """The elements sticking out past the right edge: what to fix when reflow fails."""
    return page.evaluate(
        """() => {
            const w = document.documentElement.clientWidth, out = [];
            for (const el of document.querySelectorAll('body *')) {
                const r = el.getBoundingClientRect();
                if (el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX === 'visible' && el.clientWidth > 0) {
                    out.push(el.tagName.toLowerCase() + '.' + (typeof el.className === 'string' ? el.className : '') + ' overflows its box: ' + el.scrollWidth + ' > ' + el.clientWidth);
                }
                if (r.right > w + 1 && r.width > 0) {
                    out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
                        (el.className && typeof el.className === 'string' ? '.' + el.className.split(' ').join('.') : '') +
                        ' right=' + Math.round(r.right));
                }
            }
            return out.slice(0, 15);
        }"""
    )


FOCUSED_JS = """() => {
    const el = document.activeElement;
    if (!el || el === document.body) return null;
    const cs = getComputedStyle(el), r = el.getBoundingClientRect();
    // A link wrapping over two lines has a gap in its box: probe its first line's middle.
    const first = el.getClientRects()[0] || r;
    const bar = document.querySelector('header.top');
    // What is drawn at the middle of the element's visible part: it, or something on top of it?
    const x = Math.min(Math.max(first.left + first.width / 2, 0), window.innerWidth - 1);
    const y = Math.min(Math.max(first.top + first.height / 2, 0), window.innerHeight - 1);
    const hit = document.elementFromPoint(x, y);
    const label = el.labels && el.labels.length ? el.labels[0].innerText : '';
    return {
        tag: el.tagName.toLowerCase(), id: el.id || '', type: el.type || '', value: el.value || '',
        name: (el.getAttribute('aria-label') || label || el.innerText || el.name || '').trim().slice(0, 60),
        outlineStyle: cs.outlineStyle, outlineWidth: parseFloat(cs.outlineWidth) || 0,
        boxShadow: cs.boxShadow,
        inHeader: !!(bar && bar.contains(el)),
        onTop: !!hit && (hit === el || el.contains(hit) || !!(el.labels && [...el.labels].some(l => l.contains(hit)))),
        covering: hit && !(hit === el || el.contains(hit)) ? hit.tagName.toLowerCase() + '.' + hit.className : '',
        top: r.top, bottom: r.bottom, left: r.left, right: r.right,
        viewHeight: window.innerHeight, viewWidth: window.innerWidth,
    };
}"""


def focused(page: Page) -> dict[str, Any] | None:
    """What has keyboard focus, with how its focus is drawn and where it sits on screen."""
    return page.evaluate(FOCUSED_JS)


def assert_focus_visible(info: dict[str, Any] | None) -> None:
    """A visible focus indicator (WCAG 2.4.7) that is not hidden behind the sticky bar (2.4.11)."""
    assert info is not None, "nothing has focus"
    drawn = (info["outlineStyle"] != "none" and info["outlineWidth"] >= 2) or (
        info["boxShadow"] not in ("", "none")
    )
    assert drawn, f"no visible focus indicator on {info}"
    assert info["bottom"] > 0 and info["top"] < info["viewHeight"], f"focus off screen: {info}"
    assert info["onTop"], f"focus hidden under {info['covering']}: {info}"


def tab_until(page: Page, wanted: Callable[[dict[str, Any]], bool], limit: int = 40) -> int:
    """Press Tab until `wanted(focused)`; every stop on the way must show its focus. Returns the
    number of presses."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        info = focused(page)
        assert_focus_visible(info)
        assert info is not None
        if wanted(info):
            return presses
    raise AssertionError(f"not reached within {limit} Tab presses")
