"""The dashboard: what is mine and what my partner shares with me (SPEC C16)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_http_methods

from trellis.checkins.models import DailyCheckin
from trellis.core.http import AuthedRequest
from trellis.sharing.views_meta import entry_view

from . import presenters, selectors


@login_required
@require_http_methods(["GET"])
@entry_view(DailyCheckin, "list")
def dashboard(request: AuthedRequest) -> HttpResponse:
    """The page; `?values=<metric>` adds that chart's table of daily values. Asked by htmx
    (opening "Daily values"), the answer is that table alone, so the page itself carries no
    table until a person wants one (QUALITY P7)."""
    days = selectors.parse_range(request.GET.get("range", selectors.DEFAULT_RANGE))
    data = selectors.checkins_for_dashboard(request.user, days)
    in_recovery = selectors.has_recovery_track(request.user)
    metrics = presenters.metrics_to_show(data, in_recovery=in_recovery)
    asked = presenters.metric_by_key(request.GET.get("values"), metrics) if data.has_any else None
    if asked is not None and request.headers.get("HX-Request") == "true":
        response = render(
            request,
            "dashboard/home_values.html",
            {
                "days": days,
                "partner_name": data.partner_name,
                "t": presenters.values_table(data, asked, in_recovery=in_recovery),
            },
        )
    else:
        context = {
            "days": days,
            "ranges": selectors.RANGES,
            "partner_name": data.partner_name if data.partner is not None else "",
            "has_data": data.has_any,
            "summary": presenters.weekly_summary(data, metrics),
            "metrics": presenters.metric_views(
                data, metrics, in_recovery=in_recovery, values_for=asked.key if asked else ""
            )
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
        response = render(request, "dashboard/home.html", context)
    # One URL, two answers (the page, or a table for htmx): never let a cache mix them up.
    patch_vary_headers(response, ["HX-Request"])
    return response
