from __future__ import annotations

import hashlib
import secrets
import uuid
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        extra.setdefault("role", User.Role.CLINIC_ADMIN)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person. Roles are per person: a partner (member), a therapist, or a clinic admin."""

    class Role(models.TextChoices):
        MEMBER = "member", "Partner"
        THERAPIST = "therapist", "Therapist"
        CLINIC_ADMIN = "clinic_admin", "Clinic administrator"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(unique=True)
    display_name = models.CharField(max_length=80)
    pronouns = models.CharField(max_length=40, blank=True)
    time_zone = models.CharField(max_length=64, default="UTC")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.MEMBER)
    # A therapist's policy: whether they accept entries a partner shares with "my therapist only".
    accepts_confidences = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        ordering = ["display_name"]

    def __str__(self) -> str:
        return self.display_name or "Trellis user"

    @property
    def is_therapist(self) -> bool:
        return self.role == self.Role.THERAPIST

    @property
    def needs_two_factor(self) -> bool:
        return self.role in (self.Role.THERAPIST, self.Role.CLINIC_ADMIN) or self.is_staff


def _hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("ascii")).hexdigest()


class ApiToken(models.Model):
    """A personal bearer token for API clients. Only a SHA-256 of the token is stored."""

    PREFIX = "trl_"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=60)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_on = models.DateField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    @classmethod
    def new_raw(cls) -> str:
        # 32 bytes from the OS CSPRNG: 256 bits of entropy (security.md R23 asks for >= 128).
        return cls.PREFIX + secrets.token_urlsafe(32)

    @staticmethod
    def hash(raw: str) -> str:
        return _hash_token(raw)
