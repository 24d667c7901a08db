"""The account a clinic command makes for someone who has none yet."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError
from django.core.validators import validate_email

from trellis.accounts.models import User

FIRST_SIGN_IN = (
    "To choose a password, open the sign-in page, follow “Forgot your password?” and use the "
    "link sent to {email}. Two-factor authentication (an authenticator app) must be set up at "
    "the first sign-in, before anything else can be opened."
)


def clean_email(raw: str) -> str:
    email = (raw or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise CommandError(f"{raw!r} is not an email address.") from None
    return email


def account(email: str, name: str, role: str) -> tuple[User, bool]:
    """The account for `email`, made with no usable password (the person chooses one by a
    password reset: no password ever passes through a command line) when there is none."""
    user = User.objects.filter(email=email).first()
    if user is not None:
        return user, False
    if not name.strip():
        raise CommandError("Give the person's name with --name.")
    user = User.objects.create_user(
        email=email, password=None, display_name=name.strip()[:80], role=role
    )
    from allauth.account.models import EmailAddress

    # The operator vouches for the address: the reset link may be sent to it.
    EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
    return user, True


def describe(user: Any) -> str:
    return f"{user.display_name} <{user.email}>"
