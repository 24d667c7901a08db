from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count
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
    rows = []
    for et in entry_types():
        counts = dict(
            authored_by(request.user, et.model)
            .order_by()
            .values_list("audience")
            .annotate(n=Count("pk"))
            .values_list("audience", "n")
        )
        rows.append({"type": et, "counts": [(a, counts.get(a.value, 0)) for a in Audience]})
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
