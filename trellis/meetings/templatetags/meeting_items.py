from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString

from trellis.meetings.cards import meeting_item as build_item

register = template.Library()


@register.simple_tag
def meeting_item(meeting: Any) -> SafeString:
    """`{% include "meetings/_item.html" %}` for `meeting`, built in Python (see cards.py)."""
    return build_item(meeting)
