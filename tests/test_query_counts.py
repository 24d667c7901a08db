"""P1: every page and API endpoint a partner uses runs a bounded, history-independent number of
SQL queries.

Two worlds are seeded side by side: a couple with 30 days of history and a couple with 730 days
(journal entries, daily check-ins of both partners, trust moments, a weekly meeting every
week with both partners' answers and conversation notes, and an agreement that changed every
week: a proposal accepted each week — new clauses, changed ones, now and then a retired one, a
counter-proposal, a declined proposal — and a review every quarter; and both partners in
recovery all along: a track each, a lapse every eight weeks or so, a relapse-prevention plan
saved anew every four weeks, and an "I'm struggling" message every two weeks, answered; and in
therapy with the same therapist all along: both partners' consent renewed every three months or
so (some ran out, some were replaced), homework every week for both (about half of it done, some
shared with the therapist, now and then taken back), a session every week, and a therapist who
has read every "done" shared with them).
Every URL pattern of the project (walked from the resolver, plus every operation of the OpenAPI
document) is requested as a partner of each couple, in the same order, and the queries are
counted. The counts must be equal for both worlds (no N+1, nothing that grows with history) and
at most LIMIT. A pattern nobody measured fails the test: a new URL must either be measured
(automatically, for GET pages whose parameters are known) or excluded below with a reason.
The therapist's and the clinic administrator's pages are not a partner's: they are measured in
tests/clinic/test_query_counts.py, for a therapist with 3 and with 300 linked couples.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from trellis.agreements.models import Agreement, AgreementProposal, Clause, ClauseText
from trellis.checkins.models import DailyCheckin, TrustMoment
from trellis.clinic.models import (
    Appointment,
    Homework,
    HomeworkAssignment,
    HomeworkCompletion,
    LinkInvitation,
)
from trellis.couples.models import Consent, ConsentScope, TherapistLink
from trellis.demo.seed import DEMO_PASSWORD, checkin_history, seed_bench
from trellis.journal.models import JournalEntry
from trellis.lib.dates import local_today
from trellis.meetings.models import Meeting, MeetingAnswer, MeetingNote
from trellis.meetings.prompts import builtin_prompts
from trellis.meetings.services import week_of
from trellis.recovery.models import Lapse, RecoveryPlan, RecoveryTrack, SupportMessage
from trellis.sharing.audiences import Audience
from trellis.sharing.policy import record_reads, visible_to

LIMIT = 12
# Requests allowed more than LIMIT, with the reason. Pages never are.
LIMIT_OVERRIDES: dict[str, tuple[int, str]] = {
    "POST leave (ends the space)": (
        16,
        "a one-off action, not a page: allauth's re-authentication check (one query per MFA "
        "type) plus ending the space (memberships, consents, links, invitations, two audit "
        "rows) in one transaction",
    ),
    "POST export (download)": (
        21,
        "a one-off download, not a page: the session and the person (2), one SELECT per "
        'registered entry type (twelve now, homework "done"s among them: each a single query '
        "however much history there is), the recovery tracks (1), the person's consents and "
        "their scopes (2), allauth's re-authentication check (3: one query per MFA type) and "
        "the export's audit row (1)",
    ),
    "POST log a lapse": (
        13,
        "a write, not a page: the author's own track, the audiences they may choose and the "
        "partner's name (for the form), then in one transaction the audiences again, the "
        "track's row lock, whether that day has a lapse already (a retry is the same lapse), "
        "the couple, the insert and its audit row (two SAVEPOINT statements here)",
    ),
}
# The couple's side of the therapist workspace (SPEC C14): one-off actions, each in one
# transaction (its SAVEPOINT statements here are BEGIN/COMMIT in production); none of them reads
# anything that grows with history (a consent that ran out is never touched again).
_LINK_MADE = (
    "the session and the person (2), then in one transaction (2 SAVEPOINT statements): the "
    "therapist's invitation by its code or link (1), again under a row lock (1), the person's "
    "couple space (1), the link made (get-or-create: a SELECT, the INSERT and 4 SAVEPOINT "
    "statements: 6), the invitation marked used (1), the couple's members and an audit row for "
    "each of the two (3)"
)
_CONSENT_SET = (
    "the session and the person (2), the couple's link (1), then in one transaction (2 "
    "SAVEPOINT statements): the link again under a row lock (1), the consent in force, locked "
    "(1), the new consent — the person's membership, the consent, its scopes and its audit row "
    "(4, and 2 SAVEPOINT statements) — and the replaced consent withdrawn with its audit row "
    "(2, and 2 SAVEPOINT statements)"
)
_LINK_ENDED = (
    "the session and the person (2), the couple's link (1), then in one transaction (2 "
    "SAVEPOINT statements): the link again under a row lock (1), the link ended and every "
    "consent on it withdrawn in one UPDATE each (2, and 2 SAVEPOINT statements), the upcoming "
    "sessions cancelled in one UPDATE (1), the couple's members and an audit row for each of "
    "the two (3)"
)
LIMIT_OVERRIDES.update(
    {
        "POST link a therapist by code": (17, f"a one-off action, not a page: {_LINK_MADE}"),
        "POST link a therapist by their link": (17, f"a one-off action, not a page: {_LINK_MADE}"),
        "POST /api/clinic/my/links (by code)": (
            19,
            f"a one-off action: {_LINK_MADE}; then the new link as answered: my consent on it "
            "and its upcoming sessions (2)",
        ),
        "POST consent (password confirmed)": (17, f"a consent, given once: {_CONSENT_SET}"),
        "PUT /api/clinic/my/links/{id}/consent": (
            20,
            f"a consent, given once: {_CONSENT_SET}; then the link as answered: my consent with "
            "its scopes and the upcoming sessions (3)",
        ),
        "POST end a therapist link": (14, f"a one-off action, not a page: {_LINK_ENDED}"),
        "POST /api/clinic/my/links/{id}/end": (14, f"a one-off action: {_LINK_ENDED}"),
    }
)

# The agreement's writes (SPEC C5, QUALITY S8): each runs in one transaction (two SAVEPOINT
# statements here, BEGIN/COMMIT in production) under a row lock on the couple's agreement,
# re-reads under that lock what it acts on (the agreement, the membership of the person, the
# proposal and its clause) so that two partners acting at once never lose an update, and
# writes its rows (a new version writes the wording, the clause, the version with its snapshot
# of the clauses in force, the proposal and the agreement). None of it grows with history.
_AGREEMENT_WRITE = (
    "an agreement write under the agreement's row lock (see the comment above LIMIT_OVERRIDES)"
)
LIMIT_OVERRIDES.update(
    {
        "POST propose a change": (13, f"{_AGREEMENT_WRITE}; plus the resent-proposal check"),
        "POST propose a change, stale (409)": (
            14,
            f"{_AGREEMENT_WRITE}, refused as stale, then the form again with the wording in "
            "force (read through the policy and recorded as read)",
        ),
        "POST propose, no wording (400)": (
            13,
            f"{_AGREEMENT_WRITE}, refused, then the form again with the wording in force",
        ),
        "POST review: keep a clause": (
            16,
            f"{_AGREEMENT_WRITE}: the open review, the clause (locked), the keep (get-or-create: "
            "two more SAVEPOINT statements), how many partners kept it, moving its review date",
        ),
        "POST /api/agreements/agreements/{id}/review (keep)": (
            14,
            f"{_AGREEMENT_WRITE}: as the page's keep, answering the review instead of a redirect",
        ),
        "POST accept the partner's proposal": (
            18,
            f"{_AGREEMENT_WRITE}: the proposal read through the policy (and recorded), then "
            "under the lock the proposal, its clause, the new wording, the clause, the snapshot, "
            "the version, the proposal and the agreement",
        ),
        "POST /api/agreements/proposals/{id}/accept": (
            19,
            f"{_AGREEMENT_WRITE}: as the page's accept, answering the new version (its author)",
        ),
        "POST accept, proposal revised since (409)": (
            19,
            f"{_AGREEMENT_WRITE}, refused as stale, then the proposal's page again with the "
            "wording in force beside it (the page alone is 8)",
        ),
        "POST counter the partner's proposal": (
            19,
            f"{_AGREEMENT_WRITE}: the proposal answered and, in the same transaction, the "
            "counter-proposal made (its own resent-proposal check, insert and audit row)",
        ),
        "POST /api/agreements/proposals/{id}/counter": (
            18,
            f"{_AGREEMENT_WRITE}: as the page's counter-proposal",
        ),
        "POST revise my proposal": (
            14,
            f"{_AGREEMENT_WRITE}: the proposal (locked), its clause, the update and its audit row",
        ),
        "PUT /api/agreements/proposals/{id}": (
            15,
            f"{_AGREEMENT_WRITE}: as the page's revision, answering the proposal with the "
            "clause's wording in force",
        ),
    }
)

# Patterns that are not pages a partner uses, or that belong to a third party, with the reason.
EXCLUDED: dict[str, str] = {
    "core:healthz": "liveness probe for load balancers, not a page; one SELECT 1 by design",
    "api:api-root": "django-ninja's docs landing page; interactive docs are off (docs_url=None)",
}
# The therapist workspace's pages and API operations that serve a therapist or a clinic
# administrator, not a partner: measured for a therapist with 3 and with 300 linked couples
# (and an administrator whose clinic grows with them) in tests/clinic/test_query_counts.py,
# which fails if any of these is not measured there.
MEASURED_FOR_THE_THERAPIST = (
    "a therapist's or a clinic administrator's, not a partner's: measured in "
    "tests/clinic/test_query_counts.py (a therapist with 3 and with 300 linked couples)"
)
EXCLUDED.update(
    dict.fromkeys(
        [
            "clinic:invite",
            "clinic:invite_cancel",
            "clinic:couple",
            "clinic:couple_end",
            "clinic:homework_new",
            "clinic:appointment_new",
            "clinic:notes",
            "clinic:note_new",
            "clinic:homework_cancel",
            "clinic:appointment_cancel",
            "clinic:note_edit",
            "clinic:note_delete",
            "clinic:settings",
            "clinic:admin",
            "clinic:member_end",
            "clinic:clinic_invitation_cancel",
        ],
        MEASURED_FOR_THE_THERAPIST,
    )
)
# API operations (as "METHOD /api/path") that are not a partner's, with the reason.
EXCLUDED_OPERATIONS: dict[str, str] = dict.fromkeys(
    [
        "GET /api/clinic/caseload",
        "GET /api/clinic/caseload/{link_id}",
        "POST /api/clinic/caseload/{link_id}/end",
        "POST /api/clinic/link-invitations",
        "GET /api/clinic/link-invitations",
        "DELETE /api/clinic/link-invitations/{invitation_id}",
        "POST /api/clinic/caseload/{link_id}/homework",
        "GET /api/clinic/homework/{homework_id}",
        "DELETE /api/clinic/homework/{homework_id}",
        "POST /api/clinic/caseload/{link_id}/appointments",
        "DELETE /api/clinic/appointments/{appointment_id}",
        "GET /api/clinic/caseload/{link_id}/notes",
        "POST /api/clinic/caseload/{link_id}/notes",
        "GET /api/clinic/notes/{note_id}",
        "PUT /api/clinic/notes/{note_id}",
        "DELETE /api/clinic/notes/{note_id}",
        "PUT /api/clinic/policy",
        "GET /api/clinic/admin/therapists",
        "POST /api/clinic/admin/invitations",
        "GET /api/clinic/admin/invitations",
        "DELETE /api/clinic/admin/invitations/{invitation_id}",
        "DELETE /api/clinic/admin/members/{member_id}",
        "POST /api/clinic/join-clinic",
    ],
    MEASURED_FOR_THE_THERAPIST,
)
EXCLUDED_MODULES: dict[str, str] = {
    "allauth.": (
        "allauth's own account pages (sign-in, sign-up, password, e-mail, 2FA, sessions): "
        "third-party views that never read couple data, so their cost cannot grow with history; "
        "their behaviour is tested in tests/accounts"
    ),
}

# How to fill path parameters, by parameter name.
#   pk and the API's ids: an object of the view's entry type (see Entries and World.objs);
#   token: an invitation token that does not exist.
ID_PARAMS = {
    "pk",
    "entry_id",
    "checkin_id",
    "moment_id",
    "answer_id",
    "note_id",
    "meeting_id",
    "agreement_id",
    "proposal_id",
    "clause_text_id",
    "track_id",
    "lapse_id",
    "plan_id",
    "message_id",
    "completion_id",
}
# Page path parameters other than pk and token: (label in World.objs, variants measured).
PAGE_PARAMS: dict[str, tuple[str, list[str]]] = {
    # The couple's link with their therapist (consent, ending it).
    "link_id": ("clinic_link", ["own"]),
    # Homework of the measured partner's, still to do and done (a "done" shared with both).
    "homework_id": ("clinic_homework", ["open", "done"]),
}
# The objects a couple-scoped object's pages and API are measured on, by label (World.objs).
COUPLE_VARIANTS: dict[str, list[str]] = {
    "meeting": ["revealed", "open"],
    "agreement": ["current"],
}
FAKE_TOKEN = "no-such-invitation-token-0000000000000000"


@dataclass
class Entries:
    """The entries one world's partner acts on; picked the same way in both worlds."""

    own: JournalEntry  # read-only use
    partner_shared: JournalEntry  # the partner's newest entry shared with "my partner"
    own_edit: JournalEntry
    own_patch: JournalEntry
    own_audience: JournalEntry
    own_delete_page: JournalEntry
    own_delete_api: JournalEntry


