from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString

from trellis.recovery.fragments import counts_html, story_html

register = template.Library()


@register.simple_tag
def track_counts(card: Any) -> SafeString:
    """`{% include "recovery/_counts.html" %}`, built in Python (see fragments.py)."""
    return counts_html(card)


@register.simple_tag
def track_story(card: Any) -> SafeString:
    """`{% include "recovery/_story.html" %}`, built in Python (see fragments.py)."""
    return story_html(card)
