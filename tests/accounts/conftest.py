from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.personas import PASSWORD


@pytest.fixture
def sign_in():
    """Sign in through allauth's own login form (not force_login), as a person would."""

    def do(client: Client, email: str, password: str = PASSWORD):
        return client.post(reverse("account_login"), {"login": email, "password": password})

    return do
