"""Signing in: throttling without a lock-out, no enumeration, TOTP for therapists (S6; R14-R16)."""

from __future__ import annotations

from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.test import Client
from django.urls import reverse

from tests.personas import PASSWORD, TOTP_SECRET
from trellis.accounts.models import User

WRONG = "not-the-right-passphrase"
THROTTLED = (
    "Sign-in is paused for a few minutes after several wrong passwords. Please try again shortly."
)


def _form_errors(response) -> list[str]:
    return list(response.context["form"].non_field_errors())


def _is_signed_in(client: Client) -> bool:
    return client.get(reverse("core:home")).status_code == 200


def test_five_wrong_passwords_cool_off_that_network_but_not_the_owner(people, sign_in):
    # Sam (on the shared home network A) tries Alex's password five times.
    home_network = Client(REMOTE_ADDR="203.0.113.7")
    for _ in range(5):
        response = sign_in(home_network, "alex@example.test", WRONG)
        assert response.status_code == 200
        assert THROTTLED not in _form_errors(response)

    # The sixth try from the same network is refused even with the right password...
    response = sign_in(home_network, "alex@example.test", PASSWORD)
    assert response.status_code == 200
    assert _form_errors(response) == [THROTTLED]
    assert not _is_signed_in(home_network)

    # ...but Alex, on the phone's mobile network B, still signs in: no hard lock-out.
    phone = Client(REMOTE_ADDR="198.51.100.23")
    response = sign_in(phone, "alex@example.test", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("core:home")
    assert _is_signed_in(phone)


def test_wrong_passwords_for_one_person_do_not_throttle_another(people, sign_in):
    shared = Client(REMOTE_ADDR="203.0.113.8")
    for _ in range(6):
        sign_in(shared, "alex@example.test", WRONG)
    response = sign_in(shared, "sam@example.test", PASSWORD)
    assert response.status_code == 302
    assert _is_signed_in(shared)


def test_a_forwarded_for_header_cannot_pick_a_fresh_throttle_bucket(people, sign_in):
    client = Client(REMOTE_ADDR="203.0.113.9")
    for i in range(5):
        client.post(
            reverse("account_login"),
            {"login": "alex@example.test", "password": WRONG},
            HTTP_X_FORWARDED_FOR=f"10.0.0.{i}",
        )
    response = client.post(
        reverse("account_login"),
        {"login": "alex@example.test", "password": PASSWORD},
        HTTP_X_FORWARDED_FOR="10.9.9.9",
    )
    assert _form_errors(response) == [THROTTLED]


def test_unknown_address_and_wrong_password_read_the_same(people, sign_in):
    wrong = sign_in(Client(), "alex@example.test", WRONG)
    unknown = sign_in(Client(), "nobody-here@example.test", WRONG)
    assert wrong.status_code == unknown.status_code == 200
    assert _form_errors(wrong) == _form_errors(unknown)
    assert len(_form_errors(wrong)) == 1
    # Neither page gives the address away as known or unknown.
    for response in (wrong, unknown):
        body = response.content.decode().lower()
        assert "no account" not in body
        assert "does not exist" not in body


def test_password_reset_reads_the_same_for_unknown_addresses(people, client):
    from django.core import mail

    known = client.post(reverse("account_reset_password"), {"email": "alex@example.test"})
    unknown = Client().post(reverse("account_reset_password"), {"email": "ghost@example.test"})
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
    # Only the known address gets a reset link (the unknown one is told nothing different).
    reset_links = [m for m in mail.outbox if "/password/reset/key/" in m.body]
    assert [m.to for m in reset_links] == [["alex@example.test"]]


def _therapist_without_totp() -> User:
    return User.objects.create_user(
        email="new-therapist@example.test",
        password=PASSWORD,
        display_name="Dr. New",
        role=User.Role.THERAPIST,
    )


def test_a_therapist_without_totp_is_sent_to_set_it_up(db, sign_in):
    _therapist_without_totp()
    client = Client()
    assert sign_in(client, "new-therapist@example.test").status_code == 302
    for page in ("core:home", "journal:list", "couples:home", "sharing:overview"):
        response = client.get(reverse(page))
        assert response.status_code == 302, page
        assert response["Location"] == reverse("mfa_activate_totp")
    # The set-up page is reachable; allauth asks for the password again first (R18).
    setup = client.get(reverse("mfa_activate_totp"))
    assert setup.status_code == 302
    assert setup["Location"].startswith(reverse("account_reauthenticate"))
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    setup = client.get(reverse("mfa_activate_totp"))
    assert setup.status_code == 200
    assert "code" in setup.context["form"].fields


def test_a_therapist_without_totp_gets_403_json_from_the_api(db, client_for):
    client = client_for(_therapist_without_totp())
    response = client.get("/api/accounts/me")
    assert response.status_code == 403
    assert response["Content-Type"].startswith("application/json")
    assert "Two-factor" in response.json()["detail"]


def test_a_clinic_admin_without_totp_is_also_sent_to_set_it_up(db, client_for):
    admin = User.objects.create_user(
        email="admin2@example.test", password=PASSWORD, display_name="Admin", is_staff=True
    )
    response = client_for(admin).get(reverse("journal:list"))
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_activate_totp")


def test_a_partner_needs_no_totp(people, client_for):
    assert client_for(people.alex).get(reverse("core:home")).status_code == 200


def _current_code() -> str:
    import time

    return format_hotp_value(hotp_value(TOTP_SECRET, int(time.time()) // 30))


def test_a_therapist_with_totp_gets_the_second_factor_stage_not_a_session(people, sign_in):
    client = Client()
    response = sign_in(client, "lee@example.test")
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")
    # The password alone is not a session.
    home = client.get(reverse("core:home"))
    assert home.status_code == 302
    assert home["Location"].startswith(reverse("account_login"))
    assert client.get("/api/accounts/me").status_code == 401

    # A wrong code keeps them out.
    stage = client.post(reverse("mfa_authenticate"), {"code": "000000"})
    assert stage.status_code == 200
    assert stage.context["form"].errors
    assert client.get(reverse("core:home")).status_code == 302

    # The right code completes the sign-in.
    done = client.post(reverse("mfa_authenticate"), {"code": _current_code()})
    assert done.status_code == 302
    assert client.get(reverse("core:home")).status_code == 200


def test_a_totp_code_works_only_once(people, sign_in):
    code = _current_code()
    first = Client()
    sign_in(first, "lee@example.test")
    assert first.post(reverse("mfa_authenticate"), {"code": code}).status_code == 302

    second = Client(REMOTE_ADDR="198.51.100.40")
    sign_in(second, "lee@example.test")
    replay = second.post(reverse("mfa_authenticate"), {"code": code})
    assert replay.status_code == 200
    assert second.get(reverse("core:home")).status_code == 302
