from __future__ import annotations

from typing import Any

from ninja import Schema
from pydantic import ConfigDict


class Error(Schema):
    detail: str


class FieldError(Schema):
    loc: list[str | int]
    msg: str
    type: str = "value_error"


class ValidationErrors(Schema):
    detail: list[FieldError]


class StrictIn(Schema):
    """Request bodies reject unknown fields: no mass assignment (security.md R5)."""

    model_config = ConfigDict(extra="forbid")


class PersonOut(Schema):
    id: str
    display_name: str


def person(user: Any) -> PersonOut:
    return PersonOut(id=str(user.pk), display_name=user.display_name)


# The statuses every authenticated operation may answer, declared so the OpenAPI document is honest.
COMMON_ERRORS: dict[int, Any] = {401: Error, 422: ValidationErrors}
