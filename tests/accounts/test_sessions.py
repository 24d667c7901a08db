"""Sessions: 30 min idle, 12 h absolute, lifecycle, the sessions page (S6; R20-R22)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine
from allauth.usersessions.models import UserSession
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from tests.personas import PASSWORD

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
EXPIRED = reverse("account_login") + "?expired=1"
NEW_PASSWORD = "a-changed-passphrase-31"


def _home(client: Client):
    return client.get(reverse("core:home"))


def _signed_in_client(sign_in, email: str = "alex@example.test", **extra) -> Client:
    client = Client(**extra)
    assert sign_in(client, email).status_code == 302
    return client


def test_the_limits_are_30_minutes_idle_and_12_hours_absolute():
    assert settings.SESSION_IDLE_SECONDS == 30 * 60
    assert settings.SESSION_ABSOLUTE_SECONDS == 12 * 3600
    assert settings.SESSION_COOKIE_AGE <= settings.SESSION_ABSOLUTE_SECONDS


def test_a_session_idle_past_30_minutes_ends(people, sign_in):
    with time_machine.travel(START, tick=False) as clock:
        client = _signed_in_client(sign_in)
        assert _home(client).status_code == 200
        clock.shift(timedelta(minutes=31))
        response = _home(client)
        assert response.status_code == 302
        assert response["Location"] == EXPIRED
        # Ended for good: the next request is simply signed out.
        again = _home(client)
        assert again.status_code == 302
        assert again["Location"].startswith(reverse("account_login") + "?next=")


def test_a_session_idle_for_29_minutes_lives_on(people, sign_in):
    with time_machine.travel(START, tick=False) as clock:
        client = _signed_in_client(sign_in)
        assert _home(client).status_code == 200
        clock.shift(timedelta(minutes=29))
        assert _home(client).status_code == 200
        clock.shift(timedelta(minutes=29))
        assert _home(client).status_code == 200


def test_idle_time_counts_from_the_sign_in_itself(people, sign_in):
    # Sign in, walk away without opening another page: the session must still time out.
    with time_machine.travel(START, tick=False) as clock:
        client = _signed_in_client(sign_in)
        clock.shift(timedelta(minutes=31))
        response = _home(client)
        assert response.status_code == 302
        assert response["Location"] == EXPIRED


def test_a_session_ends_after_12_hours_even_with_activity(people, sign_in):
    with time_machine.travel(START, tick=False) as clock:
        client = _signed_in_client(sign_in)
        assert _home(client).status_code == 200
        # Activity every 20 minutes: 36 steps reach exactly 12 hours, still allowed.
        for step in range(36):
            clock.shift(timedelta(minutes=20))
            assert _home(client).status_code == 200, f"refused after {(step + 1) * 20} min"
        clock.shift(timedelta(minutes=20))
        response = _home(client)
        assert response.status_code == 302
        assert response["Location"] == EXPIRED


def test_an_expired_session_answers_401_on_the_api(people, sign_in):
    with time_machine.travel(START, tick=False) as clock:
        client = _signed_in_client(sign_in)
        assert client.get("/api/accounts/me").status_code == 200
        clock.shift(timedelta(minutes=31))
        assert client.get("/api/accounts/me").status_code == 401


def test_signing_in_gives_a_new_session_key(people, client, sign_in):
    client.get(reverse("account_login"))
    client.session.save()
    before = client.session.session_key
    sign_in(client, "alex@example.test")
    assert client.session.session_key != before


def test_signing_out_deletes_the_server_side_session(people, sign_in):
    client = _signed_in_client(sign_in)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert Session.objects.filter(session_key=cookie).exists()
    client.post(reverse("account_logout"))
    assert not Session.objects.filter(session_key=cookie).exists()
    replay = Client()
    replay.cookies[settings.SESSION_COOKIE_NAME] = cookie
    assert _home(replay).status_code == 302


def test_a_password_change_ends_the_other_sessions(people, sign_in):
    laptop = _signed_in_client(sign_in, HTTP_USER_AGENT="Laptop")
    phone = _signed_in_client(sign_in, HTTP_USER_AGENT="Phone")
    assert _home(phone).status_code == 200

    response = laptop.post(
        reverse("account_change_password"),
        {"oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    # The person who changed it stays signed in; every other session is over.
    assert _home(laptop).status_code == 200
    ended = _home(phone)
    assert ended.status_code == 302
    assert ended["Location"].startswith(reverse("account_login"))
    assert phone.get("/api/accounts/me").status_code == 401


def test_the_sessions_page_lists_each_signed_in_device(people, sign_in):
    laptop = _signed_in_client(sign_in, HTTP_USER_AGENT="TestBrowser/Laptop")
    _signed_in_client(sign_in, HTTP_USER_AGENT="TestBrowser/Phone")
    _signed_in_client(sign_in, "sam@example.test", HTTP_USER_AGENT="TestBrowser/SamsPhone")

    page = laptop.get(reverse("usersessions_list"))
    assert page.status_code == 200
    assert page.context["session_count"] == 2
    body = page.content.decode()
    assert "TestBrowser/Laptop" in body
    assert "TestBrowser/Phone" in body
    assert "SamsPhone" not in body  # only Alex's own sessions


def test_signing_out_other_sessions_from_the_sessions_page(people, sign_in):
    laptop = _signed_in_client(sign_in, HTTP_USER_AGENT="Laptop")
    phone = _signed_in_client(sign_in, HTTP_USER_AGENT="Phone")
    response = laptop.post(reverse("usersessions_list"))
    assert response.status_code == 302
    assert _home(laptop).status_code == 200
    assert _home(phone).status_code == 302
    assert UserSession.objects.filter(user=people.alex).count() == 1
