from __future__ import annotations

from typing import Any

from ninja import Router, Schema

from trellis.api.schemas import COMMON_ERRORS, PersonOut, person
from trellis.core.http import AuthedRequest
from trellis.couples.selectors import partner_of
from trellis.couples.services import active_membership

router = Router(tags=["accounts"])


class MeOut(Schema):
    id: str
    email: str
    display_name: str
    pronouns: str
    time_zone: str
    role: str
    couple_id: str | None
    partner: PersonOut | None


@router.get("/me", response={200: MeOut, **COMMON_ERRORS})
def me(request: AuthedRequest) -> Any:
    user = request.user
    membership = active_membership(user)
    partner = partner_of(user)
    return MeOut(
        id=str(user.pk),
        email=user.email,
        display_name=user.display_name,
        pronouns=user.pronouns,
        time_zone=user.time_zone,
        role=user.role,
        couple_id=str(membership.couple_id) if membership else None,
        partner=person(partner) if partner else None,
    )
