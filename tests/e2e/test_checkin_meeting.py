"""The daily check-in, the daily trust moment and a whole weekly meeting, both partners on 390 px
phones (QUALITY.md U1–U3).

Alex has a recovery track; Sam does not. Every page either of them reaches is checked by
`Browsing.check` (axe-core WCAG 2.2 AA, no third-party request, no CSP or script error, nothing
anyone wrote in the title) and must not scroll sideways at 390 px.
"""

from __future__ import annotations

import json
import re
import time
from datetime import date, timedelta

import pytest
from playwright.sync_api import Locator, Page, expect

from trellis.recovery.models import RecoveryTrack

from .browsing import Browsing, Person, no_horizontal_scroll, visible_text, wide_elements
from .flows import Couple, couple

pytestmark = pytest.mark.browser

CHECKIN_URL = re.compile(r"/checkins/[0-9a-f-]{36}/(#main)?$")
MEETING_URL = re.compile(r"/meetings/[0-9a-f-]{36}/(#main)?$")
# The check-in promises "about a minute"; in test time it should be well under that.
CHECKIN_SECONDS = 60


# --- helpers ---------------------------------------------------------------------------------
def alex_in_recovery() -> Couple:
    people = couple()
    RecoveryTrack.objects.create(
        author=people.alex,
        kind=RecoveryTrack.Kind.SUBSTANCE,
        what="alcohol",
        since=date.today() - timedelta(days=40),
    )
    return people


def check(site: Browsing, who: Person, shot: str | None = None) -> None:
    """Everything `Browsing.check` asks, plus: nothing scrolls sideways at 390 px."""
    site.check(who, shot=shot)
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


def shot(site: Browsing, who: Person, name: str) -> float:
    """A full-page screenshot taken from the top of the page (a page scrolled by taps would
    draw the sticky safety row in the middle of it); returns the seconds it took."""
    started = time.perf_counter()
    who.page.evaluate("() => window.scrollTo(0, 0)")
    site.screenshot(who, name)
    return time.perf_counter() - started


def send(site: Browsing, who: Person, button: Locator, shot: str | None = None) -> Page:
    """Tap a form's button and wait for the page the server answers with (often the same URL
    as before, so waiting for a URL alone would return too early)."""
    with who.page.expect_navigation():
        button.tap()
    check(site, who, shot=shot)
    return who.page


def tap_scale(page: Page, legend: str, value: int) -> None:
    """Tap one of the numbered buttons of a 1–5 scale (a radio inside its label)."""
    group = page.get_by_role("group", name=re.compile(rf"^{re.escape(legend)}\b"))
    group.locator("label.scale-opt", has_text=re.compile(rf"^\s*{value}\s*$")).tap()
    expect(group.get_by_role("radio", name=str(value), exact=True)).to_be_checked()


def fill_checkin(
    site: Browsing,
    who: Person,
    values: dict[str, int],
    halt: list[str],
    gratitude: str,
    note: str,
) -> None:
    page = who.page
    site.secrets.update({gratitude, note})
    for legend, value in values.items():
        tap_scale(page, legend, value)
    for word in halt:
        page.get_by_role("checkbox", name=word, exact=True).tap()
        expect(page.get_by_role("checkbox", name=word, exact=True)).to_be_checked()
    page.get_by_label("One thing you're grateful for").fill(gratitude)
    page.get_by_label("Anything else (optional)").fill(note)
    page.get_by_role("radio", name="My partner", exact=True).tap()
    expect(page.get_by_role("radio", name="My partner", exact=True)).to_be_checked()


SCALES = {"Mood": 4, "Stress": 2, "Sleep last night": 3, "Closeness": 4, "Emotional safety": 5}


