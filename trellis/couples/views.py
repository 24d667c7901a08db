from __future__ import annotations

from allauth.account.decorators import reauthentication_required
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from trellis.core.forms import apply_errors
from trellis.core.http import AuthedRequest

from . import services
from .selectors import consents_given_by, open_invitation_for, partner_of


class CoupleForm(forms.Form):
    name = forms.CharField(
        max_length=80,
        required=False,
        label="A name for your space (optional)",
        help_text="Only the two of you see it.",
    )


class JoinForm(forms.Form):
    code = forms.CharField(max_length=100, label="Invitation code")


def _render_home(
    request: AuthedRequest, *, form: CoupleForm, join_form: JoinForm, status: int = 200
) -> HttpResponse:
    user = request.user
    return render(
        request,
        "couples/home.html",
        {
            "membership": services.active_membership(user),
            "partner": partner_of(user),
            "invitation": open_invitation_for(user),
            "form": form,
            "join_form": join_form,
            "consents": consents_given_by(user),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def couple_home(request: AuthedRequest) -> HttpResponse:
    user = request.user
    form = CoupleForm()
    if request.method == "POST":
        form = CoupleForm(request.POST)
        if form.is_valid():
            try:
                services.couple_create(user=user, name=form.cleaned_data["name"])
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(
                    request,
                    "Your couple space is ready. Invite your partner when you both want to.",
                )
                return redirect("couples:home")
    return _render_home(request, form=form, join_form=JoinForm())


@login_required
@require_http_methods(["POST"])
def invite(request: AuthedRequest) -> HttpResponse:
    try:
        new = services.invitation_create(user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("couples:home")
    link = request.build_absolute_uri(reverse("couples:join_link", args=[new.token]))
    return render(
        request,
        "couples/invite.html",
        {"link": link, "code": new.code, "expires_at": new.invitation.expires_at},
    )


@login_required
@require_http_methods(["POST"])
def invite_cancel(request: AuthedRequest) -> HttpResponse:
    services.invitation_cancel(user=request.user)
    messages.success(request, "The invitation was cancelled.")
    return redirect("couples:home")


@login_required
@require_http_methods(["GET", "POST"])
def join_link(request: AuthedRequest, token: str) -> HttpResponse:
    invitation = services.invitation_find(token)
    if request.method == "POST":
        try:
            services.invitation_accept(user=request.user, secret=token)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("couples:home")
        messages.success(
            request,
            "You joined the couple space. Nothing is shared until each of you chooses to share it.",
        )
        return redirect("core:home")
    return render(
        request,
        "couples/join.html",
        {"invitation": invitation, "inviter": invitation.created_by if invitation else None},
    )


@login_required
@require_http_methods(["POST"])
def join_code(request: AuthedRequest) -> HttpResponse:
    form = JoinForm(request.POST)
    if form.is_valid():
        try:
            services.invitation_accept(user=request.user, secret=form.cleaned_data["code"])
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request,
                "You joined the couple space. Nothing is shared until each of you chooses to share it.",
            )
            return redirect("core:home")
    return _render_home(request, form=CoupleForm(), join_form=form, status=400)


@login_required
@reauthentication_required
@require_http_methods(["GET", "POST"])
def leave(request: AuthedRequest) -> HttpResponse:
    if request.method == "POST":
        services.couple_leave(user=request.user)
        messages.success(request, "You have left the couple space. Your own entries stay with you.")
        return redirect("core:home")
    return render(
        request, "couples/leave.html", {"membership": services.active_membership(request.user)}
    )
