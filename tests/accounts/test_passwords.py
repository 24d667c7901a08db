"""Sign-up and passwords (QUALITY S6; security.md R12, R13)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher, get_hasher, make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse

from trellis.accounts.hashers import FastArgon2PasswordHasher
from trellis.accounts.models import User

ROOT = Path(__file__).resolve().parents[2]
GOOD = "an-ordinary-passphrase-77"


def test_a_new_person_is_stored_with_an_argon2_hash(people):
    assert people.alex.password.startswith("argon2")
    people.alex.refresh_from_db()
    assert people.alex.password.startswith("argon2$argon2id$")
    assert people.alex.check_password("a-long-test-passphrase-42")


def test_the_test_hasher_is_still_argon2():
    # The suite swaps in a cheap Argon2 so it runs fast; it must still be Argon2 (R13).
    assert settings.PASSWORD_HASHERS[0] == "trellis.accounts.hashers.FastArgon2PasswordHasher"
    assert issubclass(FastArgon2PasswordHasher, Argon2PasswordHasher)
    assert get_hasher("default").algorithm == "argon2"


def test_production_settings_put_argon2_first(tmp_path):
    # Outside pytest the settings must choose Django's full-strength Argon2 hasher first.
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TRELLIS_", "DJANGO_", "DATABASE_URL", "PYTEST"))
    }
    env.update(TRELLIS_VAR_DIR=str(tmp_path), TRELLIS_ENV="local")
    code = "import trellis.settings as s; print('\\n'.join(s.PASSWORD_HASHERS))"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    hashers = out.stdout.split()
    assert hashers[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    assert "trellis.accounts.hashers.FastArgon2PasswordHasher" not in hashers


def test_a_legacy_hash_is_upgraded_to_argon2_on_sign_in(people, client, sign_in):
    User.objects.filter(pk=people.alex.pk).update(
        password=make_password("a-long-test-passphrase-42", hasher="pbkdf2_sha256")
    )
    response = sign_in(client, "alex@example.test")
    assert response.status_code == 302
    people.alex.refresh_from_db()
    assert people.alex.password.startswith("argon2")


def test_sign_up_creates_a_partner_with_a_display_name(db, client):
    response = client.post(
        reverse("account_signup"),
        {
            "email": "jo@example.test",
            "display_name": "  Jo  ",
            "password1": GOOD,
            "password2": GOOD,
        },
    )
    assert response.status_code == 302
    jo = User.objects.get(email="jo@example.test")
    assert jo.display_name == "Jo"
    assert jo.role == User.Role.MEMBER
    assert jo.password.startswith("argon2")
    # Signed in straight away, as a partner (no second factor needed).
    assert client.get(reverse("core:home")).status_code == 200


def test_sign_up_never_grants_a_role_that_was_posted(db, client):
    # Mass assignment: extra fields in the POST must not pick a privileged role.
    client.post(
        reverse("account_signup"),
        {
            "email": "mallory@example.test",
            "display_name": "Mallory",
            "password1": GOOD,
            "password2": GOOD,
            "role": "therapist",
            "is_staff": "on",
            "is_superuser": "on",
            "accepts_confidences": "on",
        },
    )
    mallory = User.objects.get(email="mallory@example.test")
    assert mallory.role == User.Role.MEMBER
    assert not mallory.is_staff
    assert not mallory.is_superuser
    assert not mallory.accepts_confidences


def test_sign_up_needs_a_display_name(db, client):
    response = client.post(
        reverse("account_signup"),
        {"email": "nameless@example.test", "password1": GOOD, "password2": GOOD},
    )
    assert response.status_code == 200
    assert "display_name" in response.context["form"].errors
    assert not User.objects.filter(email="nameless@example.test").exists()


def _codes(password: str, user=None) -> set[str]:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        return {e.code for e in exc.error_list}
    return set()


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("short-pw1", "password_too_short"),
        ("password123", "password_too_common"),
        ("my-Trellis-garden-2024", "password_context_word"),
        ("x7-" * 43, "password_too_long"),  # 129 characters
    ],
)
def test_weak_or_overlong_passwords_are_refused(password, code):
    assert code in _codes(password)


def test_a_long_passphrase_is_welcome():
    passphrase = "the quiet harbour at dawn holds every small boat we once named o"
    assert len(passphrase) == 64
    assert _codes(passphrase) == set()


def test_exactly_128_characters_is_accepted_and_129_is_not():
    ok = ("river-stone-" * 11)[:128]
    assert len(ok) == 128
    assert _codes(ok) == set()
    assert "password_too_long" in _codes(ok + "x")


def test_the_password_may_not_resemble_the_email(people):
    assert "password_too_similar" in _codes("alex@example.test", people.alex)


def test_sign_up_shows_the_password_rule_on_the_password_field(db, client):
    response = client.post(
        reverse("account_signup"),
        {
            "email": "kit@example.test",
            "display_name": "Kit",
            "password1": "trellis-trellis-trellis",
            "password2": "trellis-trellis-trellis",
        },
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "password1" in errors
    assert "name of this app" in " ".join(errors["password1"])
    assert not User.objects.filter(email="kit@example.test").exists()
