"""Steps people take, shared by the browser tests (they read like the product)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.urls import reverse
from playwright.sync_api import expect

from tests.personas import PASSWORD, make_couple, make_user
from trellis.journal.services import journal_entry_create

from .browsing import ENTRY_URL, Browsing, Person


def fill_signup(
    site: Browsing, who: Person, email: str, name: str, shot: str | None = None
) -> None:
    """Fill and send the real sign-up form (the page must already be open)."""
    page = who.page
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign Up")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Name to show").fill(name)
    # allauth's labels end in a colon: "Password:" and "Password (again):".
    page.get_by_label(re.compile(r"^Password:?$")).fill(PASSWORD)
    page.get_by_label(re.compile(r"^Password \(again\):?$")).fill(PASSWORD)
    if shot:
        site.screenshot(who, shot)
    page.get_by_role("button", name="Sign Up").click()
    page.wait_for_load_state("load")


def sign_up(site: Browsing, who: Person, email: str, name: str, shot: str | None = None) -> None:
    site.goto(who, "/accounts/signup/")
    fill_signup(site, who, email, name, shot=shot)
    expect(who.page.get_by_role("heading", level=1)).to_have_text(f"Hello, {name}")
    site.check(who)


def write_entry(site: Browsing, who: Person, body: str, audience: str, **kw: Any) -> str:
    """Write a journal entry through /journal/new/; returns the entry's path."""
    site.secrets.add(body)
    page = who.page
    site.goto(who, "/journal/new/", **kw)
    page.get_by_label("Your entry").fill(body)
    page.get_by_label(audience, exact=True).check()
    page.get_by_role("button", name="Save entry").click()
    page.wait_for_url(ENTRY_URL)
    expect(page.locator(".entry-full .body")).to_contain_text(body)
    return page.url.removeprefix(site.origin).split("#")[0]


@dataclass
class Couple:
    """Alex and Sam, already sharing a couple space (made on the server, not in the browser)."""

    alex: Any
    sam: Any


def couple() -> Couple:
    alex = make_user("alex@example.test", "Alex")
    sam = make_user("sam@example.test", "Sam")
    make_couple(alex, sam)
    return Couple(alex, sam)


def entry_for(site: Browsing, author: Any, body: str, audience: str = "me", title: str = "") -> str:
    """An entry written on the server; returns its path. Its text joins the title secrets."""
    site.secrets.add(body)
    if title:
        site.secrets.add(title)
    entry, _ = journal_entry_create(author=author, body=body, audience=audience, title=title)
    return reverse("journal:detail", args=[entry.pk])
