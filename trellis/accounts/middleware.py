from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY, logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

IDLE_KEY = "_trellis_seen"
START_KEY = "_trellis_started"
# Refresh the idle clock at most once a minute, so a busy page is not a database write per request.
TOUCH_EVERY = 60


class SessionLimitsMiddleware:
    """30 minutes idle, 12 hours absolute (configurable) — Django only has one cookie age."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = int(time.time())
            started = request.session.get(START_KEY)
            seen = request.session.get(IDLE_KEY)
            if started is None:
                request.session[START_KEY] = now
                request.session[IDLE_KEY] = now
            elif (
                now - int(started) > settings.SESSION_ABSOLUTE_SECONDS
                or now - int(seen or started) > settings.SESSION_IDLE_SECONDS
            ):
                logout(request)
                if request.path.startswith("/api/"):
                    return self.get_response(request)
                messages.info(
                    request, "You were signed out to keep your account safe. Please sign in again."
                )
                return redirect(f"{reverse('account_login')}?expired=1")
            elif now - int(seen or 0) >= TOUCH_EVERY:
                request.session[IDLE_KEY] = now
        response = self.get_response(request)
        # A sign-in during this request starts both clocks now: otherwise a session nobody uses
        # after signing in would start counting only at its next request, hours later.
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and SESSION_KEY in request.session
            and START_KEY not in request.session
        ):
            now = int(time.time())
            request.session[START_KEY] = now
            request.session[IDLE_KEY] = now
        return response


ALLOWED_PREFIXES = ("/accounts/", "/static/", "/help/", "/healthz")


class RequireTwoFactorMiddleware:
    """Therapists and administrators must set up TOTP before they can see anything else."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and user.needs_two_factor
            and not request.path.startswith(ALLOWED_PREFIXES)
        ):
            from allauth.mfa.models import Authenticator

            if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
                if request.path.startswith("/api/"):
                    from django.http import JsonResponse

                    return JsonResponse(
                        {"detail": "Two-factor authentication must be set up first."}, status=403
                    )
                return redirect("mfa_activate_totp")
        return self.get_response(request)
