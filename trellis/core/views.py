from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.views.decorators.http import require_http_methods

from trellis.agreements.selectors import due_count_for_member
from trellis.clinic.selectors import due_homework_count
from trellis.clinic.warnings import for_person
from trellis.core.http import AuthedRequest
from trellis.couples.selectors import membership_and_partner, open_invitation_for
from trellis.journal.prompts import prompt_for_day
from trellis.journal.selectors import journal_cards_for_reader
from trellis.lib.dates import local_today
from trellis.recovery.models import SupportMessage
from trellis.recovery.selectors import home_notices


@require_http_methods(["GET"])
def landing(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return home(request)  # type: ignore[arg-type]  # authenticated, checked above
    return render(request, "core/landing.html")


@login_required
@require_http_methods(["GET"])
def home(request: AuthedRequest) -> HttpResponse:
    from django.utils import timezone

    user = request.user
    shared = list(journal_cards_for_reader(user, scope="shared")[:3])
    membership, partner = membership_and_partner(user)
    # Only a count: how many clauses are due for a look together (no words, nothing to record).
    today = local_today(user.time_zone)
    agreement_due = due_count_for_member(user, today) if membership else 0
    # A partner's recent "I'm struggling" message, to answer in one tap, and milestones reached
    # this week (each read recorded only because it is shown, with the journal entries above,
    # in one INSERT).
    support_messages, celebrations = home_notices(user, channel="page", also_read=shared)
    # The person's own warning signs (from their own entries only) and open homework, shown
    # gently and only when there is something to show.
    signs = [s.gentle for s in for_person(user, today)] if user.role == "member" else []
    homework_due = due_homework_count(user) if membership else 0
    return render(
        request,
        "core/home.html",
        {
            "membership": membership,
            "agreement_due": agreement_due,
            "partner": partner,
            # An open invitation matters only while the partner has not joined yet.
            "invitation": open_invitation_for(user) if membership and partner is None else None,
            "shared": shared,
            "prompt": prompt_for_day(timezone.localdate().toordinal()),
            "support_messages": support_messages,
            "replies": list(SupportMessage.REPLIES.items()),
            "celebrations": celebrations,
            "signs": signs,
            "homework_due": homework_due,
        },
    )


@require_http_methods(["GET"])
def crisis(request: HttpRequest) -> HttpResponse:
    return render(request, "core/crisis.html")


@require_http_methods(["GET"])
def privacy(request: HttpRequest) -> HttpResponse:
    return render(request, "core/privacy.html")


@require_http_methods(["GET"])
def healthz(request: HttpRequest) -> JsonResponse:
    try:
        with connection.cursor() as cur:
            cur.execute("SELECT 1")
            cur.fetchone()
    except Exception:
        return JsonResponse({"status": "error", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


@require_http_methods(["GET"])
def trivial(request: HttpRequest) -> HttpResponse:
    """A minimal page through the same middleware stack: the benchmarks' yardstick."""
    return HttpResponse("ok", content_type="text/plain")


# Error pages: the same body whatever was asked, so "denied" and "missing" can't be told apart.
# Their context is constant (settings only), never the request: the quick exit must still lead
# to the neutral site (security.md R56).
def _error_context() -> dict[str, str]:
    return {"APP_NAME": settings.APP_NAME, "QUICK_EXIT_URL": settings.QUICK_EXIT_URL}


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found"}, status=404)
    body = loader.render_to_string("404.html", _error_context(), request=None)
    return HttpResponse(body, status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Something went wrong on our side."}, status=500)
    return HttpResponse(
        loader.render_to_string("500.html", _error_context(), request=None), status=500
    )


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Bad request"}, status=400)
    return HttpResponse(
        loader.render_to_string("400.html", _error_context(), request=None), status=400
    )


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return not_found(request, exception)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render(request, "403_csrf.html", status=403)
