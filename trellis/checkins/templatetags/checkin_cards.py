from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString

from trellis.checkins.cards import checkin_card as build_card
from trellis.checkins.cards import trust_moment as build_moment

register = template.Library()


@register.simple_tag(takes_context=True)
def checkin_card(context: Any, checkin: Any) -> SafeString:
    """`{% include "checkins/_card.html" %}` for `checkin`, built in Python (see cards.py)."""
    user = context.get("user")
    return build_card(checkin, getattr(user, "pk", None))


@register.simple_tag(takes_context=True)
def trust_moment(context: Any, moment: Any) -> SafeString:
    """`{% include "checkins/_moment.html" %}` for `moment`, built in Python (see cards.py)."""
    return build_moment(
        moment,
        viewer=context.get("user"),
        paused=context.get("paused"),
        csrf_token=context.get("csrf_token"),
    )
