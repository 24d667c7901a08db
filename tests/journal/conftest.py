from __future__ import annotations

import pytest
from django.test import Client

from trellis.accounts.services import api_token_create


@pytest.fixture
def api_for():
    """An API client authenticated with a fresh personal bearer token (no session, no CSRF)."""

    def make(user) -> Client:
        _, raw = api_token_create(user=user, name="tests")
        return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")

    return make
