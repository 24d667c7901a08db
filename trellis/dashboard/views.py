"""The dashboard: what is mine and what my partner shares with me (SPEC C16)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from trellis.checkins.models import DailyCheckin
from trellis.core.http import AuthedRequest
from trellis.sharing.views_meta import entry_view

from . import presenters, selectors


@login_required
@require_http_methods(["GET"])
@entry_view(DailyCheckin, "list")
def dashboard(request: AuthedRequest) -> HttpResponse:
    days = selectors.parse_range(request.GET.get("range", selectors.DEFAULT_RANGE))
    data = selectors.checkins_for_dashboard(request.user, days)
    in_recovery = selectors.has_recovery_track(request.user)
    metrics = presenters.metrics_to_show(data, in_recovery=in_recovery)
    context = {
        "days": days,
        "ranges": selectors.RANGES,
        "partner_name": data.partner_name if data.partner is not None else "",
        "has_data": data.has_any,
        "summary": presenters.weekly_summary(data, metrics),
        "metrics": presenters.metric_views(data, metrics, in_recovery=in_recovery)
        if data.has_any
        else [],
        "heat_mine": presenters.heatmap_view(data, who="mine") if data.has_any else None,
        "heat_partner": (
            presenters.heatmap_view(data, who="partner")
            if data.has_any and data.partner is not None
            else None
        ),
        "data": presenters.chart_json(data, metrics, in_recovery=in_recovery)
        if data.has_any
        else None,
    }
    return render(request, "dashboard/home.html", context)