@dataclass
class World:
    days: int
    client: Client
    entries: Entries
    # (label, variant) -> object, for the other entry types, the meeting and the agreement.
    # Variants: "own" (the measured partner's), "partner_shared" (the other partner's, shared
    # with "my partner"); for meetings "revealed" (last week's, answered and talked about) and
    # "open" (this week's, still being answered); the agreement is "current". Proposals the
    # writes use up (accepting, declining, ...) have variants of their own.
    objs: dict[tuple[str, str], Any] = field(default_factory=dict)

    def obj(self, label: str, variant: str) -> Any:
        if label == "journal":
            return getattr(self.entries, variant)
        return self.objs[(label, variant)]


@dataclass
class Request:
    """One measured request. `build` turns a world into (method, path, kwargs for the client)."""

    label: str
    build: Callable[[World], tuple[str, str, dict[str, Any]]]
    order: int = 0  # destructive requests run last
    expect: set[int] = field(default_factory=lambda: {200, 201, 204, 302})


def _walk(resolver: URLResolver, prefix: str = "", ns: tuple[str, ...] = ()):
    for p in resolver.url_patterns:
        if isinstance(p, URLResolver):
            yield from _walk(p, prefix + str(p.pattern), (*ns, p.namespace) if p.namespace else ns)
        elif isinstance(p, URLPattern):
            name = ":".join((*ns, p.name)) if p.name else f"<unnamed {prefix}{p.pattern}>"
            yield name, prefix + str(p.pattern), p


def _openapi_path(route: str) -> str:
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)


def _module(pattern: URLPattern) -> str:
    return getattr(pattern, "lookup_str", "") or ""


def _excluded_reason(name: str, pattern: URLPattern) -> str | None:
    if name in EXCLUDED:
        return EXCLUDED[name]
    for prefix, reason in EXCLUDED_MODULES.items():
        if _module(pattern).startswith(prefix):
            return reason
    return None


def _spec(client: Client) -> dict[str, Any]:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    return response.json()


def _fill(route_path: str, params: dict[str, str]) -> str:
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: params[m.group(1)], route_path)


def _label(model: Any) -> str:
    return getattr(model, "entry_type_label", "") or model.__name__.lower()


def _page_variants(pattern: URLPattern) -> tuple[str, list[str]]:
    """Which object to put into a page's pk: reads are measured on own and partner entries,
    responses on the partner's, a meeting's pages on a revealed and an open meeting."""
    meta = getattr(pattern.callback, "sharing_meta", None)
    if meta is None:
        return "journal", ["own"]
    label, op = _label(meta[0]), meta[1]
    if op == "read":
        return label, ["own", "partner_shared"]
    if op == "respond":
        return label, ["partner_shared"]
    if op == "couple":
        return label, COUPLE_VARIANTS[label]
    return label, ["own"]


def _json(data: Any) -> dict[str, Any]:
    return {"data": json.dumps(data), "content_type": "application/json"}


# Extra query strings measured for GET pages and API lists (the plain URL is always measured).
QUERY_VARIANTS: dict[str, list[str]] = {
    "journal:list": ["?show=mine", "?show=shared", "?page=2"],
    "checkins:history": ["?show=mine", "?show=shared", "?page=2"],
    "GET /api/checkins/checkins": ["?show=shared", "?limit=100&offset=10"],
    "journal:search": ["?q=walk", "?q=walk&page=2"],
    "sharing:activity": ["?page=2"],
    "GET /api/journal/entries": ["?show=shared", "?limit=100&offset=10", "?q=walk"],
    "GET /api/sharing/activity": ["?limit=100"],
    # Versions 1 to 12 are the same first clauses in both worlds.
    "agreements:detail": ["?version=2"],
    "agreements:print": ["?version=2"],
    "agreements:compare": ["?a=1&b=4", "?a=0"],
    "GET /api/agreements/agreements/{agreement_id}": ["?version=2"],
    "GET /api/agreements/agreements/{agreement_id}/diff": ["?a=1&b=4", "?a=0"],
    "GET /api/agreements/proposals": ["?status=open", "?limit=500"],
    "GET /api/agreements/clauses": ["?all=true", "?all=true&limit=500"],
    # Ended tracks too; every lapse the list can give; only others' recent messages.
    "GET /api/recovery/tracks": ["?all=true"],
    "GET /api/recovery/lapses": ["?limit=200"],
    "GET /api/recovery/messages": ["?others=true"],
    # Every "done" the list can give.
    "GET /api/clinic/completions": ["?limit=200"],
}


def _keyed(key: str) -> dict[str, Any]:
    return {**_json({"body": "Sent twice.", "audience": "me"}), "HTTP_IDEMPOTENCY_KEY": key}


def _post(path_of: Callable[[World], str], data: Callable[[World], dict] | dict, **extra):
    def build(world: World) -> tuple[str, str, dict[str, Any]]:
        payload = data(world) if callable(data) else data
        return "POST", path_of(world), {"data": payload, **extra}

    return build


CHECKIN_FORM = {
    "mood": "4",
    "stress": "2",
    "sleep": "3",
    "closeness": "4",
    "safety": "4",
    "craving": "2",
    "recovery": "kept",
    "gratitude": "A slow breakfast.",
    "note": "",
    "audience": "partner",
    "version": "",
}
API_CHECKIN = {"mood": 3, "stress": 3, "sleep": 3, "closeness": 3, "safety": 4, "note": "API"}
ANSWER_FORM = {"action": "save", "answer_p0": "Thank you for the walk.", "audience": "partner"}


def _today_version(w: World) -> str:
    own = w.obj("checkin", "own")
    # The person's own calendar day (their time zone), as the check-in page uses — never the
    # server's, or the test fails for the hours when the two dates differ.
    # Read fresh: an earlier request in the plan changes the profile's time zone.
    zone = type(own.author).objects.get(pk=own.author_id).time_zone
    today = DailyCheckin.objects.get(author_id=own.author_id, local_date=local_today(zone))
    return str(today.version)


def _meeting_version(w: World) -> int:
    return Meeting.objects.get(pk=w.obj("meeting", "revealed").pk).version


def _agreement(w: World) -> Agreement:
    return Agreement.objects.get(pk=w.obj("agreement", "current").pk)


def _proposal(w: World, variant: str) -> AgreementProposal:
    return AgreementProposal.objects.get(pk=w.obj("agreement_proposal", variant).pk)


def _clause(w: World, variant: str) -> str:
    return str(w.obj("clause", variant).pk)


def _agreement_page(suffix: str) -> Callable[[World], str]:
    return lambda w: f"/agreements/{w.obj('agreement', 'current').pk}/{suffix}"


def _proposal_page(variant: str, suffix: str) -> Callable[[World], str]:
    return lambda w: f"/agreements/proposals/{w.obj('agreement_proposal', variant).pk}/{suffix}"


def _proposal_api(variant: str, suffix: str = "") -> Callable[[World], str]:
    return lambda w: f"/api/agreements/proposals/{w.obj('agreement_proposal', variant).pk}{suffix}"


def _agreement_api(suffix: str) -> Callable[[World], str]:
    return lambda w: f"/api/agreements/agreements/{w.obj('agreement', 'current').pk}/{suffix}"


def _api(method: str, path_of: Callable[[World], str], body: Callable[[World], dict]):
    return lambda w: (method, path_of(w), _json(body(w)))


def _change(w: World, variant: str, text: str, base: int | None = None) -> dict[str, str]:
    return {
        "kind": "change",
        "clause": _clause(w, variant),
        "base_version": str(_agreement(w).version if base is None else base),
        "text": text,
        "rationale": "",
        "reason": "It reads better this way.",
        "review_on": "",
        "audience": "partner",
    }


