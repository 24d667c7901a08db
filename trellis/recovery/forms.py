"""Forms of the recovery pages. They carry and render what a person typed; every rule (dates,
lengths, who may read what) lives in the services, whose ValidationError is put back onto these
forms field by field. All prose here is ours: calm, practical, never shaming."""

from __future__ import annotations

from typing import Any

from django import forms

from trellis.sharing.audiences import Audience

from .models import RecoveryTrack
from .services import MAX_CIRCLE, MAX_NOTE, MAX_WHAT

# The three circles, each with one plain line of explanation (written by us).
CIRCLES = (
    (
        "inner_circle",
        "Inner circle",
        "What you have decided not to do. Doing one of these is what you count as a lapse.",
    ),
    (
        "middle_circle",
        "Middle circle",
        "Not a lapse, but a step towards one: a sign to slow down and reach out.",
    ),
    (
        "outer_circle",
        "Outer circle",
        "What keeps you well and that you want more of: rest, people, things you enjoy.",
    ),
)


def _area(rows: int, max_length: int) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows, "maxlength": max_length})


def _audience_field(label: str, allowed: list[Audience]) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label,
        choices=[(a.value, a.label) for a in allowed],
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose who can see this.",
            "invalid_choice": "Choose who can see this from the list.",
        },
    )


class _GoalFields(forms.Form):
    goal_kind = forms.ChoiceField(
        label="Your goal",
        choices=RecoveryTrack.Goal.choices,
        widget=forms.RadioSelect,
        initial=RecoveryTrack.Goal.ABSTINENCE,
        error_messages={"required": "Choose abstinence or boundaries you define."},
    )
    goal = forms.CharField(
        label="Your goal in your own words (optional)",
        help_text="For example: “One day at a time.” Only what feels true to you.",
        widget=_area(2, MAX_CIRCLE),
        required=False,
    )
    inner_circle = forms.CharField(
        label=CIRCLES[0][1], help_text=CIRCLES[0][2], widget=_area(2, MAX_CIRCLE), required=False
    )
    middle_circle = forms.CharField(
        label=CIRCLES[1][1], help_text=CIRCLES[1][2], widget=_area(2, MAX_CIRCLE), required=False
    )
    outer_circle = forms.CharField(
        label=CIRCLES[2][1], help_text=CIRCLES[2][2], widget=_area(2, MAX_CIRCLE), required=False
    )

    def circle_fields(self) -> list[forms.BoundField]:
        return [self[name] for name, _, _ in CIRCLES]


class TrackForm(_GoalFields):
    what = forms.CharField(
        label="What is this track about?",
        help_text="In your own words, e.g. alcohol, gambling, porn. Keep it short.",
        max_length=MAX_WHAT,
        error_messages={"required": "Say in your own words what this track is about."},
    )
    kind = forms.ChoiceField(
        label="It is",
        choices=RecoveryTrack.Kind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose a substance or a behaviour."},
    )
    since = forms.CharField(
        label="Since",
        help_text="The first day of this run. It can be today.",
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"required": "Give the first day, e.g. 2026-03-01."},
    )
    field_order = ["what", "kind", "since", "goal_kind", "goal"]

    def __init__(self, *args: Any, allowed: list[Audience], **kw: Any):
        super().__init__(*args, **kw)
        self.fields["audience"] = _audience_field("Who celebrates milestones with you?", allowed)


class TrackEditForm(_GoalFields):
    version = forms.CharField(widget=forms.HiddenInput, required=False)


class LapseForm(forms.Form):
    local_date = forms.CharField(
        label="The day it happened",
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"required": "Give the day, e.g. 2026-03-01."},
    )
    what_led = forms.CharField(
        label="What led to it?",
        help_text="The situation, the feelings, the small choices along the way. Were you "
        "hungry, angry, lonely or tired? Notice it without judging it.",
        widget=_area(3, MAX_NOTE),
        required=False,
    )
    what_helps = forms.CharField(
        label="What helps right now?",
        help_text="One or two things you can do in the next hours.",
        widget=_area(3, MAX_NOTE),
        required=False,
    )
    who_to_tell = forms.CharField(
        label="Who would you like to tell?",
        help_text="Telling someone you trust often makes the next hours easier. You decide "
        "who, and when.",
        widget=_area(2, MAX_NOTE),
        required=False,
    )
    impact = forms.CharField(
        label="How it may have affected your partner (optional)",
        help_text="Naming the impact is a step towards repair, not a verdict on you.",
        widget=_area(3, MAX_NOTE),
        required=False,
    )
    prevention = forms.CharField(
        label="What you will do so it is less likely to happen again",
        help_text="Small and concrete is best: what you will do differently, and when.",
        widget=_area(3, MAX_NOTE),
        required=False,
    )

    def __init__(self, *args: Any, allowed: list[Audience], partner_name: str = "", **kw: Any):
        super().__init__(*args, **kw)
        self.fields["audience"] = _audience_field("Who can read what you wrote here?", allowed)
        if partner_name:
            self.fields["impact"].label = f"How it may have affected {partner_name} (optional)"
        else:
            self.fields["impact"].label = "How it may have affected people close to you (optional)"


# The audiences an "I'm struggling" message can go to: it is a message to someone.
SUPPORT_AUDIENCES = (Audience.PARTNER, Audience.PARTNER_THERAPIST)


class SupportForm(forms.Form):
    note = forms.CharField(
        label="A short note (optional)",
        help_text="Shown only in Trellis, never in an email.",
        widget=_area(2, 500),
        max_length=500,
        required=False,
    )

    def __init__(self, *args: Any, partner_name: str, allowed: list[Audience], **kw: Any):
        super().__init__(*args, **kw)
        labels = {
            Audience.PARTNER: partner_name,
            Audience.PARTNER_THERAPIST: f"{partner_name} and our therapist",
        }
        self.fields["audience"] = forms.ChoiceField(
            label="Who to tell",
            choices=[(a.value, labels[a]) for a in SUPPORT_AUDIENCES if a in allowed],
            widget=forms.RadioSelect,
            initial=Audience.PARTNER.value,
            error_messages={
                "required": "Choose who to tell.",
                "invalid_choice": "Choose who to tell from the list.",
            },
        )
