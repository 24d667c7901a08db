from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms

from trellis.lib.dates import valid_timezone
from trellis.sharing.audiences import Audience

from .models import User


class SignupExtraForm(forms.Form):
    display_name = forms.CharField(
        label="Name to show",
        max_length=80,
        help_text="How your partner and therapist will see you. A first name is enough.",
    )

    def signup(self, request: Any, user: User) -> None:
        user.display_name = self.cleaned_data["display_name"].strip()
        user.save(update_fields=["display_name"])


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["display_name", "pronouns", "time_zone"]
        labels = {"display_name": "Name to show", "time_zone": "Time zone"}
        help_texts = {"time_zone": "For example Europe/Berlin or America/Chicago."}

    def clean_time_zone(self) -> str:
        value = self.cleaned_data["time_zone"].strip()
        if not valid_timezone(value):
            raise forms.ValidationError("Enter a time zone name such as Europe/Berlin.")
        return value


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label="What is this token for?", max_length=60, help_text="For example: my phone."
    )


class DefaultAudienceForm(forms.Form):
    """One select per registered entry type; built dynamically from the sharing registry."""

    def __init__(
        self, *args: Any, entry_types: list[Any], initial_map: Mapping[str, str], **kw: Any
    ):
        super().__init__(*args, **kw)
        for et in entry_types:
            self.fields[et.label] = forms.ChoiceField(
                label=f"{et.verbose_name}: who sees new entries by default",
                choices=Audience.choices,
                initial=initial_map.get(et.label, et.default_audience),
                required=False,  # a type left out keeps its current default
            )