API_ADD = {
    "kind": "add",
    "section": "money",
    "text": "We look at our statements together each month.",
    "audience": "partner",
}


# Requests other than GET pages, by URL pattern name (pages) or "METHOD /openapi/path" (API).
WRITES: dict[str, list[Request]] = {
    "journal:new": [
        Request(
            "POST new entry",
            _post(
                lambda w: "/journal/new/",
                {"kind": "journal", "body": "Measured.", "audience": "partner"},
            ),
        )
    ],
    "journal:edit": [
        Request(
            "POST edit",
            _post(
                lambda w: f"/journal/{w.entries.own_edit.pk}/edit/",
                lambda w: {"title": "", "body": "Edited.", "version": w.entries.own_edit.version},
            ),
        ),
        Request(
            "POST edit, stale version (409)",
            _post(
                lambda w: f"/journal/{w.entries.own_edit.pk}/edit/",
                {"title": "", "body": "Stale.", "version": 1},
            ),
            order=1,
            expect={409},
        ),
    ],
    "journal:audience": [
        Request(
            "POST audience",
            _post(lambda w: f"/journal/{w.entries.own_audience.pk}/audience/", {"audience": "me"}),
        ),
        Request(
            "POST audience (htmx)",
            _post(
                lambda w: f"/journal/{w.entries.own_audience.pk}/audience/",
                {"audience": "partner"},
                HTTP_HX_REQUEST="true",
            ),
            order=1,
        ),
    ],
    "journal:delete": [
        Request(
            "POST delete",
            _post(lambda w: f"/journal/{w.entries.own_delete_page.pk}/delete/", {}),
            order=2,
        )
    ],
    "couples:home": [
        Request("POST create space (already in one)", _post(lambda w: "/couple/", {"name": "x"}))
    ],
    "couples:invite": [
        Request("POST invite (space is full)", _post(lambda w: "/couple/invite/", {}))
    ],
    "couples:invite_cancel": [
        Request("POST cancel invitation", _post(lambda w: "/couple/invite/cancel/", {}))
    ],
    "couples:join_code": [
        Request(
            "POST join by code (bad code)",
            _post(lambda w: "/couple/join/", {"code": "NOPE2345"}),
            expect={400},
        )
    ],
    "couples:join_link": [
        Request("POST join by link (bad link)", _post(lambda w: f"/couple/join/{FAKE_TOKEN}/", {}))
    ],
    "couples:leave": [
        Request("POST leave (ends the space)", _post(lambda w: "/couple/leave/", {}), order=9)
    ],
    "accounts:profile": [
        Request(
            "POST profile",
            _post(
                lambda w: "/settings/",
                {
                    "form": "profile",
                    "p-display_name": "Partner",
                    "p-pronouns": "",
                    "p-time_zone": "Europe/Berlin",
                },
            ),
        ),
        Request(
            "POST default audiences",
            _post(lambda w: "/settings/", {"form": "audiences", "a-journal": "partner"}),
        ),
    ],
    "accounts:tokens": [
        Request("POST new token", _post(lambda w: "/settings/tokens/", {"name": "phone"}))
    ],
    "accounts:export_download": [
        Request("POST export (download)", _post(lambda w: "/settings/export/download/", {}))
    ],
    "POST /api/journal/entries": [
        Request(
            "POST /api/journal/entries",
            lambda w: (
                "POST",
                "/api/journal/entries",
                _json({"body": "From the API.", "audience": "partner"}),
            ),
        ),
        Request(
            "POST /api/journal/entries (Idempotency-Key, first)",
            lambda w: ("POST", "/api/journal/entries", _keyed("replay-1")),
            order=1,
        ),
        Request(
            "POST /api/journal/entries (Idempotency-Key, replay)",
            lambda w: ("POST", "/api/journal/entries", _keyed("replay-1")),
            order=2,
            expect={200},
        ),
    ],
    "PATCH /api/journal/entries/{entry_id}": [
        Request(
            "PATCH /api/journal/entries/{id}",
            lambda w: (
                "PATCH",
                f"/api/journal/entries/{w.entries.own_patch.pk}",
                {
                    **_json({"body": "Patched."}),
                    "HTTP_IF_MATCH": f'"{w.entries.own_patch.version}"',
                },
            ),
        )
    ],
    "PUT /api/journal/entries/{entry_id}/audience": [
        Request(
            "PUT /api/journal/entries/{id}/audience",
            lambda w: (
                "PUT",
                f"/api/journal/entries/{w.entries.own_audience.pk}/audience",
                _json({"audience": "partner_therapist"}),
            ),
            order=1,
        )
    ],
    "DELETE /api/journal/entries/{entry_id}": [
        Request(
            "DELETE /api/journal/entries/{id}",
            lambda w: ("DELETE", f"/api/journal/entries/{w.entries.own_delete_api.pk}", {}),
            order=2,
            expect={204},
        )
    ],
    # --- daily check-in and trust moment ---
    "checkins:today": [
        Request("POST check-in (today's first)", _post(lambda w: "/checkins/", CHECKIN_FORM)),
        Request(
            "POST check-in (same-day edit)",
            _post(
                lambda w: "/checkins/",
                lambda w: {**CHECKIN_FORM, "mood": "3", "version": _today_version(w)},
            ),
            order=1,
        ),
        Request(
            "POST check-in, stale version (409)",
            _post(lambda w: "/checkins/", {**CHECKIN_FORM, "version": "1"}),
            order=2,
            expect={409},
        ),
    ],
    "checkins:audience": [
        Request(
            "POST check-in audience",
            _post(
                lambda w: f"/checkins/{w.obj('checkin', 'own').pk}/audience/", {"audience": "me"}
            ),
        )
    ],
    "checkins:trust": [
        Request(
            "POST trust intention",
            _post(lambda w: "/checkins/trust/", {"intention": "Today I stay with my recovery."}),
        )
    ],
    "checkins:trust_acknowledge": [
        Request(
            "POST acknowledge the partner's intention",
            _post(
                lambda w: (
                    f"/checkins/trust/{w.obj('trust_moment', 'partner_shared').pk}/acknowledge/"
                ),
                {"response": "Proud of you."},
            ),
        )
    ],
    "checkins:trust_pause": [
        Request(
            "POST pause the trust moment",
            _post(lambda w: "/checkins/trust/pause/", {"action": "pause"}),
            order=5,
        ),
        Request(
            "POST resume the trust moment",
            _post(lambda w: "/checkins/trust/pause/", {"action": "resume"}),
            order=6,
        ),
    ],
    "PUT /api/checkins/checkins/today": [
        Request(
            "PUT /api/checkins/checkins/today",
            lambda w: ("PUT", "/api/checkins/checkins/today", _json(API_CHECKIN)),
            order=3,
        ),
        Request(
            "PUT /api/checkins/checkins/today (the same again)",
            lambda w: ("PUT", "/api/checkins/checkins/today", _json(API_CHECKIN)),
            order=3,
        ),
    ],
    "PUT /api/checkins/checkins/{checkin_id}/audience": [
        Request(
            "PUT /api/checkins/checkins/{id}/audience",
            lambda w: (
                "PUT",
                f"/api/checkins/checkins/{w.obj('checkin', 'own').pk}/audience",
                _json({"audience": "partner"}),
            ),
            order=1,
        )
    ],
    "PUT /api/checkins/trust/today": [
        Request(
            "PUT /api/checkins/trust/today",
            lambda w: (
                "PUT",
                "/api/checkins/trust/today",
                _json({"intention": "Staying on track."}),
            ),
            order=1,
        )
    ],
    "POST /api/checkins/trust/{moment_id}/acknowledge": [
        Request(
            "POST /api/checkins/trust/{id}/acknowledge",
            lambda w: (
                "POST",
                f"/api/checkins/trust/{w.obj('trust_moment', 'partner_shared').pk}/acknowledge",
                _json({"response": "Thank you."}),
            ),
            order=1,
        )
    ],
    # --- weekly meeting ---
    "meetings:list": [
        Request(
            "POST start this week's meeting (already started)",
            _post(lambda w: "/meetings/", {"prompt_set": "weekly"}),
        )
    ],
    "meetings:answer_save": [
        Request(
            "POST meeting answer (draft)",
            _post(lambda w: f"/meetings/{w.obj('meeting', 'open').pk}/answer/", ANSWER_FORM),
        ),
        Request(
            "POST meeting answer (submit)",
            _post(
                lambda w: f"/meetings/{w.obj('meeting', 'open').pk}/answer/",
                {**ANSWER_FORM, "action": "submit"},
            ),
            order=1,
        ),
        Request(
            "POST meeting answer (submit, which reveals both)",
            _post(
                lambda w: f"/meetings/{w.obj('meeting', 'waiting').pk}/answer/",
                {**ANSWER_FORM, "action": "submit"},
            ),
        ),
        Request(
            "POST meeting answer (withdraw)",
            _post(
                lambda w: f"/meetings/{w.obj('meeting', 'open').pk}/answer/",
                {"action": "withdraw"},
            ),
            order=2,
        ),
    ],
    "meetings:note_add": [
        Request(
            "POST meeting note",
            _post(
                lambda w: f"/meetings/{w.obj('meeting', 'revealed').pk}/notes/",
                {"kind": "next_step", "text": "A walk on Sunday."},
            ),
        ),
        Request(
            "POST meeting note starting with blame (hint, not saved)",
            _post(
                lambda w: f"/meetings/{w.obj('meeting', 'revealed').pk}/notes/",
                {"kind": "i_statement", "text": "You always leave early."},
            ),
            expect={200},
        ),
    ],
    "meetings:close": [
        Request(
            "POST close the meeting",
            _post(
                lambda w: f"/meetings/{w.obj('meeting', 'revealed').pk}/close/",
                lambda w: {"version": _meeting_version(w)},
            ),
            order=4,
        )
    ],
    "meetings:note_audience": [
        Request(
            "POST meeting note audience",
            _post(
                lambda w: f"/meetings/notes/{w.obj('meeting_note', 'own').pk}/audience/",
                {"audience": "partner_therapist"},
            ),
        )
    ],
    "meetings:note_confirm": [
        Request(
            "POST confirm the partner's reflection",
            _post(
                lambda w: f"/meetings/notes/{w.obj('meeting_note', 'partner_shared').pk}/confirm/",
                {"confirmed": "yes"},
            ),
        )
    ],
    "POST /api/meetings/meetings": [
        Request(
            "POST /api/meetings/meetings (already started)",
            lambda w: ("POST", "/api/meetings/meetings", _json({"prompt_set": "weekly"})),
            expect={200},
        )
    ],
    "PUT /api/meetings/meetings/{meeting_id}/answer": [
        Request(
            "PUT /api/meetings/meetings/{id}/answer",
            lambda w: (
                "PUT",
                f"/api/meetings/meetings/{w.obj('meeting', 'open').pk}/answer",
                _json({"answers": {"p0": "From the phone."}, "submit": True}),
            ),
            order=3,
        )
    ],
    "DELETE /api/meetings/meetings/{meeting_id}/answer/submission": [
        Request(
            "DELETE /api/meetings/meetings/{id}/answer/submission",
            lambda w: (
                "DELETE",
                f"/api/meetings/meetings/{w.obj('meeting', 'open').pk}/answer/submission",
                {},
            ),
            order=4,
        )
    ],
    "POST /api/meetings/meetings/{meeting_id}/notes": [
        Request(
            "POST /api/meetings/meetings/{id}/notes",
            lambda w: (
                "POST",
                f"/api/meetings/meetings/{w.obj('meeting', 'revealed').pk}/notes",
                _json({"kind": "reflection", "text": "I heard that evenings are hard."}),
            ),
            order=1,
        )
    ],
    "POST /api/meetings/meetings/{meeting_id}/close": [
        Request(
            "POST /api/meetings/meetings/{id}/close",
            lambda w: (
                "POST",
                f"/api/meetings/meetings/{w.obj('meeting', 'revealed').pk}/close",
                _json({"version": _meeting_version(w)}),
            ),
            order=5,
        ),
        Request(
            "POST /api/meetings/meetings/{id}/close, stale version (412)",
            lambda w: (
                "POST",
                f"/api/meetings/meetings/{w.obj('meeting', 'revealed').pk}/close",
                _json({"version": 1}),
            ),
            order=5,
            expect={412},
        ),
    ],
    "POST /api/meetings/notes/{note_id}/confirm": [
        Request(
            "POST /api/meetings/notes/{id}/confirm",
            lambda w: (
                "POST",
                f"/api/meetings/notes/{w.obj('meeting_note', 'partner_shared').pk}/confirm",
                _json({"confirmed": False}),
            ),
            order=1,
        )
    ],
}


