from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    # allauth's resolution: REMOTE_ADDR, or the proxy-set address when ALLAUTH_TRUSTED_PROXY_COUNT
    # says a trusted proxy sits in front. A client-sent X-Forwarded-For never picks its own bucket.
    from allauth.core.internal.httpkit import get_client_ip

    return get_client_ip(request) or "unknown"


class AccountAdapter(DefaultAccountAdapter):
    # Our own words for allauth's messages people see on our pages (QUALITY U5).
    error_messages = {
        **DefaultAccountAdapter.error_messages,
        "too_many_login_attempts": (
            "Sign-in is paused for a few minutes after several wrong passwords. "
            "Please try again shortly."
        ),
    }

    def _get_login_attempts_cache_key(self, request: HttpRequest, **credentials: Any) -> str:
        # Key failed sign-ins by (address, client network address). A partner who types wrong
        # passwords cools off only their own bucket; the owner signing in from another network
        # is never locked out (security.md R15).
        base = super()._get_login_attempts_cache_key(request, **credentials)
        return f"{base}:{client_ip(request)}"

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return True

    def save_user(self, request: HttpRequest, user: Any, form: Any, commit: bool = True) -> Any:
        user = super().save_user(request, user, form, commit=False)
        user.display_name = form.cleaned_data.get("display_name", "").strip()
        user.role = user.Role.MEMBER  # nobody picks a privileged role at sign-up
        if commit:
            user.save()
        return user
