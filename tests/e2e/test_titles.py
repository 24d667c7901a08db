"""U3: what people write never reaches a page title (tab strips, history, screen sharing).

`Browsing.check` asserts this on every page of every browser test; here every page that shows an
entry — to its author and to the partner — is visited on purpose, with a title and a body.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .browsing import Browsing
from .flows import couple, entry_for

pytestmark = pytest.mark.browser


def test_no_page_title_contains_entry_text(site: Browsing, unique):
    people = couple()
    title = unique("Our talk about the relapse")
    body = unique("I was scared to say this out loud")
    path = entry_for(site, people.alex, body, audience="partner", title=title)
    search = body.split()[0]
    alex = site.person("Alex")
    sam = site.person("Sam")
    site.sign_in(alex, people.alex)
    site.sign_in(sam, people.sam)

    titles = []
    for who, pages in (
        (
            alex,
            [
                "/",
                "/journal/",
                path,
                path + "edit/",
                path + "audience/",
                path + "seen/",
                path + "delete/",
                f"/journal/search/?q={search}",
                "/sharing/activity/",
            ],
        ),
        (sam, ["/", "/journal/?show=shared", path, f"/journal/search/?q={search}"]),
    ):
        for page_path in pages:
            site.goto(who, page_path)  # asserts no secret in the title
            titles.append(who.page.title())
    # The pages did show the text, so the check above was not vacuous.
    site.goto(sam, path)
    expect(sam.page.get_by_role("heading", level=1)).to_have_text(title)
    expect(sam.page.locator(".entry-full .body")).to_contain_text(body)
    for shown in titles:
        assert title not in shown and body not in shown, shown
    assert "Journal entry · Trellis" in titles