# --- 1. the daily check-in ---------------------------------------------------------------------
def test_both_partners_check_in_and_sam_sees_what_alex_shared(site: Browsing, unique):
    people = alex_in_recovery()
    alex = site.person("Alex")
    sam = site.person("Sam")
    site.sign_in(alex, people.alex)
    site.sign_in(sam, people.sam)
    alex_grateful = unique("The walk by the river after dinner")
    alex_note = unique("Slept badly, but the morning was calm")
    sam_grateful = unique("Alex made coffee before I woke up")
    sam_note = unique("A long day at work")
    timings: dict[str, float] = {}

    # Alex, in recovery, checks in: five scales, cravings, recovery today, HALT, gratitude.
    started = time.perf_counter()
    axe_before = site.axe_seconds
    page = goto(site, alex, "/checkins/")
    shooting = shot(site, alex, "checkin-today")
    expect(page.get_by_role("heading", level=1)).to_have_text("Today's check-in")
    expect(page.get_by_label("Cravings today")).to_be_visible()
    expect(page.get_by_role("group", name="Recovery today")).to_be_visible()
    fill_checkin(site, alex, SCALES, ["Tired", "Lonely"], alex_grateful, alex_note)
    page.get_by_text("Desire, arousal and tiredness (optional)").tap()
    tap_scale(page, "Tiredness", 4)
    page.get_by_label("Cravings today").select_option("3")
    page.get_by_role("radio", name="Yes, I kept my recovery today").tap()
    shooting += shot(site, alex, "checkin-filled")
    page.get_by_role("button", name="Save check-in").tap()
    page.wait_for_url(CHECKIN_URL)
    timings["Alex"] = time.perf_counter() - started - (site.axe_seconds - axe_before) - shooting
    check(site, alex, shot="checkin-detail")
    expect(page.get_by_role("status")).to_contain_text("Check-in saved.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Check-in,")
    details = page.locator("dl.values")
    for label, shown in [
        ("Mood", "4 of 5"),
        ("Stress", "2 of 5"),
        ("Emotional safety", "5 of 5"),
        ("Tiredness", "4 of 5"),
        ("Cravings", "3 of 10"),
        ("Recovery today", "Yes, I kept my recovery today"),
        ("Noticed", "Lonely, Tired"),
        ("Grateful for", alex_grateful),
        ("Note", alex_note),
    ]:
        term = details.locator("dt", has_text=re.compile(rf"^{re.escape(label)}$"))
        expect(term.locator("xpath=following-sibling::dd[1]")).to_have_text(shown)
    expect(page.locator("#audience-box .badge")).to_contain_text("My partner")
    alex_checkin = page.url.removeprefix(site.origin).split("#")[0]

    # Sam, without a recovery track, is never asked about cravings or recovery.
    started = time.perf_counter()
    axe_before = site.axe_seconds
    page = goto(site, sam, "/checkins/")
    expect(page.get_by_label("Cravings today")).to_have_count(0)
    expect(page.get_by_role("group", name="Recovery today")).to_have_count(0)
    assert "Cravings" not in visible_text(page)
    fill_checkin(site, sam, {**SCALES, "Stress": 4}, ["Hungry"], sam_grateful, sam_note)
    page.get_by_role("button", name="Save check-in").tap()
    page.wait_for_url(CHECKIN_URL)
    timings["Sam"] = time.perf_counter() - started - (site.axe_seconds - axe_before)
    check(site, sam)
    expect(page.get_by_role("status")).to_contain_text("Check-in saved.")
    expect(page.locator("dl.values")).to_contain_text(sam_grateful)
    expect(page.locator("dl.values")).not_to_contain_text("Cravings")

    # Sam finds Alex's check-in among what is shared with them, and opens it.
    page = goto(site, sam, "/checkins/history/?show=shared", shot="checkin-history-shared")
    expect(page.get_by_role("link", name="Shared with me")).to_have_attribute(
        "aria-current", "page"
    )
    cards = page.locator(".entry")
    expect(cards).to_have_count(1)
    expect(cards.first).to_contain_text("Alex")
    send(site, sam, cards.first.get_by_role("link"))
    expect(page).to_have_url(site.url(alex_checkin))
    expect(page.locator(".meta").first).to_have_text("From Alex")
    expect(page.locator("dl.values")).to_contain_text(alex_grateful)
    # Sam reads what Alex shared, but cannot change who sees it.
    expect(page.locator("#audience-box")).to_have_count(0)
    expect(page.get_by_role("link", name="Change today's check-in")).to_have_count(0)

    # Alex's history ("All") lists both check-ins: Alex's own and the one Sam shared.
    page = goto(site, alex, "/checkins/history/")
    expect(page.locator(".entry")).to_have_count(2)

    print(
        "\nDaily check-in, test time without axe-core: "
        + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in timings.items())
    )
    for name, seconds in timings.items():
        assert seconds < CHECKIN_SECONDS, f"{name}'s check-in took {seconds:.1f} s"


