"""The built-in weekly meeting prompts, written for Trellis. The structure (appreciations, what
went well, one issue, one thing I need next week) follows the "State of the Union" outline in
clinical/REFERENCE.md §4.2; the wording is ours."""

from __future__ import annotations

from typing import Any

SECTIONS = {
    "appreciations": "Appreciations",
    "went_well": "What went well",
    "safety": "Emotional safety",
    "sexual_comfort": "Closeness and sexual comfort",
    "support": "Supporting each other",
    "one_issue": "One issue",
    "need": "One thing I need next week",
}

BUILTIN_SETS: dict[str, dict[str, Any]] = {
    "weekly": {
        "title": "Our weekly meeting",
        "prompts": [
            (
                "appreciations",
                "Name a few things your partner did this week that you appreciated, and what each says about them.",
            ),
            ("went_well", "What went well between you this week, even briefly?"),
            (
                "safety",
                "How safe did you feel with each other this week? What helped, and what made it harder?",
            ),
            ("support", "How did you support each other's recovery and wellbeing this week?"),
            (
                "one_issue",
                "Is there one thing you would like to talk about? Describe it from your side, starting with “I”.",
            ),
            (
                "need",
                "What is one thing your partner could do next week to help you feel cared for?",
            ),
        ],
    },
    "closeness": {
        "title": "Closeness and intimacy",
        "prompts": [
            ("appreciations", "What did you enjoy about being close this week, in any form?"),
            (
                "sexual_comfort",
                "How comfortable did you feel with physical or sexual closeness this week? You can answer in a word.",
            ),
            (
                "sexual_comfort",
                "Is there a pace or a boundary you would like your partner to know about?",
            ),
            (
                "safety",
                "Did you feel free to say “not now” or “slow down”? What would make that easier?",
            ),
            ("need", "What is one small, pressure-free way to feel close next week?"),
        ],
    },
}


def builtin_prompts(key: str) -> tuple[str, list[dict[str, str]]]:
    spec = BUILTIN_SETS[key]
    prompts = [
        {"key": f"p{i}", "section": section, "text": text}
        for i, (section, text) in enumerate(spec["prompts"])
    ]
    return str(spec["title"]), prompts


I_STATEMENT_BLAME_STARTS = (
    "you always",
    "you never",
    "you should",
    "you make me",
    "why do you",
    "you're so",
    "you are so",
)


def blame_hint(text: str) -> str:
    """A gentle hint when a draft starts with blame (SPEC C9)."""
    low = (text or "").strip().lower()
    if low.startswith(I_STATEMENT_BLAME_STARTS):
        return (
            "This starts with “you”. It may be easier to hear as “I felt … when … because …; "
            "I would like …”."
        )
    return ""
