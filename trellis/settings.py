"""Trellis settings: one file, driven by environment variables (see .env.example).

TRELLIS_ENV=local (the default) runs on http://127.0.0.1 with generated local secrets.
TRELLIS_ENV=production demands real secrets and turns on HTTPS-only cookies, HSTS and redirects;
`manage.py check --deploy` must be clean there (tests/security/test_deploy.py).
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from trellis.env import env_bool, env_choice, env_int, env_json, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("TRELLIS_VAR_DIR", str(BASE_DIR / "var")))
TESTING = "pytest" in sys.modules or env_bool("TRELLIS_TESTING", False)
ENV = env_choice("TRELLIS_ENV", "local", ("local", "production"))
PRODUCTION = ENV == "production"
DEBUG = env_bool("TRELLIS_DEBUG", False)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("TRELLIS_DEBUG must be off when TRELLIS_ENV=production.")


def _local_secret(filename: str, make: str) -> str:
    """A random secret kept in var/ so a fresh clone runs without configuration (never in prod)."""
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    path = VAR_DIR / filename
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(make)
    return make


def _fernet_key() -> str:
    import base64

    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


if PRODUCTION:
    SECRET_KEY = env_str("TRELLIS_SECRET_KEY")
    FIELD_ENCRYPTION_KEYS = env_list("TRELLIS_FIELD_KEYS", [])
    if not FIELD_ENCRYPTION_KEYS:
        raise ImproperlyConfigured("TRELLIS_FIELD_KEYS must hold at least one key in production.")
elif TESTING:
    SECRET_KEY = "test-only-secret-key-" + "x" * 40
    # Fixed test keys: the first encrypts, the second exists only to exercise rotation.
    FIELD_ENCRYPTION_KEYS = env_list(
        "TRELLIS_FIELD_KEYS",
        [
            "l5T6N0f8X9q0r2u4w6y8A0C2E4G6I8K0M2O4Q6S8U0Y=",
            "ZmFrZS1vbGQta2V5LWZvci1yb3RhdGlvbi10ZXN0cyE=",
        ],
    )
else:
    SECRET_KEY = env_str("TRELLIS_SECRET_KEY", "") or _local_secret(
        "secret_key", secrets.token_urlsafe(50)
    )
    FIELD_ENCRYPTION_KEYS = env_list("TRELLIS_FIELD_KEYS", []) or [
        _local_secret("field_key", _fernet_key())
    ]

ALLOWED_HOSTS = env_list(
    "TRELLIS_ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"]
)
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("TRELLIS_ALLOWED_HOSTS must name the host(s) Trellis serves.")
CSRF_TRUSTED_ORIGINS = env_list("TRELLIS_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.usersessions",
    "csp",
    "huey.contrib.djhuey",
    "trellis.core",
    "trellis.accounts",
    "trellis.couples",
    "trellis.sharing",
    "trellis.recovery",
    "trellis.journal",
    "trellis.checkins",
    "trellis.meetings",
    "trellis.agreements",
    "trellis.clinic",
    "trellis.dashboard",
    "trellis.api",
    "trellis.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Pages compressed on the wire (QUALITY P7); static files come pre-compressed from
    # WhiteNoise above. Django's GZip pads each response against BREACH, and CSRF tokens are
    # masked per response.
    "django.middleware.gzip.GZipMiddleware",
    "trellis.core.middleware.RequestLogMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "trellis.accounts.middleware.SessionLimitsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "allauth.usersessions.middleware.UserSessionsMiddleware",
    "trellis.accounts.middleware.RequireTwoFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "trellis.core.middleware.PrivateCacheMiddleware",
]

ROOT_URLCONF = "trellis.urls"
WSGI_APPLICATION = "trellis.wsgi.application"
AUTH_USER_MODEL = "accounts.User"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "trellis.core.context_processors.trellis",
            ],
            "string_if_invalid": "",
        },
    }
]
FORM_RENDERER = "trellis.lib.form_renderer.FastFormRenderer"  # widget HTML built in Python

# --- Database ------------------------------------------------------------------------------
# SQLite: WAL + IMMEDIATE transactions + a busy timeout, so concurrent writers queue instead of
# failing with "database is locked" (security.md R45). synchronous=FULL keeps acknowledged
# commits through a power loss, not only a process crash (R46).
SQLITE_PATH = Path(env_str("TRELLIS_SQLITE_PATH", str(VAR_DIR / "trellis.sqlite3")))
_db_url = env_str("DATABASE_URL", "")
if _db_url:
    DATABASES = {
        "default": dj_database_url.parse(_db_url, conn_max_age=60, conn_health_checks=True)
    }
    if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
        raise ImproperlyConfigured("Leave DATABASE_URL unset for SQLite; set TRELLIS_SQLITE_PATH.")
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(SQLITE_PATH),
            # One connection per worker, kept between requests (as for PostgreSQL): opening
            # the file and running the PRAGMAs below on every request cost more than most pages.
            "CONN_MAX_AGE": 60,
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
                ),
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (rate limits must be shared across worker processes) ------------------------------
REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "trellis_cache",
        }
    }

# --- Background work (huey): SQLite-backed by default, Redis when REDIS_URL is set -----------
if REDIS_URL:
    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": "trellis",
        "url": REDIS_URL,
        "immediate": TESTING,
    }
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "trellis",
        "filename": str(VAR_DIR / "huey.sqlite3"),
        "immediate": TESTING,
    }

# --- Accounts, passwords, sessions --------------------------------------------------------------
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if TESTING and not env_bool("TRELLIS_TEST_REAL_HASHER", False):
    # Argon2 at 100 MiB per hash would dominate the suite; tests/accounts checks argon2 itself.
    PASSWORD_HASHERS = ["trellis.accounts.hashers.FastArgon2PasswordHasher", *PASSWORD_HASHERS]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "trellis.accounts.validators.ContextWordValidator"},
    {"NAME": "trellis.accounts.validators.MaximumLengthValidator"},
]
AUTHENTICATION_BACKENDS = ["allauth.account.auth_backends.AuthenticationBackend"]
PASSWORD_RESET_TIMEOUT = env_int("TRELLIS_PASSWORD_RESET_SECONDS", 3600, minimum=60)
if PASSWORD_RESET_TIMEOUT > 3600:
    raise ImproperlyConfigured("TRELLIS_PASSWORD_RESET_SECONDS must be at most 3600 (one hour).")

SESSION_IDLE_SECONDS = env_int("TRELLIS_SESSION_IDLE_SECONDS", 30 * 60, minimum=60)
SESSION_ABSOLUTE_SECONDS = env_int("TRELLIS_SESSION_ABSOLUTE_SECONDS", 12 * 3600, minimum=300)
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_SECONDS
SESSION_ENGINE = "django.contrib.sessions.backends.db"
HTTPS = PRODUCTION or env_bool("TRELLIS_HTTPS", False)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SESSION_COOKIE_NAME = "__Host-sessionid" if HTTPS else "trellis_session"
CSRF_COOKIE_NAME = "__Host-csrftoken" if HTTPS else "trellis_csrf"
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
CSRF_FAILURE_VIEW = "trellis.core.views.csrf_failure"
SECURE_SSL_REDIRECT = HTTPS and env_bool("TRELLIS_SSL_REDIRECT", True)
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("TRELLIS_BEHIND_PROXY", False) else None
)
SECURE_HSTS_SECONDS = 31536000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
# The HSTS "preload" token (check --deploy's security.W021). On by default so the deployment
# check is clean (security.md R24); an operator whose parent domain has hosts that can't all do
# HTTPS sets TRELLIS_HSTS_PRELOAD=false, and that deliberate choice silences W021 by name.
SECURE_HSTS_PRELOAD = HTTPS and env_bool("TRELLIS_HSTS_PRELOAD", True)
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SILENCED_SYSTEM_CHECKS: list[str] = ["security.W021"] if HTTPS and not SECURE_HSTS_PRELOAD else []

LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "account_login"

ACCOUNT_ADAPTER = "trellis.accounts.adapter.AccountAdapter"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_SIGNUP_FORM_CLASS = "trellis.accounts.forms.SignupExtraForm"
ACCOUNT_EMAIL_VERIFICATION = "optional"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = ""
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if HTTPS else "http"
ACCOUNT_REAUTHENTICATION_TIMEOUT = 300
# Failed sign-ins are throttled per (address, network address) with a cool-off, never a hard
# lock: a partner typing wrong passwords cannot lock the other out from another network
# (security.md R15). The adapter adds the client address to the key.
ACCOUNT_RATE_LIMITS = {
    "login_failed": env_str("TRELLIS_LOGIN_FAILED_LIMIT", "20/m/ip,5/300s/key"),
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "signup": "20/m/ip",
    "change_password": "5/m/user",
    "reauthenticate": "10/m/user",
    "login": "30/m/ip",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = env_str("TRELLIS_APP_NAME", "Trellis")
MFA_ADAPTER = "allauth.mfa.adapter.DefaultMFAAdapter"
# Recorded at sign-in; not refreshed per request (that would be a database write on every page).
ALLAUTH_TRUSTED_PROXY_COUNT = 1 if env_bool("TRELLIS_BEHIND_PROXY", False) else 0
USERSESSIONS_TRACK_ACTIVITY = False

EMAIL_BACKEND = env_str("TRELLIS_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("TRELLIS_EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("TRELLIS_EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("TRELLIS_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = env_str("TRELLIS_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = env_bool("TRELLIS_EMAIL_TLS", True)
DEFAULT_FROM_EMAIL = env_str("TRELLIS_FROM_EMAIL", "Trellis <no-reply@localhost>")
# "I'm struggling" may email the support contacts a person marked — only when real email is
# configured (not the console backend), or when this says so. Neutral subject and body, always.
SUPPORT_EMAILS = env_bool(
    "TRELLIS_SUPPORT_EMAILS",
    not EMAIL_BACKEND.endswith(("console.EmailBackend", "dummy.EmailBackend")),
)
if TESTING:
    EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

# --- Content security policy: no inline script or style anywhere -----------------------------
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "object-src": [NONE],
        "base-uri": [NONE],
        "manifest-src": [SELF],
    }
}

# --- Static files ------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if TESTING or DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Trellis itself -------------------------------------------------------------------------
APP_NAME = env_str("TRELLIS_APP_NAME", "Trellis")
QUICK_EXIT_URL = env_str("TRELLIS_QUICK_EXIT_URL", "https://www.wikipedia.org/")
INVITATION_HOURS = env_int("TRELLIS_INVITATION_HOURS", 72, minimum=1)
# Crisis lines shown on every page's help link. Configure per deployment and locale; each
# entry: {"name", "how", "detail"}. The defaults are US lines (clinical/REFERENCE.md §5, [V]).
CRISIS_RESOURCES = env_json(
    "TRELLIS_CRISIS_RESOURCES",
    [
        {
            "name": "Emergency services",
            "how": "Call 911",
            "tel": "911",
            "detail": "If you or someone else is in immediate danger (United States).",
        },
        {
            "name": "988 Suicide & Crisis Lifeline",
            "how": "Call or text 988",
            "tel": "988",
            "detail": "Free, confidential, 24/7, for any emotional or substance-use crisis (US and Canada).",
        },
        {
            "name": "SAMHSA National Helpline",
            "how": "Call 1-800-662-4357",
            "tel": "18006624357",
            "detail": "Free treatment referral and information, 24/7, English and Spanish (US).",
        },
        {
            "name": "Outside the US",
            "how": "Call your local emergency number",
            "tel": "",
            "detail": "Your clinic can add the lines for your country here.",
        },
    ],
)
if not isinstance(CRISIS_RESOURCES, list) or not all(
    isinstance(r, dict) and {"name", "how", "detail"} <= set(r) for r in CRISIS_RESOURCES
):
    raise ImproperlyConfigured("TRELLIS_CRISIS_RESOURCES must be a list of {name, how, detail}.")

NINJA_PAGINATION_PER_PAGE = 50
NINJA_PAGINATION_MAX_LIMIT = 100

# --- Logging: structured, one JSON object a line, never entry content -------------------------
LOG_LEVEL = env_choice("TRELLIS_LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR"))
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "trellis.core.logging.JsonFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Django's request logger would print request bodies' repr on some errors; we log our own.
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
        "django.security": {"handlers": ["console"], "level": "WARNING", "propagate": False},
    },
}
