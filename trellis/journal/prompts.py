"""Journal prompts, written for Trellis. Gentle, open, never leading toward blame."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Prompt:
    key: str
    theme: str
    text: str


PROMPTS: tuple[Prompt, ...] = (
    Prompt("today-steady", "Today", "What helped you feel steady today, even for a moment?"),
    Prompt("today-hard", "Today", "What was hardest today, and what did you do with it?"),
    Prompt(
        "body-notice",
        "Body",
        "Where in your body do you notice today's feelings? Describe them without judging them.",
    ),
    Prompt(
        "trust-small",
        "Trust",
        "Describe one small thing, from either of you, that felt trustworthy this week.",
    ),
    Prompt(
        "trust-need",
        "Trust",
        "What would help you feel a little safer with your partner right now?",
    ),
    Prompt(
        "closeness",
        "Closeness",
        "When did you feel close to your partner recently? What made it possible?",
    ),
    Prompt(
        "boundary",
        "Boundaries",
        "Is there a boundary you kept, or want to ask for? Put it into words for yourself first.",
    ),
    Prompt(
        "recovery-why", "Recovery", "What are you protecting by staying with your recovery today?"
    ),
    Prompt(
        "urge-wave",
        "Recovery",
        "If an urge came today, what did it feel like as it rose and as it passed?",
    ),
    Prompt(
        "repair",
        "Repair",
        "Is there something you would like to repair? What would a first small step look like?",
    ),
    Prompt("self-kind", "Care", "What would you say to a friend who had the day you had?"),
    Prompt(
        "gratitude-3", "Gratitude", "Name three things, however small, you are grateful for today."
    ),
)

BY_KEY = {p.key: p for p in PROMPTS}


def prompt_for_day(ordinal: int) -> Prompt:
    """A prompt that changes daily but is the same for everyone on the same day."""
    return PROMPTS[ordinal % len(PROMPTS)]
