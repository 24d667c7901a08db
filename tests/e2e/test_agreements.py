"""The couple's agreement (SPEC C5), both partners on 390 px phones.

Alex proposes a clause from a suggestion, edited into his own words; Sam answers with her own
wording; Alex accepts it (version 1). Then Alex proposes a change and Sam accepts it (version 2).
They compare the two versions word by word, and print the agreement. Until a proposal is
accepted, the agreement shows no clause in force.

Every page either of them reaches is checked by `Browsing.check` (axe-core WCAG 2.2 AA, no
third-party request, no CSP or script error, nothing anyone wrote in the title) and must not
scroll sideways at 390 px. Screenshots: test-artifacts/screenshots/agreements-*.png.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from .browsing import Browsing, Person, no_horizontal_scroll, wide_elements
from .flows import couple

pytestmark = pytest.mark.browser

AGREEMENT_URL = re.compile(r"/agreements/[0-9a-f-]{36}/(\?[^#]*)?(#main)?$")
PROPOSAL_URL = re.compile(r"/agreements/proposals/[0-9a-f-]{36}/(#main)?$")

SUGGESTION = "I go to my recovery meetings each week, and I tell you if I have to miss one."
ALEX_WORDING = (
    "I go to my recovery meetings each week, and I tell you before the weekend if I have to "
    "miss one."
)
ALEX_WHY = "Knowing my week helps you feel less in the dark."
SAM_WORDING = (
    "I go to my recovery meetings each week, and I tell you the same day if I have to miss one."
)
SAM_WHY = "Hearing it the same day means I am not left wondering."
CHANGED_WORDING = (
    "I go to my recovery meetings twice a week, and I tell you the same day if I have to miss one."
)
CHANGE_REASON = "My sponsor suggested a second meeting."


# --- helpers ---------------------------------------------------------------------------------
def check(site: Browsing, who: Person, shot: str | None = None) -> None:
    """Everything `Browsing.check` asks, plus: nothing scrolls sideways at 390 px."""
    if shot:
        who.page.evaluate("() => window.scrollTo(0, 0)")
    site.check(who, shot=f"agreements-{shot}" if shot else None)
    ok, scroll_width, client_width = no_horizontal_scroll(who.page)
    assert ok, (
        f"{who.page.url} scrolls sideways at {client_width} px: scrollWidth {scroll_width}; "
        f"sticking out: {wide_elements(who.page)}"
    )


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


def path_of(site: Browsing, page: Page) -> str:
    return page.url.removeprefix(site.origin).split("#")[0]


def no_clause_in_force(page: Page) -> None:
    expect(page.locator(".doc-version")).to_have_text("Nothing agreed yet")
    expect(page.locator("li.clause")).to_have_count(0)
    expect(page.locator(".doc-section .clause-text")).to_have_count(0)
    expect(page.locator(".doc-section").filter(has_text=ALEX_WORDING)).to_have_count(0)
    expect(page.locator(".doc-section").filter(has_text=SAM_WORDING)).to_have_count(0)


def section(page: Page, title: str) -> Locator:
    return page.locator("section.doc-section", has=page.get_by_role("heading", name=title))


# --- the whole flow --------------------------------------------------------------------------
def test_propose_counter_accept_change_compare_and_print(site: Browsing):
    people = couple()
    alex = site.person("Alex")
    sam = site.person("Sam")
    site.sign_in(alex, people.alex)
    site.sign_in(sam, people.sam)
    site.secrets.update(
        {ALEX_WORDING, ALEX_WHY, SAM_WORDING, SAM_WHY, CHANGED_WORDING, CHANGE_REASON}
    )

    # Alex opens the agreement from the menu: nothing is agreed yet.
    page = goto(site, alex, "/")
    tap(
        site,
        alex,
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Agreement"),
    )
    expect(page).to_have_url(AGREEMENT_URL)
    agreement_path = path_of(site, page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Our agreement")
    expect(page.locator("main")).to_contain_text(
        "Nothing becomes part of your agreement until you both accept it."
    )
    no_clause_in_force(page)
    recovery = section(page, "Recovery commitments")
    recovery.get_by_text("Start from a suggestion").tap()
    expect(recovery.get_by_role("link", name=SUGGESTION)).to_be_visible()
    check(site, alex, shot="01-empty")

    # He starts from a suggestion and edits it into his own words.
    tap(site, alex, recovery.get_by_role("link", name=SUGGESTION))
    expect(page.get_by_role("heading", level=1)).to_have_text("Propose a new clause")
    expect(page.get_by_label("Section")).to_have_value("recovery")
    text = page.get_by_label("The clause, as you would like it to read")
    expect(text).to_have_value(SUGGESTION)
    text.fill(ALEX_WORDING)
    page.get_by_label("Why this matters to me (optional)").fill(ALEX_WHY)
    expect(page.get_by_label("Look at it together again on")).not_to_have_value("")
    page.get_by_role("radio", name="My partner", exact=True).tap()
    check(site, alex, shot="02-propose")
    tap(site, alex, page.get_by_role("button", name="Send to Sam"))
    expect(page).to_have_url(PROPOSAL_URL)
    expect(page.get_by_role("status").first).to_have_text(
        "Sent to Sam. It becomes part of your agreement once they accept it."
    )
    expect(page.locator(".status-line")).to_have_text("Waiting for Sam")
    expect(page.locator("main")).to_contain_text(ALEX_WORDING)
    check(site, alex, shot="03-proposal-sent")

    # Before anyone accepts, the agreement still has no clause in force, for either of them.
    page = goto(site, alex, agreement_path)
    no_clause_in_force(page)
    waiting = page.locator("section", has=page.get_by_role("heading", name="Waiting for Sam"))
    expect(waiting).to_contain_text(ALEX_WORDING)
    check(site, alex, shot="03b-waiting-for-sam")

    # Sam finds it waiting for her answer and answers with her own wording.
    page = goto(site, sam, "/agreements/")
    expect(page).to_have_url(site.url(agreement_path))
    no_clause_in_force(page)
    for_sam = page.locator(
        "section", has=page.get_by_role("heading", name="Waiting for your answer")
    )
    expect(for_sam).to_contain_text(ALEX_WORDING)
    tap(site, sam, for_sam.get_by_role("link", name="Read and answer"))
    expect(page).to_have_url(PROPOSAL_URL)
    expect(page.locator(".status-line")).to_have_text("Waiting for your answer")
    expect(page.locator(".proposal-values")).to_contain_text(ALEX_WHY)
    expect(page.get_by_role("button", name="Accept")).to_be_visible()
    check(site, sam, shot="04-proposal-for-sam")
    tap(site, sam, page.get_by_role("link", name="Suggest different wording"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Suggest different wording")
    wording = page.get_by_label("Your wording")
    expect(wording).to_have_value(ALEX_WORDING)
    wording.fill(SAM_WORDING)
    page.get_by_label("The reason behind it (optional)").fill(SAM_WHY)
    check(site, sam, shot="05-counter")
    tap(site, sam, page.get_by_role("button", name="Send to Alex"))
    expect(page).to_have_url(PROPOSAL_URL)
    expect(page.get_by_role("status").first).to_contain_text("Sent to Alex.")
    expect(page.get_by_role("link", name="an earlier proposal")).to_be_visible()
    page = goto(site, sam, agreement_path)
    no_clause_in_force(page)

    # Alex reads Sam's counter-proposal and accepts it: version 1.
    page = goto(site, alex, agreement_path)
    no_clause_in_force(page)
    for_alex = page.locator(
        "section", has=page.get_by_role("heading", name="Waiting for your answer")
    )
    expect(for_alex).to_contain_text(SAM_WORDING)
    tap(site, alex, for_alex.get_by_role("link", name="Read and answer"))
    expect(page.locator("main")).to_contain_text(SAM_WORDING)
    tap(site, alex, page.get_by_role("button", name="Accept"))
    expect(page).to_have_url(AGREEMENT_URL)
    expect(page.get_by_role("status").first).to_have_text(
        "Accepted. Your agreement is now at version 1."
    )
    expect(page.locator(".doc-version")).to_contain_text("Version 1")
    clauses = page.locator("li.clause")
    expect(clauses).to_have_count(1)
    clause = clauses.first
    expect(clause.locator(".clause-text")).to_have_text(SAM_WORDING)
    expect(clause.locator(".why")).to_contain_text(SAM_WHY)
    expect(clause).to_contain_text("Proposed by Sam, accepted by you")
    expect(page.get_by_role("heading", name="Waiting for your answer")).to_have_count(0)
    check(site, alex, shot="06-version-1")

    # Alex proposes a change to the clause now in force.
    tap(site, alex, clause.get_by_role("link", name="Propose a change"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Propose a change")
    expect(page.locator("section.current")).to_contain_text(SAM_WORDING)
    text = page.get_by_label("The clause, as you would like it to read")
    expect(text).to_have_value(SAM_WORDING)
    text.fill(CHANGED_WORDING)
    page.get_by_label("Why change it (optional)").fill(CHANGE_REASON)
    check(site, alex, shot="07-propose-change")
    tap(site, alex, page.get_by_role("button", name="Send to Sam"))
    expect(page).to_have_url(PROPOSAL_URL)
    # Version 1 stays in force until Sam accepts.
    page = goto(site, alex, agreement_path)
    expect(page.locator("li.clause .clause-text")).to_have_text(SAM_WORDING)

    # Sam sees exactly what would change, and accepts: version 2.
    page = goto(site, sam, agreement_path)
    for_sam = page.locator(
        "section", has=page.get_by_role("heading", name="Waiting for your answer")
    )
    tap(site, sam, for_sam.get_by_role("link", name="Read and answer"))
    expect(page.get_by_role("heading", level=1)).to_have_text("A change to a clause")
    expect(page.locator("del").first).to_contain_text("each")
    expect(page.locator("ins").first).to_contain_text("twice")
    expect(page.locator(".proposal-values")).to_contain_text(CHANGE_REASON)
    check(site, sam, shot="08-change-for-sam")
    tap(site, sam, page.get_by_role("button", name="Accept"))
    expect(page.get_by_role("status").first).to_have_text(
        "Accepted. Your agreement is now at version 2."
    )
    expect(page.locator("li.clause .clause-text")).to_have_text(CHANGED_WORDING)
    expect(page.locator("li.clause").first).to_contain_text("Proposed by Alex, accepted by you")
    check(site, sam, shot="09-version-2")

    # Compare versions: 1 and 2 by default, word by word.
    tap(site, sam, page.get_by_role("link", name="Compare versions"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Compare versions")
    expect(page.get_by_label("Earlier version")).to_have_value("1")
    expect(page.get_by_label("Later version")).to_have_value("2")
    row = page.locator(".diff-row").first
    expect(row.locator(".diff-op")).to_have_text("Reworded")
    expect(row.locator(".diff-old del")).to_have_count(1)
    expect(row.locator(".diff-old del")).to_contain_text("each")
    expect(row.locator(".diff-new ins")).to_contain_text("twice")
    expect(row.locator(".diff-new ins")).not_to_contain_text("each")
    # Not colour alone: each change is named for screen readers too.
    expect(row.locator(".diff-old del .sr-only")).to_have_text("removed:")
    expect(row.locator(".diff-new ins .sr-only")).to_have_text("added:")
    expect(row.locator(".diff-new")).to_contain_text("the same day")
    check(site, sam, shot="10-compare")
    # Side by side on a wide screen (stacked on the phone above).
    page.set_viewport_size({"width": 1024, "height": 768})
    old_box, new_box = (
        row.locator(".diff-old").bounding_box(),
        row.locator(".diff-new").bounding_box(),
    )
    assert old_box and new_box and new_box["x"] > old_box["x"] + old_box["width"] - 1
    site.screenshot(sam, "agreements-10b-compare-wide")
    page.set_viewport_size({"width": 390, "height": 844})
    old_box, new_box = (
        row.locator(".diff-old").bounding_box(),
        row.locator(".diff-new").bounding_box(),
    )
    assert old_box and new_box and new_box["y"] >= old_box["y"] + old_box["height"] - 1
    # From the very start to version 2: the clause is new.
    page.get_by_label("Earlier version").select_option("0")
    tap(site, sam, page.get_by_role("button", name="Compare"))
    expect(page.locator(".diff-row .diff-op")).to_have_text("New in version 2")
    # A version that does not exist: a clear message, not an error page.
    response = page.goto(site.url(agreement_path + "compare/?a=7&b=x"))
    assert response is not None and response.status == 400
    # Chromium logs the page's own 400 status as a failed load; that one is expected.
    sam.problems[:] = [p for p in sam.problems if "status of 400" not in p]
    check(site, sam)
    expect(page.get_by_role("alert")).to_contain_text("There is no version")

    # History: both versions, the three proposals and what became of each.
    page = goto(site, alex, agreement_path + "history/", shot="11-history")
    expect(page.locator(".version-item")).to_have_count(2)
    proposals = page.locator(".proposal-item")
    expect(proposals).to_have_count(3)
    expect(proposals.filter(has_text="Answered with a counter-proposal")).to_have_count(1)
    expect(proposals.filter(has_text="Accepted by")).to_have_count(2)
    # An earlier version is clearly labelled as such.
    tap(site, alex, page.get_by_role("link", name="Read version 1"))
    expect(page.locator(".earlier")).to_contain_text("This is an earlier version")
    expect(page.locator("li.clause .clause-text")).to_have_text(SAM_WORDING)
    expect(page.get_by_role("link", name="Propose a change")).to_have_count(0)

    # A review, called by either of them at any time: Alex keeps the clause.
    page = goto(site, alex, agreement_path + "review/")
    tap(site, alex, page.get_by_role("button", name="Start a review"))
    expect(page.get_by_role("status").first).to_contain_text("Review started.")
    tap(site, alex, page.get_by_role("button", name="This still works for me"))
    expect(page.locator(".kept")).to_have_text("You have kept this clause. Waiting for Sam.")
    expect(page.get_by_role("button", name="This still works for me")).to_have_count(0)
    check(site, alex, shot="14-review")
    page = goto(site, sam, agreement_path)
    expect(page.locator(".review-banner")).to_contain_text("A review is open.")

    # The print view: the document, its version and who agreed it; no menu on paper.
    page = goto(site, alex, agreement_path)
    tap(site, alex, page.get_by_role("link", name="Print", exact=True))
    expect(page.get_by_role("heading", level=1)).to_have_text("Our agreement")
    expect(page.get_by_role("button", name="Print")).to_be_visible()
    doc = page.locator(".print-doc")
    expect(doc.get_by_role("heading", name="Recovery commitments")).to_be_visible()
    expect(doc).to_contain_text(CHANGED_WORDING)
    expect(doc).to_contain_text(SAM_WHY)
    expect(doc).to_contain_text("Proposed by Alex, accepted by Sam")
    expect(doc.locator(".print-foot")).to_contain_text(
        "Agreed by both of you in Trellis · version 2 ·"
    )
    check(site, alex, shot="12-print-screen")
    page.emulate_media(media="print")
    for hidden in ("header.top", "nav.nav", "#quick-exit", "footer.foot", "#print-button"):
        expect(page.locator(hidden)).to_be_hidden()
    expect(doc).to_be_visible()
    family = page.evaluate(
        "() => getComputedStyle(document.querySelector('.print-doc')).fontFamily"
    )
    assert "serif" in family.lower(), family
    site.screenshot(alex, "agreements-13-print-paper")
    page.emulate_media(media="screen")
    expect(page.locator("nav.nav")).to_be_visible()
