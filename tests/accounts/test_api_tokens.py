"""Personal API tokens: shown once, stored hashed, revocable, never in a URL (R23)."""

from __future__ import annotations

import hashlib
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from trellis.accounts.models import ApiToken
from trellis.accounts.services import api_token_create
from trellis.sharing.models import AuditEvent

ME = "/api/accounts/me"


def _bearer(raw: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def test_a_token_made_on_the_settings_page_is_shown_once_and_works(people, client_for):
    alex = client_for(people.alex)
    response = alex.post(reverse("accounts:tokens"), {"name": "my phone"})
    assert response.status_code == 200
    raw = response.context["new_raw"]
    assert raw.startswith(ApiToken.PREFIX)
    assert len(raw) >= len(ApiToken.PREFIX) + 43  # 32 random bytes, url-safe base64
    assert raw in response.content.decode()

    # Shown only once: the page never shows it again.
    later = alex.get(reverse("accounts:tokens"))
    assert raw not in later.content.decode()
    assert "my phone" in later.content.decode()

    me = _bearer(raw).get(ME)
    assert me.status_code == 200
    assert me.json()["email"] == "alex@example.test"
    assert AuditEvent.objects.filter(
        owner=people.alex, action=AuditEvent.Action.TOKEN_CREATED
    ).exists()


def test_a_token_is_stored_only_as_a_hash(people):
    token, raw = api_token_create(user=people.alex, name="laptop")
    token.refresh_from_db()
    assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    stored = [str(v) for v in ApiToken.objects.filter(pk=token.pk).values_list()[0]]
    assert not any(raw in v or raw[len(ApiToken.PREFIX) :] in v for v in stored)


def test_each_token_is_different(people):
    raws = {api_token_create(user=people.alex, name=f"t{i}")[1] for i in range(5)}
    assert len(raws) == 5


def test_a_revoked_token_answers_401(people, client_for):
    token, raw = api_token_create(user=people.alex, name="old phone")
    assert _bearer(raw).get(ME).status_code == 200
    response = client_for(people.alex).post(
        reverse("accounts:tokens"), {"action": "revoke", "token": str(token.pk)}
    )
    assert response.status_code == 302
    revoked = _bearer(raw).get(ME)
    assert revoked.status_code == 401
    assert revoked.json() == {"detail": "Sign in or send a valid bearer token."}


def test_nobody_revokes_another_persons_token(people, client_for):
    token, raw = api_token_create(user=people.alex, name="phone")
    client_for(people.sam).post(
        reverse("accounts:tokens"), {"action": "revoke", "token": str(token.pk)}
    )
    assert _bearer(raw).get(ME).status_code == 200


@pytest.mark.parametrize("param", ["token", "access_token", "bearer", "api_key", "auth"])
def test_a_token_in_the_query_string_is_never_accepted(people, param):
    _, raw = api_token_create(user=people.alex, name="phone")
    assert Client().get(ME, {param: raw}).status_code == 401


@pytest.mark.parametrize(
    "header",
    ["Bearer trl_made-up", "Bearer ", "Token {raw}", "Basic {raw}", "bearer{raw}", "{raw}"],
)
def test_malformed_or_unknown_tokens_answer_401(people, header):
    _, raw = api_token_create(user=people.alex, name="phone")
    response = Client(HTTP_AUTHORIZATION=header.format(raw=raw)).get(ME)
    assert response.status_code == 401


def test_a_deactivated_accounts_token_stops_working(people):
    _, raw = api_token_create(user=people.alex, name="phone")
    people.alex.is_active = False
    people.alex.save(update_fields=["is_active"])
    assert _bearer(raw).get(ME).status_code == 401


def test_a_token_needs_a_name(people, client_for):
    response = client_for(people.alex).post(reverse("accounts:tokens"), {"name": "   "})
    assert response.status_code == 200
    assert "name" in response.context["form"].errors
    assert response.context["new_raw"] is None
    assert not ApiToken.objects.filter(user=people.alex).exists()


def test_the_command_prints_a_working_token(people):
    out = StringIO()
    call_command("create_api_token", "ALEX@example.test", "--name", "script", stdout=out)
    raw = out.getvalue().strip()
    assert raw.startswith(ApiToken.PREFIX)
    assert _bearer(raw).get(ME).json()["display_name"] == "Alex"
    assert ApiToken.objects.get(user=people.alex).name == "script"


def test_the_command_refuses_an_unknown_address(db):
    with pytest.raises(CommandError):
        call_command("create_api_token", "nobody@example.test", stdout=StringIO())