# The agreement (SPEC C5). The measured partner (A) answers B's proposals and withdraws or
# revises their own; each write uses a proposal of its own (see _seed_agreement).
AGREEMENT_WRITES: dict[str, list[Request]] = {
    "agreements:propose": [
        Request(
            "POST propose a change",
            _post(_agreement_page("propose/"), lambda w: _change(w, "propose", "Each Sunday.")),
        ),
        Request(
            "POST propose a new clause",
            _post(
                _agreement_page("propose/"),
                lambda w: {
                    "kind": "add",
                    "base_version": str(_agreement(w).version),
                    "section": "digital",
                    "text": "No phones at dinner.",
                    "review_on": "",
                    "audience": "partner_therapist",
                },
            ),
        ),
        Request(
            "POST propose a change, stale (409)",
            _post(
                _agreement_page("propose/"),
                lambda w: _change(w, "changed", "Made against version 1.", base=1),
            ),
            expect={409},
        ),
        Request(
            "POST propose, no wording (400)",
            _post(_agreement_page("propose/"), lambda w: _change(w, "propose", "")),
            expect={400},
        ),
    ],
    "agreements:review": [
        Request(
            "POST review: keep a clause",
            _post(
                _agreement_page("review/"),
                lambda w: {"action": "keep", "clause": _clause(w, "kept")},
            ),
        ),
        Request(
            "POST review: call (one is open)",
            _post(_agreement_page("review/"), {"action": "call"}),
        ),
        Request(
            "POST review: close",
            _post(_agreement_page("review/"), {"action": "close"}),
            order=6,
        ),
    ],
    "agreements:proposal_respond": [
        Request(
            "POST accept the partner's proposal",
            _post(
                _proposal_page("accept_page", "respond/"),
                lambda w: {"action": "accept", "version": _proposal(w, "accept_page").version},
            ),
            order=1,
        ),
        Request(
            "POST decline the partner's proposal",
            _post(
                _proposal_page("decline_page", "respond/"),
                lambda w: {
                    "action": "decline",
                    "version": _proposal(w, "decline_page").version,
                    "reason": "Not yet; can we talk on Sunday?",
                },
            ),
            order=1,
        ),
        Request(
            "POST accept, proposal revised since (409)",
            _post(
                _proposal_page("partner_shared", "respond/"),
                {"action": "accept", "version": "99"},
            ),
            order=1,
            expect={409},
        ),
    ],
    "agreements:proposal_counter": [
        Request(
            "POST counter the partner's proposal",
            _post(
                _proposal_page("counter_page", "counter/"),
                lambda w: {
                    "version": _proposal(w, "counter_page").version,
                    "text": "Both of us, every evening.",
                    "reason": "",
                    "rationale": "",
                    "review_on": "",
                    "audience": "partner",
                },
            ),
            order=1,
        )
    ],
    "agreements:proposal_withdraw": [
        Request(
            "POST withdraw my proposal",
            _post(_proposal_page("withdraw_page", "withdraw/"), {}),
            order=1,
        )
    ],
    "agreements:proposal_revise": [
        Request(
            "POST revise my proposal",
            _post(
                _proposal_page("own", "revise/"),
                lambda w: {
                    "version": _proposal(w, "own").version,
                    "base_version": _agreement(w).version,
                    "text": "Revised: every other Sunday.",
                    "rationale": "",
                    "reason": "",
                    "review_on": "",
                },
            ),
            order=2,
        )
    ],
    "POST /api/agreements/agreements/{agreement_id}/proposals": [
        Request(
            "POST /api/agreements/agreements/{id}/proposals",
            _api(
                "POST",
                _agreement_api("proposals"),
                lambda w: {**API_ADD, "base_version": _agreement(w).version},
            ),
            order=1,
        ),
        Request(
            "POST /api/agreements/agreements/{id}/proposals (the same again)",
            _api(
                "POST",
                _agreement_api("proposals"),
                lambda w: {**API_ADD, "base_version": _agreement(w).version},
            ),
            order=2,
            expect={200},
        ),
    ],
    "POST /api/agreements/agreements/{agreement_id}/review": [
        Request(
            "POST /api/agreements/agreements/{id}/review (keep)",
            _api(
                "POST",
                _agreement_api("review"),
                lambda w: {"action": "keep", "clause_id": _clause(w, "kept")},
            ),
            order=1,
        ),
        Request(
            "POST /api/agreements/agreements/{id}/review (call again)",
            _api("POST", _agreement_api("review"), lambda w: {"action": "call"}),
            order=7,
        ),
    ],
    "POST /api/agreements/proposals/{proposal_id}/accept": [
        Request(
            "POST /api/agreements/proposals/{id}/accept",
            _api(
                "POST",
                _proposal_api("accept_api", "/accept"),
                lambda w: {"version": _proposal(w, "accept_api").version},
            ),
            order=2,
        )
    ],
    "POST /api/agreements/proposals/{proposal_id}/decline": [
        Request(
            "POST /api/agreements/proposals/{id}/decline",
            _api(
                "POST",
                _proposal_api("decline_api", "/decline"),
                lambda w: {"version": _proposal(w, "decline_api").version, "reason": "Not yet."},
            ),
            order=2,
        )
    ],
    "POST /api/agreements/proposals/{proposal_id}/counter": [
        Request(
            "POST /api/agreements/proposals/{id}/counter",
            _api(
                "POST",
                _proposal_api("counter_api", "/counter"),
                lambda w: {
                    "version": _proposal(w, "counter_api").version,
                    "text": "Every evening, both of us, phones off.",
                },
            ),
            order=2,
        )
    ],
    "POST /api/agreements/proposals/{proposal_id}/withdraw": [
        Request(
            "POST /api/agreements/proposals/{id}/withdraw",
            lambda w: ("POST", _proposal_api("withdraw_api", "/withdraw")(w), {}),
            order=2,
        )
    ],
    "PUT /api/agreements/proposals/{proposal_id}": [
        Request(
            "PUT /api/agreements/proposals/{id}",
            _api(
                "PUT",
                _proposal_api("own"),
                lambda w: {
                    "version": _proposal(w, "own").version,
                    "base_version": _agreement(w).version,
                    "text": "Revised over the API: every Sunday evening.",
                },
            ),
            order=3,
        )
    ],
}
WRITES.update(AGREEMENT_WRITES)


# Recovery (SPEC C7). The measured partner (A) changes their own track, logs lapses on it, ends
# tracks of their own kept for that, saves their plan, says "I'm struggling", and answers the
# partner's message.
def _track(w: World, variant: str) -> RecoveryTrack:
    return RecoveryTrack.objects.get(pk=w.obj("recovery_track", variant).pk)


def _a_today(w: World) -> Any:
    """A's own calendar day, read fresh (an earlier request changes their time zone)."""
    author = w.obj("recovery_track", "own").author
    return local_today(type(author).objects.get(pk=author.pk).time_zone)


def _track_page(variant: str, suffix: str) -> Callable[[World], str]:
    return lambda w: f"/recovery/tracks/{w.obj('recovery_track', variant).pk}/{suffix}"


def _track_api(variant: str, suffix: str = "") -> Callable[[World], str]:
    return lambda w: f"/api/recovery/tracks/{w.obj('recovery_track', variant).pk}{suffix}"


TRACK_FORM = {
    "what": "Gambling",
    "kind": "behaviour",
    "since": "2024-01-01",
    "goal_kind": "abstinence",
    "goal": "",
    "inner_circle": "",
    "middle_circle": "",
    "outer_circle": "",
    "audience": "partner",
}
GOAL_FORM = {
    "goal_kind": "boundaries",
    "goal": "One day at a time.",
    "inner_circle": "Betting of any kind.",
    "middle_circle": "Looking at the odds.",
    "outer_circle": "Evening walks.",
}


def _plan_form(w: World, version: Any = None) -> dict[str, Any]:
    own = RecoveryPlan.objects.get(pk=w.obj("recovery_plan", "own").pk)
    return {
        "version": str(own.version if version is None else version),
        "audience": "partner",
        "situations.0.situation": "Friday evenings alone.",
        "situations.0.coping": "Call Jo and go for a walk.",
        "situations.1.situation": "",
        "situations.1.coping": "",
        "warning_signs.0": "Skipping meals.",
        "warning_signs.1": "",
        "halt": ["hungry", "tired"],
        "lifestyle": "Sleep by eleven.",
        "lapse_plan": "Tell my partner the same day.",
        "contacts.0.name": "Jo",
        "contacts.0.how": "+44 20 7946 0000",
        "contacts.0.email": "jo@example.org",
        "contacts.0.notify": "on",
        "reasons": "Being present for my family.",
        "partner_can": "Sit with me; no lectures.",
    }


