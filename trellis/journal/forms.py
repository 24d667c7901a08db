from __future__ import annotations

from typing import Any

from django import forms

from trellis.sharing.audiences import Audience

from .models import JournalEntry
from .prompts import BY_KEY
from .services import MAX_BODY, MAX_TITLE


class AudienceField(forms.ChoiceField):
    widget = forms.RadioSelect

    def __init__(self, *, allowed: list[Audience], **kw: Any):
        super().__init__(
            choices=[(a.value, a.label) for a in allowed],
            label="Who can see this?",
            **kw,
        )


class JournalEntryForm(forms.Form):
    kind = forms.ChoiceField(
        choices=JournalEntry.Kind.choices, initial=JournalEntry.Kind.JOURNAL, label="Kind of entry"
    )
    title = forms.CharField(max_length=MAX_TITLE, required=False, label="Title (optional)")
    body = forms.CharField(
        max_length=MAX_BODY,
        label="Your entry",
        widget=forms.Textarea(attrs={"rows": 8}),
        error_messages={"required": "Write something before saving."},
    )
    prompt_key = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, allowed: list[Audience], **kw: Any):
        super().__init__(*args, **kw)
        self.fields["audience"] = AudienceField(allowed=allowed)

    def clean_prompt_key(self) -> str:
        key = self.cleaned_data.get("prompt_key") or ""
        if key and key not in BY_KEY:
            raise forms.ValidationError("That prompt does not exist.")
        return key


class JournalEditForm(forms.Form):
    title = forms.CharField(max_length=MAX_TITLE, required=False, label="Title (optional)")
    body = forms.CharField(
        max_length=MAX_BODY,
        label="Your entry",
        widget=forms.Textarea(attrs={"rows": 10}),
        error_messages={"required": "Write something before saving."},
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
