"""Starting suggestions, written by us, that a couple edits into their own terms. A suggestion
only ever pre-fills a proposal: nothing becomes part of an agreement until both accept it."""

from __future__ import annotations

from dataclasses import dataclass

from .models import Section


@dataclass(frozen=True)
class Suggestion:
    key: str
    section: str
    text: str
    rationale: str


SUGGESTIONS: tuple[Suggestion, ...] = (
    # Recovery commitments
    Suggestion(
        "recovery-meetings",
        Section.RECOVERY,
        "I go to my recovery meetings each week, and I tell you if I have to miss one.",
        "Knowing the rhythm of my recovery helps you feel less in the dark.",
    ),
    Suggestion(
        "recovery-checkin",
        Section.RECOVERY,
        "We each do a daily check-in, even on days when there is little to say.",
        "Small, regular honesty builds more trust than occasional big talks.",
    ),
    Suggestion(
        "recovery-therapy",
        Section.RECOVERY,
        "We keep our therapy appointments, and reschedule together rather than skip.",
        "",
    ),
    # What is OK
    Suggestion(
        "ok-space",
        Section.OK,
        "Either of us can ask for time alone to calm down, and says when we will talk again.",
        "Taking a pause is fine; disappearing without a word is what hurts.",
    ),
    Suggestion(
        "ok-questions",
        Section.OK,
        'It is OK to ask questions about recovery, and it is OK to say "not right now" and '
        "offer another time.",
        "",
    ),
    # What is off-limits
    Suggestion(
        "off-secrets",
        Section.OFF_LIMITS,
        "No secret accounts, apps or phones.",
        "Secrecy is what broke trust; openness is how we rebuild it.",
    ),
    Suggestion(
        "off-names",
        Section.OFF_LIMITS,
        "No name-calling or bringing up the past as a weapon during an argument.",
        "",
    ),
    # Digital boundaries
    Suggestion(
        "digital-bedroom",
        Section.DIGITAL,
        "Phones stay out of the bedroom at night.",
        "Late nights alone with a screen are a risky time for me.",
    ),
    Suggestion(
        "digital-filters",
        Section.DIGITAL,
        "I keep content filters on my devices, and I tell you if I change them.",
        "",
    ),
    # Money
    Suggestion(
        "money-large",
        Section.MONEY,
        "We talk before any single purchase over an amount we set together.",
        "",
    ),
    Suggestion(
        "money-statements",
        Section.MONEY,
        "We look at our bank statements together once a month.",
        "Money was part of how things stayed hidden; looking together keeps it in the open.",
    ),
    # Sexual boundaries
    Suggestion(
        "sexual-pause",
        Section.SEXUAL,
        "Either of us can pause or stop any intimate moment at any time, with no explanation "
        "needed and no sulking afterwards.",
        "Feeling free to stop is what makes it possible to start.",
    ),
    Suggestion(
        "sexual-pace",
        Section.SEXUAL,
        "We follow the pace of our sensate-focus homework and do not skip ahead.",
        "",
    ),
    # Disclosure preferences (set by the partner who receives them)
    Suggestion(
        "disclosure-slip",
        Section.DISCLOSURE,
        "If a slip happens, I would like to hear within 24 hours that it happened and what "
        "your plan is. I do not need the details unless I ask for them.",
        "The waiting and wondering is harder for me than the news itself.",
    ),
    Suggestion(
        "disclosure-where",
        Section.DISCLOSURE,
        "Please tell me hard news in person, not by message, and not just before sleep or work.",
        "",
    ),
    Suggestion(
        "disclosure-urges",
        Section.DISCLOSURE,
        "I would like to know about strong urges at our weekly meeting, not each time they happen.",
        "",
    ),
)

BY_KEY = {s.key: s for s in SUGGESTIONS}


def for_section(section: str) -> list[Suggestion]:
    return [s for s in SUGGESTIONS if s.section == section]