def _api_plan(w: World) -> dict[str, Any]:
    own = RecoveryPlan.objects.get(pk=w.obj("recovery_plan", "own").pk)
    return {
        "version": own.version,
        "audience": "partner",
        "content": {
            "situations": [{"situation": "Paydays.", "coping": "Money goes to savings first."}],
            "warning_signs": ["Staying up late."],
            "halt": ["lonely"],
            "contacts": [{"name": "Jo", "how": "+44 20 7946 0000", "email": "jo@example.org"}],
            "reasons": "My health.",
        },
    }


RECOVERY_WRITES: dict[str, list[Request]] = {
    "recovery:track_new": [
        Request("POST new recovery track", _post(lambda w: "/recovery/tracks/new/", TRACK_FORM))
    ],
    "recovery:track_edit": [
        Request(
            "POST recovery goal",
            _post(
                _track_page("own", "edit/"),
                lambda w: {**GOAL_FORM, "version": str(_track(w, "own").version)},
            ),
        ),
        Request(
            "POST recovery goal, stale version (409)",
            _post(_track_page("own", "edit/"), {**GOAL_FORM, "version": "1"}),
            order=1,
            expect={409},
        ),
    ],
    "recovery:track_end": [
        Request("POST end a recovery track", _post(_track_page("end_page", "end/"), {}))
    ],
    "recovery:track_audience": [
        Request(
            "POST recovery track audience",
            _post(_track_page("own", "audience/"), {"audience": "me"}),
        ),
        Request(
            "POST recovery track audience (htmx)",
            _post(_track_page("own", "audience/"), {"audience": "partner"}, HTTP_HX_REQUEST="true"),
            order=1,
        ),
    ],
    "recovery:lapse_new": [
        Request(
            "POST log a lapse",
            _post(
                _track_page("own", "lapse/"),
                lambda w: {
                    "local_date": _a_today(w).isoformat(),
                    "what_led": "A long day and an empty evening.",
                    "what_helps": "Calling Jo.",
                    "who_to_tell": "My partner.",
                    "impact": "",
                    "prevention": "Plan the evenings.",
                    "audience": "partner",
                },
            ),
        )
    ],
    "recovery:lapse_audience": [
        Request(
            "POST lapse audience",
            _post(
                lambda w: f"/recovery/lapses/{w.obj('recovery_lapse', 'own').pk}/audience/",
                {"audience": "me"},
            ),
        )
    ],
    "recovery:plan_edit": [
        Request("POST save my plan", _post(lambda w: "/recovery/plan/", _plan_form)),
        Request(
            "POST save my plan, stale version (409)",
            _post(lambda w: "/recovery/plan/", lambda w: _plan_form(w, version=1)),
            order=1,
            expect={409},
        ),
    ],
    "recovery:struggling": [
        Request(
            "POST I'm struggling",
            _post(
                lambda w: "/recovery/struggling/",
                {"note": "A hard evening.", "audience": "partner"},
            ),
        )
    ],
    "recovery:message_reply": [
        Request(
            "POST reply to the partner's I'm struggling",
            _post(
                lambda w: (
                    f"/recovery/messages/{w.obj('support_message', 'partner_shared').pk}/reply/"
                ),
                {"reply": "here"},
            ),
        )
    ],
    "POST /api/recovery/tracks": [
        Request(
            "POST /api/recovery/tracks",
            _api(
                "POST",
                lambda w: "/api/recovery/tracks",
                lambda w: {
                    "kind": "substance",
                    "what": "Nicotine",
                    "since": "2024-06-01",
                    "audience": "partner",
                },
            ),
        )
    ],
    "PATCH /api/recovery/tracks/{track_id}": [
        Request(
            "PATCH /api/recovery/tracks/{id}",
            _api(
                "PATCH",
                _track_api("own"),
                lambda w: {"version": _track(w, "own").version, "goal": "Over the API."},
            ),
            order=1,
        )
    ],
    "PUT /api/recovery/tracks/{track_id}/audience": [
        Request(
            "PUT /api/recovery/tracks/{id}/audience",
            _api("PUT", _track_api("own", "/audience"), lambda w: {"audience": "partner"}),
            order=2,
        )
    ],
    "POST /api/recovery/tracks/{track_id}/end": [
        Request(
            "POST /api/recovery/tracks/{id}/end",
            lambda w: ("POST", _track_api("end_api", "/end")(w), {}),
        )
    ],
    "POST /api/recovery/tracks/{track_id}/lapses": [
        Request(
            "POST /api/recovery/tracks/{id}/lapses",
            _api(
                "POST",
                _track_api("own", "/lapses"),
                lambda w: {
                    "local_date": (_a_today(w) - timedelta(days=1)).isoformat(),
                    "what_led": "Over the API.",
                    "audience": "me",
                },
            ),
            order=1,
        ),
        Request(
            "POST /api/recovery/tracks/{id}/lapses (the same day again)",
            _api(
                "POST",
                _track_api("own", "/lapses"),
                lambda w: {
                    "local_date": (_a_today(w) - timedelta(days=1)).isoformat(),
                    "what_helps": "Sent again.",
                    "audience": "me",
                },
            ),
            order=2,
            expect={200},
        ),
    ],
    "PUT /api/recovery/lapses/{lapse_id}/audience": [
        Request(
            "PUT /api/recovery/lapses/{id}/audience",
            _api(
                "PUT",
                lambda w: f"/api/recovery/lapses/{w.obj('recovery_lapse', 'own').pk}/audience",
                lambda w: {"audience": "partner"},
            ),
            order=1,
        )
    ],
    "PUT /api/recovery/plan": [
        Request(
            "PUT /api/recovery/plan",
            _api("PUT", lambda w: "/api/recovery/plan", _api_plan),
            order=2,
        )
    ],
    "POST /api/recovery/struggling": [
        Request(
            "POST /api/recovery/struggling",
            _api(
                "POST",
                lambda w: "/api/recovery/struggling",
                lambda w: {"note": "Rough night.", "audience": "partner"},
            ),
            expect={201},
        )
    ],
    "POST /api/recovery/messages/{message_id}/reply": [
        Request(
            "POST /api/recovery/messages/{id}/reply",
            _api(
                "POST",
                lambda w: (
                    f"/api/recovery/messages/{w.obj('support_message', 'partner_shared').pk}/reply"
                ),
                lambda w: {"reply": "coming"},
            ),
            order=1,
        )
    ],
}
WRITES.update(RECOVERY_WRITES)


# The therapist workspace, the couple's side (SPEC C14). The measured partner (A) links
# therapists by code and by link, gives consent (password re-confirmed) and withdraws it, ends
# links, marks homework done, and changes or takes back a "done". Each write acts on objects of
# its own (see _seed_clinic), so that none makes another's object different between the worlds.
CONSENT_SCOPES = ["journal", "checkin", "trust_moment", "homework", "recovery_lapse"]


def _link(variant: str) -> Callable[[World], Any]:
    return lambda w: w.obj("clinic_link", variant).pk


def _consent_form(w: World, password: str = DEMO_PASSWORD) -> dict[str, Any]:
    return {
        "scopes": CONSENT_SCOPES,
        "purpose": "Our couples therapy",
        "until": (_a_today(w) + timedelta(days=60)).isoformat(),
        "password": password,
    }


def _completion(variant: str) -> Callable[[World], Any]:
    return lambda w: w.obj("homework", variant).pk


def _homework(variant: str) -> Callable[[World], Any]:
    return lambda w: w.obj("clinic_homework", variant).pk


CLINIC_WRITES: dict[str, list[Request]] = {
    "clinic:link_code": [
        Request(
            "POST link a therapist by code",
            _post(lambda w: "/clinic/link/", lambda w: {"code": w.obj("clinic_code", "page")}),
        ),
        Request(
            "POST link a therapist by code (a bad code: the page again, 400)",
            _post(lambda w: "/clinic/link/", {"code": "NOPE2345"}),
            expect={400},
        ),
    ],
    "clinic:link_token": [
        Request(
            "POST link a therapist by their link",
            _post(lambda w: f"/clinic/link/{w.obj('clinic_token', 'page')}/", {}),
        )
    ],
    "clinic:consent": [
        Request(
            "POST consent (password confirmed)",
            _post(lambda w: f"/clinic/therapists/{_link('own')(w)}/", _consent_form),
        ),
        Request(
            "POST consent, wrong password (400)",
            _post(
                lambda w: f"/clinic/therapists/{_link('own')(w)}/",
                lambda w: _consent_form(w, password="not my password"),
            ),
            expect={400},
        ),
    ],
    "clinic:consent_withdraw": [
        Request(
            "POST withdraw my consent",
            _post(lambda w: f"/clinic/therapists/{_link('withdraw_page')(w)}/withdraw/", {}),
        )
    ],
    "clinic:link_end": [
        Request(
            "POST end a therapist link",
            _post(lambda w: f"/clinic/therapists/{_link('end_page')(w)}/end/", {}),
            order=3,
        )
    ],
    "clinic:homework": [
        Request(
            "POST homework done",
            _post(
                lambda w: f"/clinic/homework/{_homework('complete_page')(w)}/",
                {"note": "We did it on Sunday.", "audience": "partner_therapist"},
            ),
        ),
        Request(
            "POST homework done (again: the first kept)",
            _post(
                lambda w: f"/clinic/homework/{_homework('complete_page')(w)}/",
                {"note": "Sent twice.", "audience": "partner_therapist"},
            ),
            order=1,
        ),
    ],
    "clinic:completion_audience": [
        Request(
            "POST homework done: audience",
            _post(
                lambda w: f"/clinic/done/{_completion('audience')(w)}/audience/",
                {"audience": "partner"},
            ),
        ),
        Request(
            "POST homework done: audience (htmx)",
            _post(
                lambda w: f"/clinic/done/{_completion('audience')(w)}/audience/",
                {"audience": "partner_therapist"},
                HTTP_HX_REQUEST="true",
            ),
            order=1,
        ),
    ],
    "clinic:completion_delete": [
        Request(
            "POST take back a homework done",
            _post(lambda w: f"/clinic/done/{_completion('delete_page')(w)}/delete/", {}),
            order=2,
        )
    ],
    "POST /api/clinic/my/links": [
        Request(
            "POST /api/clinic/my/links (by code)",
            lambda w: (
                "POST",
                "/api/clinic/my/links",
                _json({"code": w.obj("clinic_code", "api")}),
            ),
            expect={201},
        )
    ],
    "PUT /api/clinic/my/links/{link_id}/consent": [
        Request(
            "PUT /api/clinic/my/links/{id}/consent",
            lambda w: (
                "PUT",
                f"/api/clinic/my/links/{_link('own')(w)}/consent",
                _json(_consent_form(w)),
            ),
            order=1,
            expect={200},
        )
    ],
    "DELETE /api/clinic/my/links/{link_id}/consent": [
        Request(
            "DELETE /api/clinic/my/links/{id}/consent",
            lambda w: ("DELETE", f"/api/clinic/my/links/{_link('withdraw_api')(w)}/consent", {}),
            expect={204},
        )
    ],
    "POST /api/clinic/my/links/{link_id}/end": [
        Request(
            "POST /api/clinic/my/links/{id}/end",
            lambda w: ("POST", f"/api/clinic/my/links/{_link('end_api')(w)}/end", {}),
            order=3,
            expect={204},
        )
    ],
    "POST /api/clinic/my/homework/{homework_id}/complete": [
        Request(
            "POST /api/clinic/my/homework/{id}/complete",
            lambda w: (
                "POST",
                f"/api/clinic/my/homework/{_homework('complete_api')(w)}/complete",
                _json({"note": "Done over the API.", "audience": "partner_therapist"}),
            ),
            expect={201},
        ),
        Request(
            "POST /api/clinic/my/homework/{id}/complete (again: the first kept)",
            lambda w: (
                "POST",
                f"/api/clinic/my/homework/{_homework('complete_api')(w)}/complete",
                _json({"note": "Sent twice."}),
            ),
            order=1,
            expect={200},
        ),
    ],
    "PUT /api/clinic/completions/{completion_id}/audience": [
        Request(
            "PUT /api/clinic/completions/{id}/audience",
            lambda w: (
                "PUT",
                f"/api/clinic/completions/{_completion('audience')(w)}/audience",
                _json({"audience": "therapist"}),
            ),
            order=2,
            expect={200},
        )
    ],
    "DELETE /api/clinic/completions/{completion_id}": [
        Request(
            "DELETE /api/clinic/completions/{id}",
            lambda w: ("DELETE", f"/api/clinic/completions/{_completion('delete_api')(w)}", {}),
            order=2,
            expect={204},
        )
    ],
}
WRITES.update(CLINIC_WRITES)


