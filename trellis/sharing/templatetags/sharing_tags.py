from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse

from trellis.sharing.registry import _REGISTRY

register = template.Library()


@register.simple_tag
def entry_url(label: str, pk: Any) -> str:
    """The page of an entry, from its registered type; empty for unknown types."""
    et = _REGISTRY.get(label)
    return reverse(et.detail_url_name, kwargs={"pk": pk}) if et and pk else ""
