"""Field-level encryption of the free text people write.

`EncryptedTextField` stores a Fernet token (AES-128-CBC + HMAC-SHA256). Keys come from
settings.FIELD_ENCRYPTION_KEYS, newest first: the first encrypts, all decrypt, so a key can be
rotated without downtime (`manage.py rotate_field_keys` re-encrypts every row with the newest).
The clear text is never stored, logged, indexed or put into history/audit rows.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

PREFIX = "fernet:"


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is empty.")
    try:
        return MultiFernet([Fernet(k.encode()) for k in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(
            "Each FIELD_ENCRYPTION_KEYS entry must be 32 url-safe base64-encoded bytes."
        ) from exc


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(text: str) -> str:
    return PREFIX + fernet().encrypt(text.encode("utf-8")).decode("ascii")


def decrypt(stored: str) -> str:
    if not stored.startswith(PREFIX):
        raise ValueError("Value is not an encrypted token.")
    try:
        return fernet().decrypt(stored[len(PREFIX) :].encode("ascii")).decode("utf-8")
    except InvalidToken:
        # Never fall back to showing the stored bytes: say plainly that a key is missing.
        raise ImproperlyConfigured(
            "An encrypted field could not be decrypted: is its key in TRELLIS_FIELD_KEYS?"
        ) from None


def rotate(stored: str) -> str:
    """Re-encrypt a stored token with the newest key (no-op content-wise)."""
    token = fernet().rotate(stored[len(PREFIX) :].encode("ascii"))
    return PREFIX + token.decode("ascii")


class EncryptedTextField(models.TextField):
    """A TextField whose database value is always a Fernet token; Python sees clear text."""

    description = "Text encrypted at rest"

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None:
            return None
        return encrypt(str(value))

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None:
            return None
        return decrypt(value)

    def get_lookup(self, lookup_name: str) -> Any:
        # Equality or LIKE on ciphertext would silently match nothing: refuse loudly instead.
        if lookup_name not in {"isnull"}:
            raise NotImplementedError(f"EncryptedTextField does not support '{lookup_name}'.")
        return super().get_lookup(lookup_name)
