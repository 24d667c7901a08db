"""Background work (huey). Tasks only call services; they never read entry content."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.sessions.models import Session
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task


@db_periodic_task(crontab(minute="*/30"))
def purge_expired() -> dict[str, int]:
    """Delete expired sessions and long-dead invitations (they hold only hashes)."""
    from trellis.couples.models import Invitation

    now = timezone.now()
    sessions, _ = Session.objects.filter(expire_date__lt=now).delete()
    invitations, _ = Invitation.objects.filter(expires_at__lt=now - timedelta(days=30)).delete()
    return {"sessions": sessions, "invitations": invitations}