def _build_world(days: int, prefix: str) -> World:
    ((a, b, _couple),) = seed_bench(couples=1, days=days, prefix=prefix)
    own = list(JournalEntry.objects.filter(author=a).order_by("-created_at")[:6])
    partner_shared = (
        JournalEntry.objects.filter(author=b, audience=Audience.PARTNER)
        .order_by("-created_at")
        .first()
    )
    assert len(own) == 6 and partner_shared is not None
    # History on the audit side too: the partner has read everything shared with them, once,
    # so activity and "who has seen this" pages hold as many rows as the journal has days.
    record_reads(b, list(visible_to(b, JournalEntry).filter(author=a)), channel="page")
    client = Client(HTTP_USER_AGENT="query-count-test")
    signed_in = client.post("/accounts/login/", {"login": a.email, "password": DEMO_PASSWORD})
    assert signed_in.status_code == 302, "the demo partner must be able to sign in"
    # Re-authenticate, so the pages behind a password prompt (leave, export) are measured too.
    assert client.post("/accounts/reauthenticate/", {"password": DEMO_PASSWORD}).status_code == 302
    client.get("/trivial")  # settle the session (idle clock, allauth's activity row)
    entries = Entries(own[0], partner_shared, own[1], own[2], own[3], own[4], own[5])
    objs = _seed_checkins_and_meetings(a, b, _couple, days)
    objs.update(_seed_agreement(a, b, days))
    objs.update(_seed_clinic(a, b, _couple, days, prefix))
    return World(days, client, entries, objs)


