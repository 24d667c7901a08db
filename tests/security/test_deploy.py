"""S5 / security.md R24: production settings pass `check --deploy` with no warning, refuse to
start without their secrets, and give `__Host-` cookies with the right flags."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.test import Client, override_settings

from tests.personas import PASSWORD, make_user

BASE_DIR = Path(__file__).resolve().parents[2]
HOST = "trellis.example.org"


def prod_env(tmp_path: Path, **overrides: str | None) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("TRELLIS_")
        and k not in {"DJANGO_SETTINGS_MODULE", "PYTEST_VERSION", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "trellis.settings",
            "TRELLIS_ENV": "production",
            "TRELLIS_SECRET_KEY": secrets.token_urlsafe(64),
            "TRELLIS_FIELD_KEYS": Fernet.generate_key().decode(),
            "TRELLIS_ALLOWED_HOSTS": HOST,
            "TRELLIS_VAR_DIR": str(tmp_path),
            "TRELLIS_SQLITE_PATH": str(tmp_path / "prod.sqlite3"),
        }
    )
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def check_deploy(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    result = check_deploy(prod_env(tmp_path))
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues (0 silenced)." in output, output
    assert "WARNING" not in output.upper().replace("--FAIL-LEVEL WARNING", "")


@pytest.mark.parametrize(
    ("overrides", "expect"),
    [
        # Each of these is a real mistake an operator can make; each must stop the deployment.
        ({"TRELLIS_SECRET_KEY": None}, "TRELLIS_SECRET_KEY"),
        ({"TRELLIS_FIELD_KEYS": None}, "TRELLIS_FIELD_KEYS"),
        ({"TRELLIS_ALLOWED_HOSTS": None}, "TRELLIS_ALLOWED_HOSTS"),
        ({"TRELLIS_DEBUG": "true"}, "TRELLIS_DEBUG"),
        ({"TRELLIS_SECRET_KEY": "too-short"}, "security.W009"),
        ({"TRELLIS_SSL_REDIRECT": "false"}, "security.W008"),
    ],
)
def test_check_deploy_fails_on_a_bad_production_setup(tmp_path, overrides, expect):
    result = check_deploy(prod_env(tmp_path, **overrides))
    assert result.returncode != 0
    assert expect in result.stdout + result.stderr


COOKIE_SETTINGS = [
    "SESSION_COOKIE_NAME",
    "SESSION_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SAMESITE",
    "SESSION_COOKIE_PATH",
    "SESSION_COOKIE_DOMAIN",
    "CSRF_COOKIE_NAME",
    "CSRF_COOKIE_SECURE",
    "CSRF_COOKIE_HTTPONLY",
    "CSRF_COOKIE_SAMESITE",
    "CSRF_COOKIE_PATH",
    "CSRF_COOKIE_DOMAIN",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_CONTENT_TYPE_NOSNIFF",
    "SECURE_REFERRER_POLICY",
    "SECURE_CROSS_ORIGIN_OPENER_POLICY",
    "X_FRAME_OPTIONS",
    "DEBUG",
]


def production_settings(tmp_path: Path) -> dict[str, object]:
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        f"print(json.dumps({{k: getattr(settings, k) for k in {COOKIE_SETTINGS!r}}}))"
    )
    result = run(["-c", code], prod_env(tmp_path))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def prod_settings(tmp_path_factory):
    return production_settings(tmp_path_factory.mktemp("prod"))


def test_production_settings_values(prod_settings):
    s = prod_settings
    assert s["DEBUG"] is False
    assert s["SESSION_COOKIE_NAME"] == "__Host-sessionid"
    assert s["CSRF_COOKIE_NAME"] == "__Host-csrftoken"
    assert s["SESSION_COOKIE_SECURE"] is True and s["CSRF_COOKIE_SECURE"] is True
    assert s["SESSION_COOKIE_HTTPONLY"] is True
    assert s["SESSION_COOKIE_SAMESITE"] == "Lax"
    # __Host- cookies must have Path=/ and no Domain, or browsers refuse them.
    assert s["SESSION_COOKIE_PATH"] == "/" and s["SESSION_COOKIE_DOMAIN"] is None
    assert s["CSRF_COOKIE_PATH"] == "/" and s["CSRF_COOKIE_DOMAIN"] is None
    assert s["SECURE_SSL_REDIRECT"] is True
    assert s["SECURE_HSTS_SECONDS"] >= 31536000 and s["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert s["SECURE_HSTS_PRELOAD"] is True


@pytest.mark.django_db
def test_cookies_under_production_settings(prod_settings):
    """A real sign-in over HTTPS with the production cookie settings."""
    make_user("casey-cookie@example.test", "Casey")
    with override_settings(**prod_settings):
        client = Client()
        page = client.get("/accounts/login/", secure=True)
        assert page.status_code == 200
        csrf = page.cookies["__Host-csrftoken"]
        resp = client.post(
            "/accounts/login/",
            {"login": "casey-cookie@example.test", "password": PASSWORD},
            secure=True,
        )
        assert resp.status_code == 302, resp.content[:300]
        session = resp.cookies["__Host-sessionid"]
        for cookie in (session, csrf):
            assert cookie["secure"] is True
            assert cookie["path"] == "/"
            assert not cookie["domain"]
            assert cookie["samesite"] == "Lax"
        assert session["httponly"] is True
        assert csrf["httponly"] is True
        assert "trellis_session" not in resp.cookies
        # Over plain HTTP, production redirects to HTTPS before anything else happens.
        plain = Client().get("/accounts/login/")
        assert plain.status_code == 301
        assert plain["Location"].startswith("https://")
