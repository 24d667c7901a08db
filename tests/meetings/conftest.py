from __future__ import annotations

import pytest
from django.test import Client

from trellis.accounts.services import api_token_create
from trellis.meetings import services


@pytest.fixture
def api_for():
    """An API client authenticated with a fresh personal bearer token (no session, no CSRF)."""

    def make(user) -> Client:
        _, raw = api_token_create(user=user, name="tests")
        return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")

    return make


@pytest.fixture
def meeting(people):
    """This week's meeting of Alex and Sam, started by Alex."""
    started, created = services.meeting_start(user=people.alex)
    assert created
    return started
