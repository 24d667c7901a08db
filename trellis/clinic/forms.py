"""Forms of the therapist workspace. They only shape input: every rule (who may, what is
valid for the domain) is the services' and comes back as a ValidationError naming the field."""

from __future__ import annotations

import zoneinfo
from datetime import datetime
from typing import Any

from django import forms

from trellis.sharing.audiences import Audience
from trellis.sharing.registry import entry_types

from .models import Appointment, Homework, SessionNote

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _choices(form: forms.Form, name: str, choices: list[tuple[str, str]]) -> None:
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    field.choices = choices


class CodeForm(forms.Form):
    code = forms.CharField(
        max_length=100,
        label="Your therapist's code",
        help_text="Eight letters and digits, from your therapist.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )


class ConsentForm(forms.Form):
    scopes = forms.MultipleChoiceField(
        label="What they may read",
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Only entries you yourself choose to share with your therapist, of these kinds.",
    )
    purpose = forms.CharField(
        max_length=200,
        label="What for",
        help_text="In a few words, e.g. “Our couples therapy”.",
    )
    until = forms.DateField(
        label="Until",
        widget=DATE,
        help_text="It ends by itself on this day. You can withdraw it earlier at any time.",
    )
    password = forms.CharField(
        label="Your password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text="To be sure it is you who decides.",
    )

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        _choices(self, "scopes", [(et.label, et.verbose_name) for et in entry_types()])


class HomeworkForm(forms.Form):
    idempotency_key = forms.CharField(max_length=80, widget=forms.HiddenInput, required=False)
    kind = forms.ChoiceField(label="Kind", choices=Homework.Kind.choices)
    journal_prompt = forms.ChoiceField(
        label="Journal prompt",
        required=False,
        help_text="For a journal prompt: the prompt they will write about (or none: their choice).",
    )
    prompt_set = forms.ChoiceField(
        label="Meeting prompts",
        required=False,
        help_text="For a weekly-meeting prompt set: the prompts of their next meeting.",
    )
    title = forms.CharField(max_length=200, label="Title", help_text="What they will see first.")
    instructions = forms.CharField(
        label="Instructions (optional)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    due_on = forms.DateField(label="Due on", widget=DATE)
    assignees = forms.MultipleChoiceField(
        label="For", widget=forms.CheckboxSelectMultiple, help_text="One or both partners."
    )

    def __init__(
        self,
        *args: Any,
        partners: list[tuple[str, str]],
        journal_prompts: list[tuple[str, str]],
        prompt_sets: list[tuple[str, str]],
        **kw: Any,
    ) -> None:
        super().__init__(*args, **kw)
        _choices(self, "assignees", partners)
        _choices(self, "journal_prompt", [("", "Let them choose"), *journal_prompts])
        _choices(self, "prompt_set", [("", "Choose a set"), *prompt_sets])

    def ref(self) -> str:
        kind = self.cleaned_data["kind"]
        if kind == Homework.Kind.JOURNAL_PROMPT:
            return str(self.cleaned_data.get("journal_prompt") or "")
        if kind == Homework.Kind.MEETING_PROMPTS:
            return str(self.cleaned_data.get("prompt_set") or "")
        return ""

    def ref_field(self) -> str:
        kind = self.cleaned_data.get("kind")
        return "prompt_set" if kind == Homework.Kind.MEETING_PROMPTS else "journal_prompt"


class CompleteForm(forms.Form):
    note = forms.CharField(
        label="A note (optional)",
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="How it went, in your own words. It has the same audience as the “done”.",
    )

    def __init__(self, *args: Any, allowed: list[Audience], **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.fields["audience"] = forms.ChoiceField(
            choices=[(a.value, a.label) for a in allowed],
            label="Who can see that it's done?",
            widget=forms.RadioSelect,
        )


class AppointmentForm(forms.Form):
    kind = forms.ChoiceField(label="Kind", choices=Appointment.Kind.choices)
    starts_at = forms.DateTimeField(
        label="Starts at",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        help_text="In your time zone.",
    )
    minutes = forms.IntegerField(label="Minutes", min_value=10, max_value=240, initial=50)

    def clean_starts_at(self) -> datetime:
        value: datetime = self.cleaned_data["starts_at"]
        # Django made it aware in the server's zone; what was typed is the therapist's local time.
        naive = value.replace(tzinfo=None)
        try:
            tz = zoneinfo.ZoneInfo(self.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            tz = zoneinfo.ZoneInfo("UTC")
        return naive.replace(tzinfo=tz)

    def __init__(self, *args: Any, time_zone: str = "UTC", **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.time_zone = time_zone


class NoteForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    kind = forms.ChoiceField(label="Kind", choices=SessionNote.Kind.choices)
    on_date = forms.DateField(label="Date", widget=DATE)
    body = forms.CharField(label="Note", widget=forms.Textarea, max_length=20000)
    referral_to = forms.CharField(
        label="Referred to (for a referral note)",
        required=False,
        max_length=120,
        help_text="e.g. a physician, when a physical cause is suspected.",
    )


class PolicyForm(forms.Form):
    accepts_confidences = forms.BooleanField(
        label="I accept individual confidences (“My therapist only”)", required=False
    )


class ClinicInviteForm(forms.Form):
    email = forms.EmailField(label="The therapist's email address", max_length=254)
