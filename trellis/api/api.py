"""The one NinjaAPI object. Each app contributes a router (its api.py), tagged with its name."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from .auth import AUTH

api = NinjaAPI(
    title="Trellis API",
    version="1",
    description=(
        "Every entry read goes through the same sharing policy as the pages. Denied and "
        "missing look the same (404). Authenticate with a session (and CSRF token) or a "
        "personal bearer token."
    ),
    auth=AUTH,
    urls_namespace="api",
    docs_url=None,
    openapi_url="/openapi.json",
)


def _loc(parts: list[object]) -> list[str | int]:
    return [p if isinstance(p, int) else str(p) for p in parts]


@api.exception_handler(NinjaValidationError)
def on_validation(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    detail = []
    for err in exc.errors:
        loc = [p for p in err.get("loc", []) if p not in ("payload",)]
        detail.append(
            {
                "loc": _loc(loc),
                "msg": str(err.get("msg", "Invalid value.")),
                "type": str(err.get("type", "value_error")),
            }
        )
    return api.create_response(request, {"detail": detail}, status=422)


@api.exception_handler(DjangoValidationError)
def on_service_validation(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    if hasattr(exc, "error_dict"):
        detail = [
            {"loc": ["body", field], "msg": msg, "type": "value_error"}
            for field, msgs in exc.message_dict.items()
            for msg in msgs
        ]
    else:
        detail = [{"loc": ["body"], "msg": m, "type": "value_error"} for m in exc.messages]
    return api.create_response(request, {"detail": detail}, status=422)


@api.exception_handler(Http404)
def on_404(request: HttpRequest, exc: Http404) -> HttpResponse:
    return api.create_response(request, {"detail": "Not found"}, status=404)


@api.exception_handler(AuthenticationError)
def on_auth(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(
        request, {"detail": "Sign in or send a valid bearer token."}, status=401
    )


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc.message)}, status=exc.status_code)


def _mount() -> None:
    from trellis.accounts.api import router as accounts_router
    from trellis.agreements.api import router as agreements_router
    from trellis.checkins.api import router as checkins_router
    from trellis.clinic.api import router as clinic_router
    from trellis.journal.api import router as journal_router
    from trellis.meetings.api import router as meetings_router
    from trellis.recovery.api import router as recovery_router
    from trellis.sharing.api import router as sharing_router

    api.add_router("/accounts", accounts_router)
    api.add_router("/sharing", sharing_router)
    api.add_router("/journal", journal_router)
    api.add_router("/checkins", checkins_router)
    api.add_router("/meetings", meetings_router)
    api.add_router("/agreements", agreements_router)
    api.add_router("/recovery", recovery_router)
    api.add_router("/clinic", clinic_router)


_mount()
