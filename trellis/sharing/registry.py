"""The registry of entry types. Registering a model is what puts it under the sharing policy,
into the authorization-matrix test, the exports and the audit views."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .audiences import Audience

if TYPE_CHECKING:
    from .models import SharedEntry


@dataclass(frozen=True)
class EntryType:
    label: str  # stable identifier, used in consent scopes, audit rows and URLs
    model: type[SharedEntry]
    verbose_name: str
    default_audience: Audience
    detail_url_name: str  # a page URL name taking `pk`


_REGISTRY: dict[str, EntryType] = {}


def register(*, label: str, verbose_name: str, default_audience: Audience, detail_url_name: str):
    def wrap(model: type[SharedEntry]) -> type[SharedEntry]:
        if label in _REGISTRY and _REGISTRY[label].model is not model:
            raise RuntimeError(f"Entry type {label!r} is registered twice.")
        _REGISTRY[label] = EntryType(label, model, verbose_name, default_audience, detail_url_name)
        model.entry_type_label = label
        return model

    return wrap


def entry_types() -> list[EntryType]:
    return sorted(_REGISTRY.values(), key=lambda et: et.label)


def entry_type(label: str) -> EntryType:
    return _REGISTRY[label]


def for_model(model: type[SharedEntry]) -> EntryType:
    return _REGISTRY[model.entry_type_label]
