from __future__ import annotations

from typing import Any

from django import forms

from trellis.sharing.audiences import Audience

from .models import CRAVING_MAX, DailyCheckin

SCALES = {
    "mood": ("Mood", "very low", "very good"),
    "stress": ("Stress", "calm", "very stressed"),
    "sleep": ("Sleep last night", "poor", "restful"),
    "closeness": ("Closeness to your partner", "distant", "very close"),
    "safety": ("Emotional safety with your partner", "unsafe", "very safe"),
}
OPTIONAL_SCALES = {
    "desire": ("Desire", "none", "strong"),
    "arousal": ("Arousal", "none", "strong"),
    "fatigue": ("Tiredness", "rested", "exhausted"),
}


def _scale(label: str, low: str, high: str, *, required: bool) -> forms.TypedChoiceField:
    choices = [(str(i), str(i)) for i in range(1, 6)]
    if not required:
        choices = [("", "Skip"), *choices]
    return forms.TypedChoiceField(
        label=label,
        choices=choices,
        coerce=int,
        empty_value=None,
        required=required,
        widget=forms.RadioSelect,
        help_text=f"1 = {low}, 5 = {high}",
        error_messages={"required": "Choose a value."},
    )


class CheckinForm(forms.Form):
    def __init__(self, *args: Any, allowed: list[Audience], in_recovery: bool, **kw: Any):
        super().__init__(*args, **kw)
        for name, (label, low, high) in SCALES.items():
            self.fields[name] = _scale(label, low, high, required=True)
        for name, (label, low, high) in OPTIONAL_SCALES.items():
            self.fields[name] = _scale(label, low, high, required=False)
        if in_recovery:
            self.fields["craving"] = forms.TypedChoiceField(
                label="Cravings today",
                choices=[("", "Skip")] + [(str(i), str(i)) for i in range(CRAVING_MAX + 1)],
                coerce=int,
                empty_value=None,
                required=False,
                help_text="0 = none, 10 = the strongest you know. Noticing is what counts.",
            )
            self.fields["recovery"] = forms.ChoiceField(
                label="Recovery today",
                choices=[("", "Skip")] + [c for c in DailyCheckin.Recovery.choices if c[0]],
                required=False,
                widget=forms.RadioSelect,
            )
        for name, label in (
            ("halt_hungry", "Hungry"),
            ("halt_angry", "Angry"),
            ("halt_lonely", "Lonely"),
            ("halt_tired", "Tired"),
        ):
            self.fields[name] = forms.BooleanField(label=label, required=False)
        self.fields["gratitude"] = forms.CharField(
            label="One thing you're grateful for", required=False, max_length=2000
        )
        self.fields["note"] = forms.CharField(
            label="Anything else (optional)",
            required=False,
            max_length=2000,
            widget=forms.Textarea(attrs={"rows": 3}),
        )
        self.fields["audience"] = forms.ChoiceField(
            label="Who can see this check-in?",
            choices=[(a.value, a.label) for a in allowed],
            widget=forms.RadioSelect,
        )
        self.fields["version"] = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def scale_fields(self) -> list[Any]:
        return [self[n] for n in SCALES]

    def optional_fields(self) -> list[Any]:
        return [self[n] for n in OPTIONAL_SCALES]

    def halt_fields(self) -> list[Any]:
        return [self[n] for n in ("halt_hungry", "halt_angry", "halt_lonely", "halt_tired")]


class IntentionForm(forms.Form):
    intention = forms.CharField(
        label="Today's intention",
        max_length=500,
        help_text="In your own words, for today only. For example: “Today I'm staying with my recovery.”",
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class AcknowledgeForm(forms.Form):
    response = forms.CharField(
        label="A word of support (optional)",
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
