"""Password reset: neutral email, single use, at most one hour, never signs in (S6; R17)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import time_machine
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse

from tests.personas import PASSWORD
from trellis.journal.services import journal_entry_create

NEW_PASSWORD = "a-brand-new-passphrase-9"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _request_reset(client: Client, email: str) -> str:
    mail.outbox.clear()
    response = client.post(reverse("account_reset_password"), {"email": email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    match = re.search(
        r"https?://testserver(/accounts/password/reset/key/\S+/)", mail.outbox[0].body
    )
    assert match, "the email must hold a reset link"
    return match.group(1)


def _use_link(client: Client, link: str, password: str = NEW_PASSWORD):
    """Follow the link and set a password; returns the final response."""
    opened = client.get(link)
    if opened.status_code != 302:
        return opened  # allauth renders the "bad token" page directly
    return client.post(opened["Location"], {"password1": password, "password2": password})


def _token_failed(response) -> bool:
    return response.status_code == 200 and bool(response.context.get("token_fail"))


def _signs_in(email: str, password: str) -> bool:
    client = Client(REMOTE_ADDR="198.51.100.77")
    response = client.post(reverse("account_login"), {"login": email, "password": password})
    return response.status_code == 302


def test_reset_timeout_is_at_most_one_hour():
    assert 60 <= settings.PASSWORD_RESET_TIMEOUT <= 3600


def test_reset_email_has_a_neutral_subject_and_no_content(people, client):
    journal_entry_create(
        author=people.alex, body="CANARY-7731 evening walk", title="CANARY-TITLE", audience="me"
    )
    _request_reset(client, "alex@example.test")
    message = mail.outbox[0]
    assert message.to == ["alex@example.test"]
    subject = message.subject.lower()
    for word in ("alex", "sam", "recovery", "addiction", "journal", "couple", "partner", "therap"):
        assert word not in subject
    for text in (message.subject, message.body):
        assert "CANARY" not in text
        assert "Alex" not in text


def test_a_reset_link_works_once_and_does_not_sign_in(people, client):
    link = _request_reset(client, "alex@example.test")
    done = _use_link(client, link)
    assert done.status_code == 302
    assert done["Location"] == reverse("account_reset_password_from_key_done")

    # The reset did not start a session.
    home = client.get(reverse("core:home"))
    assert home.status_code == 302
    assert home["Location"].startswith(reverse("account_login"))

    # The new password works, the old one no longer does.
    assert _signs_in("alex@example.test", NEW_PASSWORD)
    assert not _signs_in("alex@example.test", PASSWORD)

    # The same link a second time is refused, and the password stays as set.
    again = _use_link(Client(), link, password="someone-elses-passphrase-3")
    assert _token_failed(again)
    assert _signs_in("alex@example.test", NEW_PASSWORD)


def test_a_reset_link_still_works_just_under_the_timeout(people):
    with time_machine.travel(START, tick=False) as clock:
        client = Client()
        link = _request_reset(client, "alex@example.test")
        clock.shift(timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT - 30))
        assert _use_link(client, link).status_code == 302


def test_a_reset_link_fails_after_the_timeout(people):
    with time_machine.travel(START, tick=False) as clock:
        client = Client()
        link = _request_reset(client, "alex@example.test")
        clock.shift(timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 1))
        assert _token_failed(_use_link(client, link))
    assert _signs_in("alex@example.test", PASSWORD)


def test_a_reset_does_not_skip_the_second_factor(people, client):
    link = _request_reset(client, "lee@example.test")
    assert _use_link(client, link).status_code == 302
    fresh = Client()
    response = fresh.post(
        reverse("account_login"), {"login": "lee@example.test", "password": NEW_PASSWORD}
    )
    assert response["Location"] == reverse("mfa_authenticate")
    assert fresh.get(reverse("core:home")).status_code == 302
