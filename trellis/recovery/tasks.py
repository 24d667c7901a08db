"""Background work of the recovery capability. Emails hold no entry content: a neutral subject,
a fixed body naming only the sender's display name (not even the contact's name as written in
the plan: that is the plan's content too)."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from huey.contrib.djhuey import db_task

SUBJECT = "A message from Trellis"
BODY = (
    "Hello,\n\n"
    "{sender} asked Trellis to let you know that they are having a hard moment and would "
    "welcome hearing from you.\n\n"
    "If you can, call or message them. If you think they are in danger, call your local "
    "emergency number.\n\n"
    "You received this because {sender} listed you as someone they can reach.\n"
)


@db_task()
def email_support_contacts(message_id: str) -> int:
    from . import plan as plan_shape
    from .models import RecoveryPlan, SupportMessage

    if not settings.SUPPORT_EMAILS:
        return 0
    message = SupportMessage.objects.select_related("author").filter(pk=message_id).first()
    if message is None:
        return 0
    plan = RecoveryPlan.objects.filter(author_id=message.author_id).first()
    contacts = plan_shape.decode(plan.content if plan else "{}")["contacts"]
    sent = 0
    sender = message.author.display_name or "Someone you know"
    for contact in contacts:
        if contact.get("notify") and contact.get("email"):
            send_mail(
                SUBJECT,
                BODY.format(sender=sender),
                settings.DEFAULT_FROM_EMAIL,
                [contact["email"]],
            )
            sent += 1
    return sent
