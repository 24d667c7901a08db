from __future__ import annotations

import json

from allauth.account.decorators import reauthentication_required
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from trellis.core.forms import apply_errors
from trellis.core.http import AuthedRequest
from trellis.recovery.models import RecoveryTrack
from trellis.sharing.registry import entry_types
from trellis.sharing.services import audience_defaults_set, default_audiences

from . import services
from .export import export_for
from .forms import ApiTokenForm, DefaultAudienceForm, ProfileForm
from .models import ApiToken


class RecoveryTrackForm(forms.Form):
    kind = forms.ChoiceField(choices=RecoveryTrack.Kind.choices, label="Recovering from")
    what = forms.CharField(max_length=80, label="In your own words")
    since = forms.DateField(label="Since", widget=forms.DateInput(attrs={"type": "date"}))


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: AuthedRequest) -> HttpResponse:
    user = request.user
    types = entry_types()
    initial = default_audiences(user, types)
    form = ProfileForm(instance=user, prefix="p")
    audience_form = DefaultAudienceForm(entry_types=types, initial_map=initial, prefix="a")
    track_form = RecoveryTrackForm(prefix="t")
    if request.method == "POST":
        which = request.POST.get("form")
        if which == "profile":
            form = ProfileForm(request.POST, instance=user, prefix="p")
            if form.is_valid():
                form.save()
                messages.success(request, "Your profile was saved.")
                return redirect("accounts:profile")
        elif which == "audiences":
            audience_form = DefaultAudienceForm(
                request.POST, entry_types=types, initial_map=initial, prefix="a"
            )
            if audience_form.is_valid():
                audience_defaults_set(
                    user=user, defaults={k: v for k, v in audience_form.cleaned_data.items() if v}
                )
                messages.success(request, "Your default audiences were saved.")
                return redirect("accounts:profile")
        elif which == "track":
            track_form = RecoveryTrackForm(request.POST, prefix="t")
            if track_form.is_valid():
                try:
                    services.recovery_track_add(user=user, **track_form.cleaned_data)
                except ValidationError as exc:
                    apply_errors(track_form, exc)
                else:
                    messages.success(request, "The recovery track was added.")
                    return redirect("accounts:profile")
        elif which == "end_track":
            services.recovery_track_end(user=user, track_id=request.POST.get("track"))
            messages.success(request, "The track was closed. Its history is kept.")
            return redirect("accounts:profile")
        else:
            messages.error(request, "Something in the form was missing. Please try again.")
    return render(
        request,
        "accounts/profile.html",
        {
            "form": form,
            "audience_form": audience_form,
            "track_form": track_form,
            "tracks": RecoveryTrack.objects.filter(author=user, ended_at__isnull=True),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def tokens(request: AuthedRequest) -> HttpResponse:
    form = ApiTokenForm()
    new_raw = None
    if request.method == "POST":
        if request.POST.get("action") == "revoke":
            try:
                services.api_token_revoke(user=request.user, token_id=request.POST.get("token"))
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            else:
                messages.success(request, "The token was revoked. Apps using it stop working now.")
            return redirect("accounts:tokens")
        form = ApiTokenForm(request.POST)
        if form.is_valid():
            try:
                _, new_raw = services.api_token_create(
                    user=request.user, name=form.cleaned_data["name"]
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                form = ApiTokenForm()
    active = ApiToken.objects.filter(user=request.user, revoked_at__isnull=True)
    return render(
        request, "accounts/tokens.html", {"form": form, "tokens": active, "new_raw": new_raw}
    )


@login_required
@require_http_methods(["GET"])
def export_page(request: AuthedRequest) -> HttpResponse:
    return render(request, "accounts/export.html")


@login_required
@reauthentication_required
@require_http_methods(["GET", "POST"])
def export_download(request: AuthedRequest) -> HttpResponse:
    if request.method == "GET":
        return render(request, "accounts/export.html", {"confirm": True})
    data = export_for(request.user)
    response = HttpResponse(
        json.dumps(data, indent=2, ensure_ascii=False), content_type="application/json"
    )
    response["Content-Disposition"] = 'attachment; filename="trellis-export.json"'
    return response