# --- 2. the daily trust moment -----------------------------------------------------------------
def test_trust_moment_stated_acknowledged_and_paused_without_a_reason(site: Browsing, unique):
    people = alex_in_recovery()
    alex = site.person("Alex")
    sam = site.person("Sam")
    site.sign_in(alex, people.alex)
    site.sign_in(sam, people.sam)
    intention = unique("Today I'm staying with my recovery and calling my sponsor")
    support = unique("Proud of you, see you tonight")
    site.secrets.update({intention, support})

    # Alex states today's intention.
    page = goto(site, alex, "/checkins/trust/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Daily trust moment")
    page.get_by_label("Today's intention").fill(intention)
    send(site, alex, page.get_by_role("button", name="Share today's intention"))
    expect(page.get_by_role("status").first).to_contain_text("shared with your partner")
    mine = page.locator("section.card", has_text="Your intention today")
    expect(mine).to_contain_text(intention)
    expect(mine).to_contain_text("Not acknowledged yet.")

    # Sam, who has no recovery track, is never asked for an intention; Sam acknowledges Alex's.
    page = goto(site, sam, "/checkins/trust/")
    expect(page.get_by_label("Today's intention")).to_have_count(0)
    moment = page.locator(".entry", has_text=intention)
    expect(moment).to_have_count(1)
    shot(site, sam, "trust-moment-partner")
    moment.get_by_label("A word of support (optional)").fill(support)
    send(site, sam, moment.get_by_role("button", name="Acknowledge"))
    expect(page.get_by_role("status").first).to_contain_text("You acknowledged today's intention.")
    expect(page.locator(".entry", has_text=intention)).to_contain_text("Acknowledged")
    expect(page.get_by_role("button", name="Acknowledge")).to_have_count(0)

    # Alex sees the acknowledgement, with Sam's words.
    page = goto(site, alex, "/checkins/trust/", shot="trust-moment")
    mine = page.locator("section.card", has_text="Your intention today")
    expect(mine).to_contain_text("Acknowledged by Sam")
    expect(mine).to_contain_text(support)
    expect(page.get_by_label("Today's intention")).to_have_count(0)

    # Sam pauses the practice: one tap, no reason asked.
    page = goto(site, sam, "/checkins/trust/")
    pause = page.locator("form", has=page.get_by_role("button", name="Pause the trust moment"))
    expect(pause.locator("textarea, input[type=text], select")).to_have_count(0)
    send(site, sam, pause.get_by_role("button"))
    expect(page.get_by_role("status").first).to_contain_text("paused. No reason is needed.")
    expect(page.get_by_role("button", name="Resume it")).to_be_visible()

    # Alex can no longer state an intention, sees that it is paused, and cannot resume it.
    page = goto(site, alex, "/checkins/trust/")
    expect(page.locator(".notice")).to_contain_text("The trust moment is paused.")
    expect(page.get_by_label("Today's intention")).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile("today's intention"))).to_have_count(0)
    expect(page.get_by_role("button", name="Resume it")).to_have_count(0)
    expect(page.get_by_role("button", name="Pause the trust moment")).to_have_count(0)


