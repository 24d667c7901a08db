from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer, django_auth


class TokenAuth(HttpBearer):
    """Personal API tokens (Authorization: Bearer trl_...). Never accepted in a URL."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        from trellis.accounts.services import api_token_user

        user = api_token_user(token)
        if user is not None:
            request.user = user
        return user


AUTH = [TokenAuth(), django_auth]
