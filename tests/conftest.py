from __future__ import annotations

import os

import pytest
from django.test import Client

from tests.personas import PASSWORD, People, build_people

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def people(db) -> People:
    return build_people()


@pytest.fixture
def client_for():
    """A logged-in test client for a persona (None gives an anonymous client)."""

    def make(user) -> Client:
        client = Client()
        if user is not None:
            client.force_login(user)
        return client

    return make


@pytest.fixture
def password() -> str:
    return PASSWORD
