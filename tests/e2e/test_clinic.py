"""The therapist workspace (SPEC C14): Dr. Lee on a laptop-sized phone, Alex and Sam on theirs,
all at 390 px.

Dr. Lee (two-factor set up) invites the couple; Alex links by the code. Each partner consents
for themselves, re-entering their password: Alex to journal entries and check-ins, Sam to
check-ins only. Each writes a journal entry for "My partner and our therapist" and checks in.
Dr. Lee's couple page then lists exactly Alex's journal entry and both check-ins — never Sam's
journal entry — and every page Dr. Lee sees carries the redisclosure notice. Dr. Lee assigns a
journal-prompt homework; Alex sees it and marks it done. Alex withdraws his consent in one
tap: on Dr. Lee's very next request his items are gone and his entry's page is a 404.

Every page is checked by `Browsing.check` (axe-core WCAG 2.2 AA, no third-party request, no
CSP or script error, nothing anyone wrote in the title) and must not scroll sideways.
Screenshots: test-artifacts/screenshots/clinic-*.png.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Locator, Page, expect

from tests.personas import PASSWORD, make_user
from trellis.checkins.models import DailyCheckin
from trellis.couples.models import TherapistLink
from trellis.sharing.audiences import Audience

from .browsing import Browsing, Person, no_horizontal_scroll, visible_text, wide_elements
from .flows import couple, write_entry

pytestmark = pytest.mark.browser

ALEX_ENTRY = "Talked with Sam about the weekend and felt heard"
SAM_ENTRY = "I noticed I was holding my breath during dinner"
HOMEWORK = "Three good moments this week"
INSTRUCTIONS = "Each evening, write down one moment with Sam that felt good, however small."
DONE_NOTE = "Easier than I expected"
NOTICE = "may not be redisclosed"


# --- helpers ---------------------------------------------------------------------------------
def check(site: Browsing, who: Person, shot: str | None = None, notice: bool | None = None) -> None:
    """Everything `Browsing.check` asks, plus: nothing scrolls sideways at 390 px, and every
    page a therapist sees carries the redisclosure notice (R9) — but for the 404 page, which
    is the same for everyone."""
    if shot:
        who.page.evaluate("() => window.scrollTo(0, 0)")
    site.check(who, shot=f"clinic-{shot}" if shot else None)
    ok, scroll_width, client_width = no_horizontal_scroll(who.page)
    assert ok, (
        f"{who.page.url} scrolls sideways at {client_width} px: scrollWidth {scroll_width}; "
        f"sticking out: {wide_elements(who.page)}"
    )
    box = who.page.locator(".redisclosure")
    if who.name == "Dr. Lee" if notice is None else notice:
        expect(box).to_be_visible()
        expect(box).to_contain_text(NOTICE)
    else:
        expect(box).to_have_count(0)


def goto(site: Browsing, who: Person, path: str, shot: str | None = None) -> Page:
    response = who.page.goto(site.url(path))
    assert response is not None and response.status == 200, f"{path}: {response}"
    check(site, who, shot=shot)
    return who.page


def tap(site: Browsing, who: Person, target: Locator, shot: str | None = None) -> Page:
    """Tap a link or a form's button and wait for the page the server answers with."""
    with who.page.expect_navigation():
        target.tap()
    check(site, who, shot=shot)
    return who.page


def tap_refused(site: Browsing, who: Person, target: Locator) -> Page:
    """Tap a form's button whose answer is a 400 with the errors beside their fields (the
    browser logs that status as a console error: expected here, and only here)."""
    with who.page.expect_navigation() as nav:
        target.tap()
    response = nav.value
    assert response is not None and response.status == 400, response
    who.problems[:] = [p for p in who.problems if "status of 400" not in p]
    check(site, who)
    return who.page


def consent(site: Browsing, who: Person, kinds: list[str], shot: str | None = None) -> None:
    """From "Our therapist", choose what Dr. Lee may read, re-entering the password."""
    page = goto(site, who, "/clinic/therapists/")
    tap(site, who, page.get_by_role("link", name="Choose what to share"))
    expect(page.get_by_role("heading", level=1)).to_have_text("What Dr. Lee may read")
    for kind in kinds:
        page.get_by_label(kind, exact=True).check()
    page.get_by_label("What for").fill("Our couples therapy")
    page.get_by_label("Your password").fill(PASSWORD)
    if shot:
        check(site, who, shot=shot)
    tap(site, who, page.get_by_role("button", name="Save my consent"))
    expect(page.locator(".messages")).to_contain_text("can read only what you chose")
    card = page.locator(".therapist-link")
    for kind in kinds:
        expect(card.locator(".scopes")).to_contain_text(kind)


