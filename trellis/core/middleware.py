from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

access_log = logging.getLogger("trellis.access")


class RequestLogMiddleware:
    """An access log that names the route, never the query string or anything posted."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        start = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        user = getattr(request, "user", None)
        access_log.info(
            "request",
            extra={
                "method": request.method,
                "route": match.view_name if match else "-",
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - start) * 1000, 1),
                "user_id": str(user.pk) if user is not None and user.is_authenticated else None,
            },
        )
        return response


class PrivateCacheMiddleware:
    """No page of Trellis may be kept by a browser or proxy cache: the Back button after a
    quick exit, or a shared computer, must show nothing (security.md R25, R56)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not request.path.startswith("/static/"):
            response["Cache-Control"] = "no-store, max-age=0"
            response["Pragma"] = "no-cache"
        if request.path.startswith("/accounts/logout") and request.method == "POST":
            response["Clear-Site-Data"] = '"cache", "storage"'
        response.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()"
        )
        response.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        return response
