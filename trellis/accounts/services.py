from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from trellis.recovery.models import RecoveryTrack
from trellis.sharing.models import AuditEvent
from trellis.sharing.policy import audit

from .models import ApiToken, User

MAX_TOKENS = 20


@transaction.atomic
def api_token_create(*, user: User, name: str) -> tuple[ApiToken, str]:
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Give the token a name so you can recognise it later."})
    if ApiToken.objects.filter(user=user, revoked_at__isnull=True).count() >= MAX_TOKENS:
        raise ValidationError({"name": f"You can have at most {MAX_TOKENS} active tokens."})
    raw = ApiToken.new_raw()
    token = ApiToken.objects.create(user=user, name=name[:60], token_hash=ApiToken.hash(raw))
    audit(
        owner=user, actor=user, action=AuditEvent.Action.TOKEN_CREATED, detail={"name": token.name}
    )
    return token, raw


@transaction.atomic
def api_token_revoke(*, user: User, token_id: Any) -> None:
    token = ApiToken.objects.filter(user=user, pk=token_id, revoked_at__isnull=True).first()
    if token is None:
        raise ValidationError({"token": "That token does not exist or is already revoked."})
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit(
        owner=user, actor=user, action=AuditEvent.Action.TOKEN_REVOKED, detail={"name": token.name}
    )


def api_token_user(raw: str) -> User | None:
    if not raw.startswith(ApiToken.PREFIX) or len(raw) > 100:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(token_hash=ApiToken.hash(raw), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    today = timezone.localdate()
    if token.last_used_on != today:
        ApiToken.objects.filter(pk=token.pk).update(last_used_on=today)
    return token.user


def recovery_track_add(
    *, user: User, kind: str, what: str, since: date, audience: str = ""
) -> RecoveryTrack:
    """The profile's quick "add a track" (the recovery pages offer the whole form)."""
    from trellis.recovery.services import track_add
    from trellis.sharing.registry import for_model
    from trellis.sharing.services import default_audience

    return track_add(
        user=user,
        kind=kind,
        what=what,
        since=since,
        audience=audience or default_audience(user, for_model(RecoveryTrack)),
    )


@transaction.atomic
def recovery_track_end(*, user: User, track_id: Any) -> None:
    RecoveryTrack.objects.filter(author=user, pk=track_id, ended_at__isnull=True).update(
        ended_at=timezone.now()
    )
