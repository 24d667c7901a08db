from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString

from trellis.journal.cards import journal_card as build_card

register = template.Library()


@register.simple_tag(takes_context=True)
def journal_card(context: Any, entry: Any) -> SafeString:
    """`{% include "journal/list_card.html" %}` for `entry`, built in Python (see cards.py)."""
    user = context.get("user")
    return build_card(entry, getattr(user, "pk", None))
