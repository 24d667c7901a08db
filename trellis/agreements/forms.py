"""Forms of the agreement pages. They only carry and render what a person typed: every rule
(what a clause needs, which review dates are fine, whose turn it is) lives in the services, whose
ValidationError is put back onto these forms field by field."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from trellis.sharing.audiences import Audience

from .models import AgreementProposal, Section
from .services import MAX_NOTE, MAX_TEXT, PROPOSAL_AUDIENCES

Kind = AgreementProposal.Kind


def _area(rows: int, max_length: int) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows, "maxlength": max_length})


class ProposalForm(forms.Form):
    """Propose, counter-propose or revise. `kind` decides which fields are asked; `counter` and
    `revise` only change the labels and the hidden fields."""

    kind = forms.ChoiceField(choices=Kind.choices, widget=forms.HiddenInput, required=False)
    clause = forms.CharField(widget=forms.HiddenInput, required=False)
    base_version = forms.CharField(widget=forms.HiddenInput, required=False)
    version = forms.CharField(widget=forms.HiddenInput, required=False)
    section = forms.ChoiceField(
        label="Section", choices=[("", "Choose a section"), *Section.choices], required=False
    )
    text = forms.CharField(
        label="The clause, as you would like it to read",
        widget=_area(4, MAX_TEXT),
        required=False,
        strip=False,
    )
    rationale = forms.CharField(
        label="Why this matters to me (optional)",
        help_text="Shown with the clause, so you both remember the reason behind it.",
        widget=_area(3, MAX_NOTE),
        required=False,
    )
    reason = forms.CharField(
        label="Why change it (optional)", widget=_area(3, MAX_NOTE), required=False
    )
    review_on = forms.CharField(
        label="Look at it together again on",
        help_text="On that day it is marked as due for a look together. It stays in force "
        "until you both agree to change it.",
        widget=forms.DateInput(attrs={"type": "date"}),
        required=False,
    )
    audience = forms.ChoiceField(
        label="Who can see this proposal?",
        choices=[(a.value, a.label) for a in PROPOSAL_AUDIENCES],
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose who can see it.",
            "invalid_choice": "An agreement is for your partner (and, if you wish, your "
            "therapist).",
        },
    )

    def __init__(self, *args: Any, kind: str, mode: str = "propose", **kw: Any):
        super().__init__(*args, **kw)
        self.proposal_kind = kind
        self.mode = mode
        if kind != Kind.ADD or mode != "propose":
            del self.fields["section"]
        if kind == Kind.RETIRE:
            del self.fields["text"]
            del self.fields["rationale"]
            del self.fields["review_on"]
            self.fields["reason"].label = "Why this clause can be retired"
        elif kind == Kind.ADD:
            del self.fields["reason"]
        if "rationale" in self.fields and (kind == Kind.CHANGE or mode == "counter"):
            # It starts as the reason already written (perhaps by the partner): not "mine".
            self.fields["rationale"].label = "The reason behind it (optional)"
            self.fields["rationale"].help_text = (
                "Shown with the clause, so you both remember why it matters. Change it if the "
                "reason has changed."
            )
        if mode == "counter":
            self.fields["text"].label = "Your wording"
            if "reason" in self.fields:
                self.fields["reason"].label = "What you changed, and why (optional)"
        if mode == "revise":
            del self.fields["audience"]
        if mode in ("counter", "revise"):
            del self.fields["kind"]
            del self.fields["clause"]
        if mode == "propose":
            del self.fields["version"]
        elif mode == "counter":
            del self.fields["base_version"]

    def keep(self, **values: str) -> None:
        """Re-bind to the same data with some hidden values replaced (after a stale answer:
        the person's draft stays, the form moves onto what is current now)."""
        data = self.data.copy()  # type: ignore[attr-defined]  # a QueryDict when bound to a request
        for key, value in values.items():
            data[key] = value
        self.data = data


def put_errors(form: forms.Form, exc: ValidationError) -> None:
    """A service's errors next to the fields they name; anything about a hidden or absent
    field goes at the top of the form, so it is never lost."""
    visible = {f.name for f in form.visible_fields()}
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in visible else None, errors)
    else:
        form.add_error(None, exc.messages)


def audience_default(value: Audience | str) -> str:
    return value if value in PROPOSAL_AUDIENCES else Audience.PARTNER_THERAPIST.value