def _seed_clinic(a: Any, b: Any, couple: Any, days: int, prefix: str) -> dict:
    """The couple in therapy since the history began, with Dr. Own: each partner's consent
    renewed every three months or so (alternately it ran out and was replaced, so both kinds of
    old consent pile up), homework every week for both partners (A did every other one, B every
    third, each "done" with an audience of its own; every tenth taken back; the undone ones past
    their date), a session every week (every fourth a booster, every sixth cancelled) and three
    ahead, an ended link with an earlier therapist every year, and Dr. Own having opened every
    "done" shared with them. Then what the writes act on: four more therapists linked with both
    partners' consent (a consent to withdraw and a link to end, each on the page and over the
    API), three therapists' invitations (a code for the page, a link, a code for the API), this
    week's homework (to look at, to do on the page, over the API) and "done"s of A's to change
    and to take back."""
    from trellis.accounts.models import User
    from trellis.clinic import services as clinic

    now = timezone.now()
    today = local_today(a.time_zone)
    start = now - timedelta(days=days + 1)

    def therapist(name: str) -> Any:
        return User.objects.create_user(
            email=f"{prefix}dr-{name}@clinic.test",
            password=DEMO_PASSWORD,
            display_name=f"Dr. {name.replace('_', ' ').title()}",
            role="therapist",
            accepts_confidences=True,
        )

    objs: dict[tuple[str, str], Any] = {}
    links = {
        variant: TherapistLink.objects.create(
            couple=couple, therapist=therapist(variant), created_at=start
        )
        for variant in ("own", "withdraw_page", "withdraw_api", "end_page", "end_api")
    }
    for variant, link in links.items():
        objs[("clinic_link", variant)] = link
    years = max(days // 365, 1)
    TherapistLink.objects.bulk_create(
        TherapistLink(
            couple=couple,
            therapist=therapist(f"earlier_{y}"),
            created_at=start - timedelta(days=365 * (y + 1)),
            ended_at=start - timedelta(days=365 * y + 30),
        )
        for y in range(years)
    )
    # Consents: the history on Dr. Own's link, then one in force on every link.
    renewals = max(days // 90, 2)
    consents = []
    for who in (a, b):
        for k in range(renewals):
            given = start + timedelta(days=k * days // renewals)
            next_given = start + timedelta(days=(k + 1) * days // renewals)
            consents.append(
                Consent(
                    link=links["own"],
                    grantor=who,
                    therapist=links["own"].therapist,
                    purpose="Couples therapy",
                    given_at=given,
                    # Every other one ran out (never withdrawn); the others were replaced.
                    expires_at=next_given - timedelta(days=1) if k % 2 else next_given,
                    withdrawn_at=None if k % 2 else next_given,
                )
            )
        for link in links.values():
            consents.append(
                Consent(
                    link=link,
                    grantor=who,
                    therapist=link.therapist,
                    purpose="Couples therapy",
                    given_at=now - timedelta(days=3),
                    expires_at=now + timedelta(days=60),
                )
            )
    Consent.objects.bulk_create(consents)
    ConsentScope.objects.bulk_create(
        ConsentScope(consent=c, entry_type=label) for c in consents for label in CONSENT_SCOPES
    )
    # Homework, a week apart over the whole history, for both partners.
    own_link, dr_own = links["own"], links["own"].therapist
    weeks = max(days // 7, 8)
    kinds = [("task", ""), ("journal_prompt", "gratitude"), ("meeting_prompts", "weekly")]
    homework = [
        Homework(
            link=own_link,
            couple=couple,
            therapist=dr_own,
            kind=kinds[w % 3][0],
            ref=kinds[w % 3][1],
            title=f"Week {w}: a ten-minute walk after dinner",
            instructions="Phones at home.",
            due_on=today - timedelta(days=7 * (weeks - w)),
            created_at=start + timedelta(days=7 * w),
            cancelled_at=start + timedelta(days=7 * w + 1) if w % 10 == 9 else None,
        )
        for w in range(weeks)
    ]
    current = {
        variant: Homework(
            link=own_link,
            couple=couple,
            therapist=dr_own,
            kind="task",
            title=f"This week ({variant})",
            due_on=today + timedelta(days=5),
            created_at=now - timedelta(days=2),
        )
        for variant in ("open", "complete_page", "complete_api")
    }
    Homework.objects.bulk_create([*homework, *current.values()])
    assignments = {
        (hw.pk, who.pk): HomeworkAssignment(homework=hw, assignee=who)
        for hw in [*homework, *current.values()]
        for who in (a, b)
    }
    HomeworkAssignment.objects.bulk_create(assignments.values())
    audiences = [Audience.PARTNER_THERAPIST, Audience.PARTNER, Audience.ONLY_ME]
    done = []
    for w, hw in enumerate(homework):
        if w % 2 == 0:
            done.append(
                HomeworkCompletion(
                    author=a,
                    couple=couple,
                    audience=Audience.PARTNER_THERAPIST,
                    assignment=assignments[(hw.pk, a.pk)],
                    note="It went well.",
                    created_at=start + timedelta(days=7 * w + 3),
                )
            )
        if w % 3 == 0:
            done.append(
                HomeworkCompletion(
                    author=b,
                    couple=couple,
                    audience=audiences[(w // 3) % 3],
                    assignment=assignments[(hw.pk, b.pk)],
                    note="Harder than it looked.",
                    created_at=start + timedelta(days=7 * w + 4),
                )
            )
    HomeworkCompletion.objects.bulk_create(done)
    mine = [c for c in done if c.author_id == a.pk]
    objs[("homework", "own")] = mine[-1]
    objs[("homework", "audience")] = mine[-2]
    objs[("homework", "delete_page")] = mine[-3]
    objs[("homework", "delete_api")] = mine[0]
    objs[("homework", "partner_shared")] = [
        c for c in done if c.author_id == b.pk and c.audience != Audience.ONLY_ME
    ][-1]
    objs[("clinic_homework", "done")] = next(
        hw for hw in homework if hw.pk == mine[-1].assignment.homework_id
    )
    for variant, hw in current.items():
        objs[("clinic_homework", variant)] = hw
    # Dr. Own has opened every "done" shared with them.
    record_reads(dr_own, list(visible_to(dr_own, HomeworkCompletion)), channel="page")
    # Sessions: weekly over the history, and three ahead.
    sessions = [start + timedelta(days=7 * w, hours=17) for w in range(weeks)]
    ahead = [now + timedelta(days=2 + 7 * k) for k in range(3)]
    Appointment.objects.bulk_create(
        Appointment(
            link=own_link,
            couple=couple,
            therapist=dr_own,
            kind=Appointment.Kind.BOOSTER if w % 4 == 3 else Appointment.Kind.SESSION,
            starts_at=at,
            cancelled_at=at - timedelta(days=1) if w % 6 == 5 and at < now else None,
            created_at=at - timedelta(days=7),
        )
        for w, at in enumerate([*sessions, *ahead])
    )
    # Invitations the measured partner links with.
    for label, variant in (
        ("clinic_code", "page"),
        ("clinic_token", "page"),
        ("clinic_code", "api"),
    ):
        new = clinic.link_invitation_create(therapist=therapist(f"new_{label}_{variant}"))
        objs[(label, variant)] = new.code if label == "clinic_code" else new.token
    assert LinkInvitation.objects.filter(therapist__email__startswith=prefix).count() == 3
    return objs


def _seed_agreement(a: Any, b: Any, days: int) -> dict:
    """The couple's agreement, through the agreement services as the couple would have made it:
    twelve clauses B wrote down on the first evening and A accepted, then a proposal accepted each week (`days // 7` of
    them; mostly changes, every third week a new clause, every ninth a retirement — the
    first in week 2, so both worlds have a retired clause), a
    counter-proposal every fifth week, a declined proposal every fourth, and each quarter a
    review in which both kept every clause. Then what the measured requests act on: one open
    proposal of each partner per write (on clauses of their own, so one accept never makes
    another proposal stale), and a review open with one clause kept by B."""
    from trellis.agreements import services as ag

    agreement = ag.agreement_for(a)
    assert agreement is not None
    people = (a, b)

    def fresh() -> Agreement:
        return Agreement.objects.get(pk=agreement.pk)

    def propose(author: Any, **terms: Any) -> AgreementProposal:
        proposal, created = ag.proposal_create(
            author=author, agreement=fresh(), base_version=fresh().version, **terms
        )
        assert created
        return proposal

    def agree(author: Any, **terms: Any) -> AgreementProposal:
        proposal = propose(author, **terms)
        ag.proposal_accept(
            user=people[1 - people.index(author)], proposal=proposal, expected_version=1
        )
        return proposal

    def in_force() -> list[Clause]:
        return list(
            Clause.objects.filter(agreement=agreement, retired_at__isnull=True).order_by(
                "created_at", "pk"
            )
        )

    sections = ["recovery", "ok", "off_limits", "digital", "money", "disclosure", "sexual"]
    for i in range(12):
        agree(
            b,
            kind="add",
            section=sections[i % len(sections)],
            text=f"A clause of the first evening, number {i + 1}.",
            rationale="Why it matters to us.",
        )
    for week in range(days // 7):
        author = people[week % 2]
        other = people[1 - week % 2]
        clauses = in_force()
        target = clauses[week % len(clauses)]
        if week % 9 == 1 and len(clauses) > 8:
            agree(author, kind="retire", clause_id=target.pk, reason="It did its job.")
        elif week % 3 == 2:
            agree(
                author,
                kind="add",
                section=sections[week % len(sections)],
                text=f"A clause added in week {week}.",
            )
        elif week % 5 == 4:
            first = propose(author, kind="change", clause_id=target.pk, text=f"Week {week}.")
            counter = ag.proposal_counter(
                user=other, proposal=first, expected_version=1, text=f"Week {week}, both of us."
            )
            ag.proposal_accept(user=author, proposal=counter, expected_version=1)
        else:
            agree(author, kind="change", clause_id=target.pk, text=f"Reworded in week {week}.")
        if week % 4 == 3:
            declined = propose(other, kind="add", section="money", text=f"Maybe, week {week}?")
            ag.proposal_decline(user=author, proposal=declined, expected_version=1, reason="No.")
        if week % 13 == 12:
            ag.review_call(user=author, agreement=fresh())
            for clause in in_force():
                for person in people:
                    ag.review_keep(user=person, agreement=fresh(), clause_id=clause.pk)
            ag.review_close(user=other, agreement=fresh())

    # This week's new clause: not looked at in any review yet (in either world), so keeping it
    # in the open review does the same work in both.
    this_week = agree(b, kind="add", section="ok", text="We each take one evening for ourselves.")
    kept = ClauseText.objects.get(proposal=this_week).clause
    # The clauses the measured requests act on are worded by B in both worlds, so that A's
    # reading of the wording in force (recorded as a read of B's words) happens in both.
    clauses = [
        c
        for c in Clause.objects.filter(agreement=agreement, retired_at__isnull=True)
        .select_related("current")
        .order_by("created_at", "pk")
        if c.pk != kept.pk and c.current.author_id == b.pk
    ]
    assert len(clauses) >= 9, len(clauses)
    objs: dict[tuple[str, str], Any] = {
        ("agreement", "current"): fresh(),
        ("clause", "kept"): kept,
        ("clause", "propose"): clauses[1],
        # Changed after version 1: a proposal against version 1 is stale.
        ("clause", "changed"): next(c for c in clauses[8:] if c.current.in_version > 1),
    }
    # B's proposals for A to answer (partner_shared is read and opened, never answered).
    for variant, clause in zip(
        ("partner_shared", "accept_page", "accept_api", "decline_page", "decline_api"),
        clauses[2:7],
        strict=True,
    ):
        objs[("agreement_proposal", variant)] = propose(
            b, kind="change", clause_id=clause.pk, text=f"B proposes ({variant})."
        )
    for variant, section in (("counter_page", "recovery"), ("counter_api", "ok")):
        objs[("agreement_proposal", variant)] = propose(
            b, kind="add", section=section, text=f"B proposes ({variant})."
        )
    # A's own: revised (page, then API) and withdrawn.
    objs[("agreement_proposal", "own")] = propose(
        a, kind="change", clause_id=clauses[7].pk, text="A proposes a rewording."
    )
    for variant in ("withdraw_page", "withdraw_api"):
        objs[("agreement_proposal", variant)] = propose(
            a, kind="add", section="digital", text=f"A proposes ({variant})."
        )
    # The wordings in force each of them wrote.
    texts = ClauseText.objects.filter(pk__in=[c.current_id for c in in_force()])
    objs[("agreement_clause", "own")] = texts.filter(author=a).order_by("-in_version").first()
    objs[("agreement_clause", "partner_shared")] = (
        texts.filter(author=b).order_by("-in_version").first()
    )
    ag.review_call(user=b, agreement=fresh())
    ag.review_keep(user=b, agreement=fresh(), clause_id=objs[("clause", "kept")].pk)
    assert all(objs.values())
    return objs


def _seed_checkins_and_meetings(a: Any, b: Any, couple: Any, days: int) -> dict:
    """`days` of check-ins (both partners) and trust moments, a weekly meeting every week with
    both answers and four conversation notes, and this week's meeting still being answered."""
    now = timezone.now()
    today = local_today(a.time_zone)
    end = today - timedelta(days=1)
    recovery = _seed_recovery(a, b, couple, days)  # first: check-ins ask who is in recovery
    checkin_history([(a, couple), (b, couple)], days=days, rng=random.Random(5), end=end)
    moments = []
    for d in range(days):
        day = end - timedelta(days=d)
        moments.append(
            TrustMoment(
                author=a,
                couple=couple,
                audience=Audience.PARTNER,
                local_date=day,
                intention="Today I stay with my recovery.",
                acknowledged_at=now,
                acknowledged_by=b,
                response="Thank you for telling me.",
            )
        )
        moments.append(
            TrustMoment(
                author=b,
                couple=couple,
                audience=Audience.PARTNER,
                local_date=day,
                intention="Today I go to my meeting.",
            )
        )
    moments.append(
        TrustMoment(
            author=b,
            couple=couple,
            audience=Audience.PARTNER,
            local_date=today,
            intention="Today I call my sponsor.",
        )
    )
    TrustMoment.objects.bulk_create(moments, batch_size=500)
    title, prompts = builtin_prompts("weekly")
    this_week = week_of(today)
    weeks = max(days // 7, 2)
    meetings = [
        Meeting(
            couple=couple,
            week_of=this_week - timedelta(weeks=w),
            prompt_set_title=title,
            prompts=prompts,
            created_by=a,
            revealed_at=now,
            closed_at=now if w > 1 else None,
        )
        for w in range(1, weeks + 1)
    ]
    open_meeting = Meeting(
        couple=couple, week_of=this_week, prompt_set_title=title, prompts=prompts, created_by=b
    )
    # A meeting the partner has answered already: the measured submission reveals both.
    waiting = Meeting(
        couple=couple,
        week_of=this_week + timedelta(weeks=1),
        prompt_set_title=title,
        prompts=prompts,
        created_by=b,
    )
    Meeting.objects.bulk_create([*meetings, open_meeting, waiting])
    answers, notes = [], []
    answers.append(
        MeetingAnswer(
            author=b,
            couple=couple,
            audience=Audience.PARTNER,
            meeting=waiting,
            answers=json.dumps({"p0": "Waiting for you."}),
            submitted_at=now,
        )
    )
    for m in meetings:
        for who in (a, b):
            answers.append(
                MeetingAnswer(
                    author=who,
                    couple=couple,
                    audience=Audience.PARTNER,
                    meeting=m,
                    answers=json.dumps({p["key"]: "An answer." for p in prompts}),
                    submitted_at=now,
                )
            )
        for who, kind in ((a, "note"), (b, "reflection"), (a, "i_statement"), (b, "next_step")):
            notes.append(
                MeetingNote(
                    author=who,
                    couple=couple,
                    audience=Audience.PARTNER,
                    meeting=m,
                    kind=kind,
                    text="Said in the meeting.",
                )
            )
    MeetingAnswer.objects.bulk_create(answers, batch_size=500)
    MeetingNote.objects.bulk_create(notes, batch_size=500)
    last = meetings[0]
    shared = DailyCheckin.objects.filter(author=b, audience=Audience.PARTNER)
    return {
        ("checkin", "own"): DailyCheckin.objects.filter(author=a).order_by("-local_date").first(),
        ("checkin", "partner_shared"): shared.order_by("-local_date").first(),
        ("trust_moment", "own"): TrustMoment.objects.filter(author=a).order_by("-local_date")[0],
        ("trust_moment", "partner_shared"): TrustMoment.objects.get(author=b, local_date=today),
        ("meeting_answer", "own"): MeetingAnswer.objects.get(meeting=last, author=a),
        ("meeting_answer", "partner_shared"): MeetingAnswer.objects.get(meeting=last, author=b),
        ("meeting_note", "own"): MeetingNote.objects.get(meeting=last, author=a, kind="note"),
        ("meeting_note", "partner_shared"): MeetingNote.objects.get(
            meeting=last, author=b, kind="reflection"
        ),
        ("meeting", "revealed"): last,
        ("meeting", "open"): open_meeting,
        ("meeting", "waiting"): waiting,
        **recovery,
    }


def _seed_recovery(a: Any, b: Any, couple: Any, days: int) -> dict:
    """Both partners in recovery since the history began, each track shared with the other:
    a lapse on each every eight weeks or so (at least two), each partner's plan saved anew
    every four weeks (its revisions grow with the history), and an "I'm struggling" message
    from each every two weeks (the latest this week), answered by the other. Plus two more
    open tracks of A's, for the writes that end one."""
    from trellis.recovery import services as rec

    now = timezone.now()
    today = local_today(a.time_zone)
    start = today - timedelta(days=days + 1)

    def track(author: Any, what: str) -> RecoveryTrack:
        return RecoveryTrack.objects.create(
            author=author,
            couple=couple,
            audience=Audience.PARTNER,
            kind=RecoveryTrack.Kind.SUBSTANCE,
            what=what,
            since=start,
            goal="One day at a time.",
        )

    own, shared = track(a, "Alcohol"), track(b, "Gambling")
    end_page, end_api = track(a, "Sugar"), track(a, "Late-night scrolling")
    lapses = max(days // 56, 2)
    rows = []
    for t in (own, shared):
        for i in range(lapses):
            rows.append(
                Lapse(
                    author=t.author,
                    couple=couple,
                    audience=Audience.PARTNER if i % 3 else Audience.ONLY_ME,
                    track=t,
                    local_date=start + timedelta(days=(i + 1) * days // (lapses + 1)),
                    what_led="A hard week.",
                    prevention="Plan the weekends.",
                )
            )
    Lapse.objects.bulk_create(rows)
    for person in (a, b):
        plan = None
        for week in range(0, max(days // 7, 8), 4):
            plan = rec.plan_save(
                user=person,
                content={
                    "situations": [{"situation": f"Week {week}.", "coping": "Call a friend."}],
                    "warning_signs": ["Skipping meals."],
                    "contacts": [{"name": "Jo", "how": "+44 20 7946 0000"}],
                    "reasons": "My family.",
                },
                audience=Audience.PARTNER,
                expected_version=plan.version if plan is not None else None,
            )
    messages = []
    for k in range(max(days // 14, 2)):
        for author, other in ((a, b), (b, a)):
            messages.append(
                SupportMessage(
                    author=author,
                    couple=couple,
                    audience=Audience.PARTNER,
                    note="A hard moment.",
                    created_at=now - timedelta(days=14 * k, hours=2 if author == a else 1),
                    seen_at=now - timedelta(days=14 * k),
                    seen_by=other,
                    reply="here",
                )
            )
    SupportMessage.objects.bulk_create(messages)
    return {
        ("recovery_track", "own"): own,
        ("recovery_track", "partner_shared"): shared,
        ("recovery_track", "end_page"): end_page,
        ("recovery_track", "end_api"): end_api,
        # The latest of each shared with the partner, in both worlds (a lapse's audience set
        # to what it is already writes less).
        ("recovery_lapse", "own"): Lapse.objects.filter(
            track=own, audience=Audience.PARTNER
        ).first(),
        ("recovery_lapse", "partner_shared"): Lapse.objects.filter(
            track=shared, audience=Audience.PARTNER
        ).first(),
        ("recovery_plan", "own"): RecoveryPlan.objects.get(author=a),
        ("recovery_plan", "partner_shared"): RecoveryPlan.objects.get(author=b),
        ("support_message", "own"): SupportMessage.objects.filter(author=a).first(),
        ("support_message", "partner_shared"): SupportMessage.objects.filter(author=b).first(),
    }


def _refresh(world: World) -> None:
    for name in ("own", "partner_shared", "own_edit", "own_patch", "own_audience"):
        entry = getattr(world.entries, name)
        if JournalEntry.objects.filter(pk=entry.pk).exists():
            entry.refresh_from_db()


def _measure(world: World, method: str, path: str, kwargs: dict[str, Any]) -> tuple[int, int]:
    call = getattr(world.client, method.lower())
    with CaptureQueriesContext(connection) as ctx:
        response = call(path, **kwargs)
    return response.status_code, len(ctx.captured_queries)


@dataclass
class Plan:
    requests: list[Request] = field(default_factory=list)
    covered: set[str] = field(default_factory=set)  # pattern names and "METHOD /api/path"
    excluded: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def _plan(spec: dict[str, Any]) -> Plan:
    plan = Plan()
    api_paths = set(spec["paths"])
    for name, route, pattern in _walk(get_resolver()):
        reason = _excluded_reason(name, pattern)
        if reason is not None:
            plan.excluded[name] = reason
            continue
        if _openapi_path(route) in api_paths:
            continue  # measured per operation from the OpenAPI document below
        params = list(getattr(pattern.pattern, "converters", {}) or {})
        unknown = [p for p in params if p not in {"pk", "token", *PAGE_PARAMS}]
        ids = [p for p in params if p != "token"]
        if unknown or len(ids) > 1 or not isinstance(pattern.pattern.regex.pattern, str):
            plan.problems.append(f"{name}: don't know how to fill {unknown}; add it to _plan")
            continue
        id_param = ids[0] if ids else ""
        if id_param == "pk":
            obj_label, variants = _page_variants(pattern)
        elif id_param:
            obj_label, variants = PAGE_PARAMS[id_param]
        else:
            obj_label, variants = "", [""]
        for variant in variants:
            for query in ["", *QUERY_VARIANTS.get(name, [])]:

                def build(
                    w: World, route=route, variant=variant, query=query, ol=obj_label, p=id_param
                ):
                    values = {"token": FAKE_TOKEN}
                    if variant:
                        values[p] = str(w.obj(ol, variant).pk)
                    return "GET", _fill(route, values) + query, {}

                label = f"{name} GET{query}" + (f" [{variant}]" if variant else "")
                # A POST-only page answers GET with 405; it is measured by its write recipe.
                allowed = {200, 302, 405} if name in WRITES else {200, 302}
                plan.requests.append(Request(label, build, expect=allowed))
        for write in WRITES.get(name, []):
            plan.requests.append(write)
        plan.covered.add(name)

    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            key = f"{method.upper()} {path}"
            if key in EXCLUDED_OPERATIONS:
                plan.excluded[key] = EXCLUDED_OPERATIONS[key]
                continue
            if method == "get":
                tag = op.get("x-sharing", {})
                params = [p["name"] for p in op.get("parameters", []) if p.get("in") == "path"]
                unknown = [p for p in params if p not in ID_PARAMS]
                if unknown:
                    plan.problems.append(f"{key}: don't know how to fill {unknown}")
                    continue
                variants = ["own"]
                if tag.get("op") == "read":
                    variants = ["own", "partner_shared"]
                elif tag.get("op") == "couple":
                    variants = COUPLE_VARIANTS[tag["entry_type"]]
                if not params:
                    variants = [""]
                for variant in variants:
                    for query in ["", *QUERY_VARIANTS.get(key, [])]:

                        def build(
                            w: World,
                            path=path,
                            variant=variant,
                            query=query,
                            label=tag.get("entry_type", "journal"),
                            params=tuple(params),
                        ):
                            url = path
                            for param in params:
                                url = url.replace("{" + param + "}", str(w.obj(label, variant).pk))
                            return "GET", url + query, {}

                        label = f"{key}{query}" + (f" [{variant}]" if variant else "")
                        plan.requests.append(Request(label, build, expect={200}))
                plan.covered.add(key)
            elif key in WRITES:
                plan.requests.extend(WRITES[key])
                plan.covered.add(key)
            else:
                plan.problems.append(f"{key}: no measured request; add one to WRITES")
    # Every write recipe must belong to something that exists.
    for key in WRITES:
        if key not in plan.covered:
            plan.problems.append(f"WRITES[{key!r}] names no URL pattern or API operation")
    for label in LIMIT_OVERRIDES:
        if label not in {r.label for r in plan.requests}:
            plan.problems.append(f"LIMIT_OVERRIDES[{label!r}] names no measured request")
    return plan


def test_every_url_is_measured_or_excluded_with_a_reason(db):
    spec = _spec(Client())
    plan = _plan(spec)
    assert plan.problems == []
    names = {name for name, _, _ in _walk(get_resolver())}
    api_ops = {f"{m.upper()} {p}" for p, ops in spec["paths"].items() for m in ops}
    api_pattern_names = {
        name for name, route, _ in _walk(get_resolver()) if _openapi_path(route) in spec["paths"]
    }
    assert api_ops <= plan.covered | set(EXCLUDED_OPERATIONS)
    assert set(EXCLUDED_OPERATIONS) <= api_ops, "an excluded API operation no longer exists"
    assert names - api_pattern_names <= plan.covered | set(plan.excluded)
    assert all(reason.strip() for reason in plan.excluded.values())
    # Exclusions must not hide trellis pages.
    trellis_excluded = {n for n in plan.excluded if n not in EXCLUDED}
    assert all(
        not _module(p).startswith("trellis.")
        for n, _, p in _walk(get_resolver())
        if n in trellis_excluded
    )


def test_query_counts_do_not_grow_with_history(db):
    with time_machine.travel(timezone.now(), tick=False):
        short = _build_world(30, "qc30-")
        long = _build_world(730, "qc730-")
        assert JournalEntry.objects.filter(author__email__startswith="qc730-").count() == 2 * 730

        plan = _plan(_spec(short.client))
        assert plan.problems == []
        rows: list[tuple[str, int, int, int, int]] = []
        problems: list[str] = []
        for request in sorted(plan.requests, key=lambda r: r.order):
            results = []
            for world in (short, long):
                _refresh(world)
                method, path, kwargs = request.build(world)
                results.append(_measure(world, method, path, kwargs))
            (s30, q30), (s730, q730) = results
            rows.append((request.label, q30, q730, s30, s730))
            if s30 != s730:
                problems.append(f"{request.label}: status {s30} at D=30 but {s730} at D=730")
            if s30 == 405 and s30 not in request.expect:
                problems.append(f"{request.label}: GET is not allowed; add a recipe to WRITES")
            elif s30 not in request.expect:
                problems.append(f"{request.label}: status {s30}, expected one of {request.expect}")
            if q30 != q730:
                problems.append(f"{request.label}: {q30} queries at D=30 but {q730} at D=730")
            limit = LIMIT_OVERRIDES.get(request.label, (LIMIT, ""))[0]
            if max(q30, q730) > limit:
                problems.append(f"{request.label}: {max(q30, q730)} queries (limit {limit})")

    width = max(len(r[0]) for r in rows)
    print(f"\n{'request'.ljust(width)}  D=30  D=730  status")
    for label, q30, q730, s30, _ in rows:
        print(f"{label.ljust(width)}  {q30:>4}  {q730:>5}  {s30}")
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("name", sorted(EXCLUDED))
def test_each_named_exclusion_still_exists(name):
    assert name in {n for n, _, _ in _walk(get_resolver())}
