"""U2: reflow (WCAG 1.4.10). At 320 CSS px wide — a 640 px window at 200 % zoom, or 1280 px at
400 % — no page scrolls sideways, and axe still finds nothing.

Browser zoom itself cannot be set through Playwright; a 320 px viewport is what zoom produces
for layout (CSS pixels), which is how the WCAG reflow criterion is defined.
"""

from __future__ import annotations

import pytest

from .browsing import Browsing, no_horizontal_scroll, wide_elements
from .flows import couple, entry_for

pytestmark = pytest.mark.browser

NARROW = {"width": 320, "height": 640}

PUBLIC = [
    "/",
    "/accounts/signup/",
    "/accounts/login/",
    "/accounts/password/reset/",
    "/help/",
    "/help/privacy/",
]
SIGNED_IN = [
    "/",
    "/journal/",
    "/journal/?show=shared",
    "/journal/new/",
    "/journal/search/?q=week",
    "/couple/",
    "/sharing/",
    "/sharing/activity/",
    "/settings/",
    "/settings/tokens/",
    "/settings/export/",
    "/accounts/password/change/",
    "/accounts/email/",
    "/accounts/2fa/",
    "/accounts/sessions/",
]


# A few narrow pages are kept as screenshots too, to look at.
SHOTS = {"/sharing/": "narrow-320-sharing", "/journal/": "narrow-320-journal-list"}


def assert_reflows(site: Browsing, who, path: str, status: int = 200) -> None:
    site.goto(who, path, status=status, shot=SHOTS.get(path))
    ok, scroll_width, client_width = no_horizontal_scroll(who.page)
    assert ok, (
        f"{path} scrolls sideways at {client_width} px: scrollWidth {scroll_width}; "
        f"sticking out: {wide_elements(who.page)}"
    )


def test_every_page_reflows_at_320_css_px(site: Browsing, unique):
    people = couple()
    # Long unbroken words (a pasted link) and a long title are the usual culprits.
    long_word = "https://example.test/" + "unbroken" * 15
    title = unique("Title " + "Wordwithoutanyspaceswhatsoever" * 2)
    path = entry_for(
        site, people.alex, f"The week was long. {long_word} {unique('and then')}", "partner", title
    )
    entry_for(site, people.sam, unique("Sam wrote this for Alex"), "partner")

    guest = site.person("Guest", viewport=NARROW)
    for page_path in PUBLIC:
        assert_reflows(site, guest, page_path)
    assert_reflows(site, guest, "/no-such-page/", status=404)

    alex = site.person("Alex", viewport=NARROW)
    site.sign_in(alex, people.alex)
    for page_path in [
        *SIGNED_IN,
        path,
        path + "edit/",
        path + "audience/",
        path + "seen/",
        path + "delete/",
    ]:
        assert_reflows(site, alex, page_path)
    site.goto(alex, path, shot="narrow-320-journal-detail")
    # The invitation link is one long token; the couple-space page after leaving shows the form.
    sam = site.person("Sam", viewport=NARROW)
    site.sign_in(sam, people.sam)
    assert_reflows(site, sam, path)
    assert_reflows(site, sam, "/")
