"""The audience picker every entry type uses: an htmx fragment in place, or a page without JS."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from trellis.core.forms import apply_errors
from trellis.core.http import AuthedRequest

from .audiences import AUDIENCE_EXPLAINED, Audience
from .services import allowed_audiences, entry_audience_set


class AudienceForm(forms.Form):
    def __init__(self, *args: Any, allowed: list[Audience], **kw: Any):
        super().__init__(*args, **kw)
        self.fields["audience"] = forms.ChoiceField(
            choices=[(a.value, a.label) for a in allowed],
            label="Who can see this?",
            widget=forms.RadioSelect,
        )


def is_htmx(request: AuthedRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def audience_form_for(request: AuthedRequest, entry: Any) -> AudienceForm:
    allowed = allowed_audiences(request.user, entry.entry_type_label)
    return AudienceForm(allowed=allowed, initial={"audience": entry.audience})


def audience_picker(
    request: AuthedRequest,
    entry: Any,
    *,
    audience_url_name: str,
    detail_url_name: str,
    allowed: list[Audience] | None = None,
) -> HttpResponse:
    """GET shows the picker; POST changes the audience (author only: the caller fetched `entry`
    with sharing.policy.get_own_or_404)."""
    if allowed is None:
        allowed = allowed_audiences(request.user, entry.entry_type_label)
    saved = False
    if request.method == "POST":
        form = AudienceForm(request.POST, allowed=allowed)
        if form.is_valid():
            try:
                entry_audience_set(
                    actor=request.user,
                    entry=entry,
                    audience=form.cleaned_data["audience"],
                    channel="fragment" if is_htmx(request) else "page",
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                saved = True
                if not is_htmx(request):
                    messages.success(request, "Who can see this was updated.")
                    return redirect(detail_url_name, pk=entry.pk)
    else:
        form = AudienceForm(allowed=allowed, initial={"audience": entry.audience})
    context = {
        "form": form,
        "entry": entry,
        "saved": saved,
        "audience_explained": AUDIENCE_EXPLAINED,
        "audience_url": reverse(audience_url_name, kwargs={"pk": entry.pk}),
        "detail_url": reverse(detail_url_name, kwargs={"pk": entry.pk}),
    }
    template = "sharing/audience_box.html" if is_htmx(request) else "sharing/audience_page.html"
    return render(request, template, context)
