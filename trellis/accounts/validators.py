from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError

MAX_PASSWORD_LENGTH = 128


class ContextWordValidator:
    """Refuse passwords built around the app's own name (security.md R12)."""

    def validate(self, password: str, user: Any = None) -> None:
        low = password.lower()
        for word in {settings.APP_NAME.lower(), "trellis"}:
            if len(word) >= 4 and word in low:
                raise ValidationError(
                    "Choose a password that does not contain the name of this app.",
                    code="password_context_word",
                )

    def get_help_text(self) -> str:
        return "Your password can't contain the name of this app."


class MaximumLengthValidator:
    def validate(self, password: str, user: Any = None) -> None:
        if len(password) > MAX_PASSWORD_LENGTH:
            raise ValidationError(
                f"Use at most {MAX_PASSWORD_LENGTH} characters.", code="password_too_long"
            )

    def get_help_text(self) -> str:
        return f"Long passphrases are welcome, up to {MAX_PASSWORD_LENGTH} characters."