# --- 3. a whole weekly meeting -----------------------------------------------------------------
def test_weekly_meeting_private_answers_reveal_conversation_and_close(site: Browsing, unique):
    people = alex_in_recovery()
    alex = site.person("Alex")
    sam = site.person("Sam")
    site.sign_in(alex, people.alex)
    site.sign_in(sam, people.sam)
    alex_answers = {
        "answer_p0": unique("Sam listened without fixing when I talked about Tuesday"),
        "answer_p1": unique("Cooking together on Sunday"),
        "answer_p4": unique("I felt alone when plans changed without a word"),
    }
    sam_answers = {
        "answer_p0": unique("Alex told me about the hard moment straight away"),
        "answer_p1": unique("The walk on Saturday morning"),
        "answer_p5": unique("Ten quiet minutes together after work"),
    }
    blame = unique("You always change the plans at the last minute")
    i_statement = unique(
        "I felt alone when the plans changed on Friday because I was looking forward to it; "
        "I would like a message when plans change"
    )
    reflection = unique(
        "What I heard: you felt alone when Friday changed, and a message would help. "
        "Did I get that right?"
    )
    next_step = unique("Text each other when plans change")
    site.secrets.update(
        {*alex_answers.values(), *sam_answers.values(), blame, i_statement, reflection, next_step}
    )

    # Alex opens this week's meeting and submits answers.
    page = goto(site, alex, "/meetings/")
    send(site, alex, page.get_by_role("button", name="Open this week's meeting"))
    expect(page).to_have_url(MEETING_URL)
    meeting_path = page.url.removeprefix(site.origin).split("#")[0]
    meeting_id = meeting_path.strip("/").split("/")[-1]
    expect(page.get_by_role("heading", level=1)).to_contain_text("Week of")
    for field, text in alex_answers.items():
        page.locator(f"#{field}").fill(text)
    send(site, alex, page.get_by_role("button", name="Submit my answers"))
    expect(page.get_by_role("status").first).to_contain_text("once you have both answered")
    expect(page.locator(".notice")).to_contain_text("You have submitted.")

    # Sam opens the same meeting from the list: Alex's words are nowhere, on the page or in the API.
    page = goto(site, sam, "/meetings/")
    expect(page.get_by_role("listitem").filter(has_text="answering")).to_have_count(1)
    send(site, sam, page.get_by_role("link", name=re.compile(r"^Week of")))
    expect(page).to_have_url(site.url(meeting_path))

    def nothing_of_alex_yet() -> None:
        html = sam.page.content()
        api = sam.context.request.get(site.url(f"/api/meetings/meetings/{meeting_id}"))
        assert api.status == 200, api.status
        body = api.text()
        data = json.loads(body)
        assert data["revealed"] is False
        assert [a["is_mine"] for a in data["answers"]] in ([], [True]), data["answers"]
        for text in alex_answers.values():
            assert text not in html, "Alex's answer is in Sam's page before Sam submitted"
            assert text not in body, "Alex's answer is in Sam's API response before Sam submitted"

    nothing_of_alex_yet()
    for field, text in sam_answers.items():
        page.locator(f"#{field}").fill(text)
    send(site, sam, page.get_by_role("button", name="Save a draft"))
    expect(page.get_by_role("status").first).to_contain_text("Draft saved. Only you can see it.")
    nothing_of_alex_yet()
    shot(site, sam, "meeting-answering")

    # Sam submits: both answers are revealed to both of them, side by side.
    send(site, sam, page.get_by_role("button", name="Submit my answers"), shot="meeting-revealed")
    expect(page.get_by_role("status").first).to_contain_text("You have both answered")
    expect(page.get_by_role("heading", name="Your answers, side by side")).to_be_visible()
    first = page.locator(".pair").first
    expect(first.locator(".pair-cols > div").nth(0)).to_contain_text(sam_answers["answer_p0"])
    expect(first.locator(".pair-cols > div").nth(1)).to_contain_text(alex_answers["answer_p0"])
    expect(first.locator(".pair-cols > div").nth(1).locator(".who")).to_have_text("Alex")
    page = goto(site, alex, meeting_path)
    for text in [*alex_answers.values(), *sam_answers.values()]:
        expect(page.locator("main")).to_contain_text(text)
    pair = page.locator(".pair").first
    expect(pair.locator(".pair-cols > div").nth(0)).to_contain_text(alex_answers["answer_p0"])
    expect(pair.locator(".pair-cols > div").nth(1)).to_contain_text(sam_answers["answer_p0"])

    # Alex starts with blame: a gentle hint, and nothing is saved.
    page.get_by_label("What are you adding?").select_option(label="I-statement")
    page.get_by_label("Your words").fill(blame)
    send(site, alex, page.get_by_role("button", name="Add", exact=True))
    expect(page.get_by_role("status").filter(has_text="starts with “you”")).to_be_visible()
    expect(page.get_by_label("Your words")).to_have_value(blame)
    expect(page.get_by_label("What are you adding?")).to_have_value("i_statement")
    expect(page.get_by_label("Keep my wording as it is")).not_to_be_checked()
    expect(page.locator("ul.entries .entry")).to_have_count(0)
    shot(site, alex, "meeting-gentle-hint")
    # Sending it again without ticking "Keep my wording" still saves nothing.
    send(site, alex, page.get_by_role("button", name="Add", exact=True))
    expect(page.locator("ul.entries .entry")).to_have_count(0)
    api = alex.context.request.get(site.url(f"/api/meetings/meetings/{meeting_id}"))
    assert api.json()["notes"] == []
    # Alex rewrites it as an I-statement; that is saved.
    page.get_by_label("Your words").fill(i_statement)
    send(site, alex, page.get_by_role("button", name="Add", exact=True))
    note = page.locator("ul.entries .entry", has_text=i_statement)
    expect(note).to_contain_text("I-statement · you")
    assert blame not in visible_text(page)

    # Sam reflects back what was heard.
    page = goto(site, sam, meeting_path)
    expect(page.locator("ul.entries .entry", has_text=i_statement)).to_contain_text("Alex")
    page.get_by_label("What are you adding?").select_option(label="Reflection")
    page.get_by_label("Your words").fill(reflection)
    send(site, sam, page.get_by_role("button", name="Add", exact=True))
    mine = page.locator("ul.entries .entry", has_text=reflection)
    expect(mine).to_contain_text("Reflection · you")
    # Sam cannot confirm their own reflection.
    expect(mine.get_by_role("button", name="Yes")).to_have_count(0)

    # Alex, the speaker, answers "did I get that right?": yes.
    page = goto(site, alex, meeting_path)
    theirs = page.locator("ul.entries .entry", has_text=reflection)
    expect(theirs).to_contain_text("Did Sam get that right?")
    shot(site, alex, "meeting-did-i-get-that-right")
    send(site, alex, theirs.get_by_role("button", name="Yes", exact=True))
    expect(page.locator("ul.entries .entry", has_text=reflection)).to_contain_text(
        "Confirmed: that's right."
    )

    # Sam writes down the step they agreed on; both see the whole conversation.
    page = goto(site, sam, meeting_path)
    expect(page.locator("ul.entries .entry", has_text=reflection)).to_contain_text(
        "Confirmed: that's right."
    )
    page.get_by_label("What are you adding?").select_option(label="Agreed next step")
    page.get_by_label("Your words").fill(next_step)
    send(site, sam, page.get_by_role("button", name="Add", exact=True))
    page = goto(site, alex, meeting_path)
    notes = page.locator("ul.entries .entry")
    expect(notes).to_have_count(3)
    expect(notes.nth(0)).to_contain_text(i_statement)
    expect(notes.nth(1)).to_contain_text(reflection)
    expect(notes.nth(2)).to_contain_text("Agreed next step · Sam")
    expect(notes.nth(2)).to_contain_text(next_step)
    shot(site, alex, "meeting-conversation")

    # Alex closes the meeting; Sam sees it closed too, and the list says so.
    send(site, alex, page.get_by_role("button", name="Close this week's meeting"))
    expect(page.get_by_role("status").first).to_contain_text("Meeting closed.")
    expect(page.get_by_text("This meeting is closed.")).to_be_visible()
    expect(page.get_by_role("button", name="Add", exact=True)).to_have_count(0)
    page = goto(site, sam, meeting_path)
    expect(page.get_by_text("This meeting is closed.")).to_be_visible()
    page = goto(site, sam, "/meetings/")
    expect(page.get_by_role("listitem").filter(has_text="closed")).to_have_count(1)
