from __future__ import annotations

from django import template

from trellis.clinic.notice import REDISCLOSURE_NOTICE

register = template.Library()


@register.simple_tag
def redisclosure_notice() -> str:
    """The R9 notice, in the same words as the therapist's export carries."""
    return REDISCLOSURE_NOTICE
