"""Tags a view with the entry type it serves and the kind of access it needs.

The authorization-matrix test walks every URL pattern: one that takes an entry id must carry
this tag, so a new view cannot escape the matrix by being forgotten.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

# read: anyone the policy lets read the entry; author: its author only; list/search: pages that
# show many entries; export: the author's export; respond: a reader who is the author's partner
# (a member, never a therapist, never the author) answering it, e.g. acknowledging a trust
# moment; couple: the id is a couple-scoped object (a meeting, a therapist link seen from the
# couple's side) for the current members only; clinician: the id is the viewing therapist's own
# object (their link to a couple, homework they assigned, an appointment, a private note, a
# link invitation) and nobody else's; assignee: homework, for the partners it is assigned to
# while they are members of its couple; clinic_admin: a clinic's membership or invitation, for
# that clinic's active administrators only.
Op = Literal[
    "read",
    "author",
    "list",
    "search",
    "export",
    "respond",
    "couple",
    "clinician",
    "assignee",
    "clinic_admin",
]


def entry_view(model: type[Any], op: Op) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def wrap(view: Callable[..., Any]) -> Callable[..., Any]:
        view.sharing_meta = (model, op)  # type: ignore[attr-defined]
        return view

    return wrap
