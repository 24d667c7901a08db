from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import CharField, Count, Value
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from trellis.core.http import AuthedRequest
from trellis.couples.selectors import consents_given_by, partner_of

from .audiences import AUDIENCE_EXPLAINED, Audience
from .policy import authored_by
from .registry import entry_types
from .selectors import audit_events_for_owner


@login_required
@require_http_methods(["GET"])
def overview(request: AuthedRequest) -> HttpResponse:
    """Everything I share, at a glance: counts per kind and audience, and my consents."""
    types = entry_types()
    # One query for every type (a UNION ALL of one count per type and audience), so the page's
    # cost does not grow with the number of registered types.
    parts = [
        authored_by(request.user, et.model)
        .order_by()
        .values("audience")
        .annotate(n=Count("pk"), kind=Value(et.label, output_field=CharField()))
        .values_list("kind", "audience", "n")
        for et in types
    ]
    counts: dict[tuple[str, str], int] = {}
    if parts:
        for label, audience, n in parts[0].union(*parts[1:], all=True):
            counts[(label, audience)] = n
    rows = [
        {"type": et, "counts": [(a, counts.get((et.label, a.value), 0)) for a in Audience]}
        for et in types
    ]
    return render(
        request,
        "sharing/overview.html",
        {
            "rows": rows,
            "audiences": list(Audience),
            "explained": AUDIENCE_EXPLAINED,
            "partner": partner_of(request.user),
            "consents": consents_given_by(request.user),
        },
    )


@login_required
@require_http_methods(["GET"])
def activity(request: AuthedRequest) -> HttpResponse:
    """Who has seen my things, and every change to who can see them."""
    page = Paginator(audit_events_for_owner(request.user), 50).get_page(request.GET.get("page"))
    return render(request, "sharing/activity.html", {"events": page})
