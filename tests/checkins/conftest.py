from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from trellis.accounts.services import api_token_create
from trellis.recovery.models import RecoveryTrack


@pytest.fixture
def api_for():
    """An API client authenticated with a fresh personal bearer token (no session, no CSRF)."""

    def make(user) -> Client:
        _, raw = api_token_create(user=user, name="tests")
        return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")

    return make


def give_recovery_track(user) -> RecoveryTrack:
    return RecoveryTrack.objects.create(
        author=user,
        kind=RecoveryTrack.Kind.SUBSTANCE,
        what="Alcohol",
        since=timezone.localdate() - timedelta(days=90),
    )


@pytest.fixture
def recovering(people):
    """Alex has a recovery track (the craving question and the trust moment are his)."""
    give_recovery_track(people.alex)
    return people.alex