def checkin(person, days_ago: int = 0, safety: int = 4) -> str:
    """A check-in for "My partner and our therapist"; returns its page."""
    made = DailyCheckin.objects.create(
        author=person,
        couple_id=person.memberships.get(left_at__isnull=True).couple_id,
        audience=Audience.PARTNER_THERAPIST,
        local_date=timezone.localdate() - timedelta(days=days_ago),
        mood=4,
        stress=2,
        sleep=3,
        closeness=4,
        safety=safety,
    )
    return reverse("checkins:detail", args=[made.pk])


def timeline_links(page: Page) -> set[str]:
    return set(
        page.evaluate(
            "() => [...document.querySelectorAll('.timeline a')].map(a => a.getAttribute('href'))"
        )
    )


# --- the whole flow --------------------------------------------------------------------------
def test_therapist_sees_exactly_what_each_partner_consented_to_until_withdrawn(site: Browsing):
    people = couple()
    dr_lee = make_user("lee@example.test", "Dr. Lee", role="therapist")  # TOTP set up
    site.secrets.update({ALEX_ENTRY, SAM_ENTRY, DONE_NOTE})
    lee = site.person("Dr. Lee")
    alex = site.person("Alex")
    sam = site.person("Sam")
    site.sign_in(lee, dr_lee)
    site.sign_in(alex, people.alex)
    site.sign_in(sam, people.sam)

    # Dr. Lee makes an invitation: a link and a code, shown once.
    page = goto(site, lee, "/clinic/")
    expect(page.locator(".empty")).to_contain_text("No couple is linked with you yet")
    tap(site, lee, page.get_by_role("link", name="Invite a couple"))
    tap(site, lee, page.get_by_role("button", name="Make an invitation"))
    code = page.locator("#invite-code").inner_text().strip()
    assert re.fullmatch(r"[A-Z0-9]{8}", code), code

    # Alex links the couple space by the code: Dr. Lee sees nothing yet.
    page = goto(site, alex, "/clinic/therapists/")
    page.get_by_label("Your therapist's code").fill(code)
    tap(site, alex, page.get_by_role("button", name="Link"))
    expect(page.locator(".messages")).to_contain_text("You are linked with Dr. Lee")
    expect(page.locator(".therapist-link")).to_contain_text(
        "You haven't shared anything with Dr. Lee."
    )
    link = TherapistLink.objects.get(therapist=dr_lee, ended_at__isnull=True)

    # A wrong password is refused, beside the password field; nothing is shared.
    tap(site, alex, page.get_by_role("link", name="Choose what to share"))
    page.get_by_label("Journal entry", exact=True).check()
    page.get_by_label("What for").fill("Our couples therapy")
    page.get_by_label("Your password").fill("not my password")
    tap_refused(site, alex, page.get_by_role("button", name="Save my consent"))
    expect(page.locator(".has-error .error")).to_contain_text("That password doesn't match")
    expect(page.get_by_label("Your password")).to_have_value("")

    # Each partner consents for themselves: Alex to journal and check-ins, Sam to check-ins.
    consent(site, alex, ["Journal entry", "Daily check-in"], shot="consent")
    consent(site, sam, ["Daily check-in"])
    # Neither sees the other's choice.
    page = goto(site, alex, "/clinic/therapists/")
    expect(page.locator(".therapist-link")).to_contain_text("Sam makes their own choice")

    # Each writes a journal entry for "My partner and our therapist", and checks in.
    alex_entry = write_entry(site, alex, ALEX_ENTRY, "My partner and our therapist")
    sam_entry = write_entry(site, sam, SAM_ENTRY, "My partner and our therapist")
    alex_checkin = checkin(people.alex)
    # Sam felt less safe on the two days before: a warning sign Dr. Lee may see (check-ins).
    sam_checkins = {
        checkin(people.sam),
        checkin(people.sam, 1, safety=2),
        checkin(people.sam, 2, 1),
    }

    # Dr. Lee: the caseload, then the couple's page with exactly what was consented.
    page = goto(site, lee, "/clinic/", shot="caseload")
    case = page.locator(".case")
    expect(case).to_have_count(1)
    expect(case).to_contain_text("Alex & Sam")
    expect(case.locator(".flag")).to_have_text(["Low emotional safety — Sam"])
    expect(page.locator(".note-rules")).to_contain_text("not a diagnosis")
    tap(site, lee, case.get_by_role("link", name="Alex & Sam"), shot="couple")
    assert timeline_links(page) == {alex_entry, alex_checkin, *sam_checkins}
    assert sam_entry not in page.content()
    partners = page.locator(".partner")
    expect(partners.filter(has_text="Alex")).to_contain_text("Journal entry")
    expect(partners.filter(has_text="Sam")).not_to_contain_text("Journal entry")
    expect(partners.filter(has_text="Sam").locator(".flag")).to_have_text("Low emotional safety")
    assert SAM_ENTRY not in visible_text(page) and ALEX_ENTRY not in visible_text(page)

    # Opening Alex's entry reads it (and Alex can see that Dr. Lee did).
    tap(site, lee, page.locator(f".timeline a[href='{alex_entry}']"))
    expect(page.locator(".entry-full .body")).to_contain_text(ALEX_ENTRY)
    resp = page.goto(site.url(sam_entry))
    assert resp is not None and resp.status == 404
    check(site, lee, notice=False)

    # Dr. Lee assigns a journal-prompt homework to both.
    page = goto(site, lee, f"/clinic/couples/{link.pk}/homework/new/")
    page.get_by_label("Kind", exact=True).select_option("journal_prompt")
    expect(page.get_by_label("Meeting prompts")).to_be_hidden()
    page.get_by_label("Journal prompt").select_option(index=1)
    page.get_by_label("Title", exact=True).fill(HOMEWORK)
    page.get_by_label("Instructions (optional)").fill(INSTRUCTIONS)
    check(site, lee, shot="homework-assign")
    tap(site, lee, page.get_by_role("button", name="Assign"))
    expect(page.locator(".messages")).to_contain_text("The homework was assigned.")
    homework = page.locator(".entry", has_text=HOMEWORK)
    expect(homework).to_contain_text("Alex: not shared as done")
    expect(homework).to_contain_text("Sam: not shared as done")

    # Alex sees it, with a way to write it, and marks it done for partner and therapist.
    page = goto(site, alex, "/clinic/homework/", shot="partner-homework")
    item = page.locator(".homework-item", has_text=HOMEWORK)
    expect(item).to_contain_text("From Dr. Lee")
    expect(item.get_by_role("link", name="Write it")).to_have_attribute(
        "href", re.compile(r"^/journal/new/\?prompt=")
    )
    tap(site, alex, item.get_by_role("link", name="Mark as done"))
    expect(page.locator(".homework-full")).to_contain_text(INSTRUCTIONS)
    expect(page.get_by_label("My partner and our therapist")).to_be_checked()
    page.get_by_label("A note (optional)").fill(DONE_NOTE)
    check(site, alex, shot="partner-homework-done")
    tap(site, alex, page.get_by_role("button", name="Mark as done"))
    expect(page.locator(".entry-full")).to_contain_text(DONE_NOTE)

    # Alex's consent does not cover homework, so Dr. Lee does not see it as done.
    page = goto(site, lee, f"/clinic/couples/{link.pk}/")
    expect(page.locator(".entry", has_text=HOMEWORK)).to_contain_text("Alex: not shared as done")

    # Alex withdraws his consent: one tap, no reason asked.
    page = goto(site, alex, "/clinic/therapists/")
    tap(site, alex, page.get_by_role("button", name="Withdraw my consent"))
    expect(page.locator(".messages")).to_contain_text("Your consent is withdrawn.")
    expect(page.locator(".therapist-link")).to_contain_text(
        "You haven't shared anything with Dr. Lee."
    )

    # Dr. Lee's very next request: Alex's items are gone; Sam's check-in stays.
    page = goto(site, lee, f"/clinic/couples/{link.pk}/")
    assert timeline_links(page) == sam_checkins
    expect(page.locator(".partner").filter(has_text="Alex")).to_contain_text(
        "Alex hasn't shared anything with you."
    )
    for gone in (alex_entry, alex_checkin):
        resp = page.goto(site.url(gone))
        assert resp is not None and resp.status == 404, gone
        check(site, lee, notice=False)
    assert site.pages_checked >= 20
