from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def trellis(request: HttpRequest) -> dict[str, Any]:
    return {
        "APP_NAME": settings.APP_NAME,
        "QUICK_EXIT_URL": settings.QUICK_EXIT_URL,
        "CRISIS_RESOURCES": settings.CRISIS_RESOURCES,
    }
