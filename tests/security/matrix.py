"""The authorization matrix (QUALITY.md S1; security.md R1, R4, R10), as a reusable core.

`run_matrix(people)` discovers what to check instead of listing it:

- entry types from trellis.sharing.registry.entry_types();
- pages by walking django.urls.get_resolver(): every pattern taking an entry id must carry
  `sharing_meta` (trellis.sharing.views_meta.entry_view), and list/search views are tagged too;
- API operations from the OpenAPI document: every operation with a path parameter must carry
  `x-sharing` {entry_type, op};

- couple-scoped objects (a weekly meeting, a couple's agreement) from pages tagged
  (Model, "couple") and API operations tagged {entry_type: "meeting", op: "couple"}, whose
  models have a factory in tests/security/entries.py;

then runs every actor of tests.personas.People.actors() against every entry (every type x every
audience x three authors, with each type's variants — a meeting answer before and after the
reveal — plus entries Alex wrote in his old couple space) through every one of those operations,
against meetings and agreements of Alex's couple, of the other couple and of the old couple
(checking too that their pages never show an entry the actor may not read), and through the
meeting pages that show answers and notes, and compares each answer with tests.oracle, which
knows nothing of the policy's code. Of a type a person has only one of (a relapse-prevention
plan), each author's entries are made and checked one round after another (entry_rounds), so
that every audience of it still meets every actor on every surface. It returns a Report instead
of asserting, so a test can also run it against a planted mutant of the policy and check that it
notices.
"""

from __future__ import annotations

import copy
import re
import time
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.shortcuts import resolve_url
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.converters import UUIDConverter
from django.urls.resolvers import RegexPattern

from tests.oracle import CoupleObject, World
from tests.oracle import Entry as OracleEntry
from tests.security import clinic_objects as clinic
from tests.security.entries import (
    COUPLE_STATES,
    EXTRA_ENTRIES,
    OLD_COUPLE_OPTIONS,
    ONE_PER_AUTHOR,
    SUMMARY_PAGES,
    VARIANTS,
    api_call,
    api_request,
    couple_api_request,
    couple_object_restore,
    couple_object_signs,
    couple_object_state,
    couple_page_post,
    couple_scoped_models,
    entry_state,
    make_couple_object,
    make_entry,
    page_post_data,
)
from trellis.sharing.audiences import Audience
from trellis.sharing.registry import entry_types

CANARY = "heronmatrix"  # one word in every entry's body: the search term
ENTRY_OPS = {"read", "author", "respond"}
WRITE_ENTRY_OPS = {"author", "respond"}  # pages of these ops are also POSTed to
COLLECTION_OPS = {"list", "search"}
COUPLE_OPS = {"couple"}
ALL_OPS = ENTRY_OPS | COLLECTION_OPS | COUPLE_OPS | {"export"}
ID_KWARG = re.compile(r"^(pk|id|uuid|.+_id|.+_pk|.+_uuid)$")
API_NAMESPACE = "api"
EXPORT_URL_NAME = "accounts:export_download"


# --- discovery -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    route: str  # e.g. "journal/<uuid:pk>/"
    name: str  # namespaced, e.g. "journal:detail" ("" when unnamed)
    namespaces: tuple[str, ...]
    id_kwargs: tuple[str, ...]
    other_kwargs: tuple[str, ...]
    callback: Any

    @property
    def meta(self) -> tuple[type, str] | None:
        return getattr(self.callback, "sharing_meta", None)

    @property
    def is_api(self) -> bool:
        return bool(self.namespaces) and self.namespaces[0] == API_NAMESPACE

    def openapi_path(self) -> str:
        return "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", self.route)


def walk_urls(resolver: URLResolver | None = None) -> list[Route]:
    """Every URL pattern, recursively through includes, with its namespaced name."""
    out: list[Route] = []

    def walk(res: URLResolver, prefix: str, namespaces: tuple[str, ...]) -> None:
        for p in res.url_patterns:
            if isinstance(p, URLResolver):
                ns = (*namespaces, p.namespace) if p.namespace else namespaces
                walk(p, prefix + str(p.pattern), ns)
                continue
            assert isinstance(p, URLPattern)
            pattern = p.pattern
            ids: list[str] = []
            others: list[str] = []
            converters = getattr(pattern, "converters", {}) or {}
            for kw, conv in converters.items():
                (ids if isinstance(conv, UUIDConverter) or ID_KWARG.match(kw) else others).append(
                    kw
                )
            if isinstance(pattern, RegexPattern):
                for kw in pattern.regex.groupindex:
                    (ids if ID_KWARG.match(kw) else others).append(kw)
            name = ":".join((*namespaces, p.name)) if p.name else ""
            out.append(
                Route(
                    route=prefix + str(pattern),
                    name=name,
                    namespaces=namespaces,
                    id_kwargs=tuple(ids),
                    other_kwargs=tuple(others),
                    callback=p.callback,
                )
            )

    walk(resolver or get_resolver(), "", ())
    return out


@dataclass
class PageDiscovery:
    entry_pages: list[tuple[Route, type, str]] = field(default_factory=list)
    collection_pages: list[tuple[Route, type, str]] = field(default_factory=list)
    couple_pages: list[tuple[Route, str, type]] = field(
        default_factory=list
    )  # (route, label, model)
    # The therapist workspace's objects: (route, label, op), see tests/security/clinic_objects.py
    clinic_pages: list[tuple[Route, str, str]] = field(default_factory=list)
    plain_pages: list[Route] = field(default_factory=list)  # no parameters: crawlable
    api_id_paths: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)


def discover_pages(routes: Iterable[Route]) -> PageDiscovery:
    registered = {et.model for et in entry_types()}
    couple_models = {model: label for label, model in couple_scoped_models().items()}
    found = PageDiscovery()
    for r in routes:
        if r.is_api:
            if r.id_kwargs:
                found.api_id_paths.add(r.openapi_path())
            continue
        meta = r.meta
        if meta is not None and (
            meta[1] in clinic.CLINIC_OPS
            or (meta[1] in COUPLE_OPS and clinic.label_of(meta[0]) is not None)
        ):
            label = clinic.label_of(meta[0])
            if label is None:
                found.problems.append(
                    f"{r.route} is tagged {meta[1]!r} for {meta[0]!r}, which has no factory in "
                    "tests/security/clinic_objects.py: the matrix cannot check it"
                )
            elif not r.id_kwargs or not r.name or r.other_kwargs:
                found.problems.append(f"{r.route} is tagged {meta[1]!r} but cannot be reversed")
            else:
                found.clinic_pages.append((r, label, meta[1]))
            continue
        if meta is not None and meta[1] in COUPLE_OPS:
            model = meta[0]
            if model not in couple_models:
                found.problems.append(
                    f"{r.route} is tagged 'couple' for {model!r}, which has no factory in "
                    "tests/security/entries.py couple_scoped_models(): the matrix cannot check it"
                )
            elif not r.id_kwargs:
                found.problems.append(f"{r.route} is tagged 'couple' but takes no id")
            elif not r.name or r.other_kwargs:
                found.problems.append(f"{r.route} is tagged 'couple' but cannot be reversed")
            else:
                found.couple_pages.append((r, couple_models[model], model))
            continue
        if meta is not None:
            model, op = meta
            if model not in registered:
                found.problems.append(f"{r.route} is tagged for {model!r}, not a registered type")
                continue
            if op not in ALL_OPS:
                found.problems.append(f"{r.route} is tagged with unknown op {op!r}")
                continue
        if r.id_kwargs:
            if meta is None:
                found.problems.append(
                    f"{r.route} ({r.name or 'unnamed'}) takes an entry id "
                    f"({', '.join(r.id_kwargs)}) but its view is not tagged with "
                    "trellis.sharing.views_meta.entry_view: the matrix cannot check it"
                )
            elif meta[1] not in ENTRY_OPS:
                found.problems.append(f"{r.route} takes an id but is tagged {meta[1]!r}")
            elif not r.name:
                found.problems.append(f"{r.route} takes an entry id but has no URL name")
            elif r.other_kwargs:
                found.problems.append(f"{r.route} has parameters the matrix cannot fill")
            else:
                found.entry_pages.append((r, meta[0], meta[1]))
            continue
        if meta is not None and meta[1] in COLLECTION_OPS | {"export"}:
            if not r.name or r.other_kwargs:
                found.problems.append(f"{r.route} is tagged {meta[1]!r} but cannot be reversed")
            else:
                found.collection_pages.append((r, meta[0], meta[1]))
        elif meta is not None:
            found.problems.append(f"{r.route} is tagged {meta[1]!r} but takes no entry id")
        if not r.other_kwargs and r.name:
            found.plain_pages.append(r)
    return found


@dataclass(frozen=True)
class ApiOp:
    method: str
    path: str  # OpenAPI path, e.g. /api/journal/entries/{entry_id}
    entry_type: str
    op: str
    path_params: tuple[str, ...]
    query_params: tuple[str, ...]
    has_body: bool


@dataclass
class ApiDiscovery:
    entry_ops: list[ApiOp] = field(default_factory=list)
    collection_ops: list[ApiOp] = field(default_factory=list)
    couple_ops: list[ApiOp] = field(default_factory=list)
    clinic_ops: list[ApiOp] = field(default_factory=list)
    plain_gets: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def discover_api(doc: dict[str, Any], api_id_paths: Iterable[str] = ()) -> ApiDiscovery:
    labels = {et.label for et in entry_types()}
    couple_labels = set(couple_scoped_models())
    found = ApiDiscovery()
    seen_paths = set()
    for path, operations in doc.get("paths", {}).items():
        for method, op in operations.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            seen_paths.add(path)
            params = op.get("parameters", [])
            path_params = tuple(p["name"] for p in params if p.get("in") == "path")
            query_params = tuple(p["name"] for p in params if p.get("in") == "query")
            tag = op.get("x-sharing")
            where = f"{method.upper()} {path}"
            if tag is None:
                if path_params:
                    found.problems.append(
                        f"{where} takes a path parameter but carries no x-sharing "
                        "{entry_type, op} (openapi_extra): the matrix cannot check it"
                    )
                elif method == "get":
                    found.plain_gets.append(path)
                continue
            if isinstance(tag, dict) and (
                tag.get("op") in clinic.CLINIC_OPS
                or (tag.get("op") in COUPLE_OPS and tag.get("entry_type") in clinic.clinic_models())
            ):
                if tag.get("entry_type") not in clinic.clinic_models():
                    found.problems.append(
                        f"{where}: x-sharing op {tag.get('op')!r} names {tag.get('entry_type')!r},"
                        " which has no factory in tests/security/clinic_objects.py"
                    )
                elif len(path_params) != 1:
                    found.problems.append(f"{where} is a clinic operation without one id")
                else:
                    found.clinic_ops.append(
                        ApiOp(
                            method,
                            path,
                            tag["entry_type"],
                            tag["op"],
                            path_params,
                            query_params,
                            bool(op.get("requestBody")),
                        )
                    )
                continue
            if isinstance(tag, dict) and tag.get("op") in COUPLE_OPS:
                if tag.get("entry_type") not in couple_labels:
                    found.problems.append(
                        f"{where}: x-sharing op 'couple' names {tag.get('entry_type')!r}, which "
                        "has no factory in tests/security/entries.py couple_scoped_models()"
                    )
                elif len(path_params) != 1:
                    found.problems.append(f"{where} is a couple operation without one id")
                else:
                    found.couple_ops.append(
                        ApiOp(
                            method,
                            path,
                            tag["entry_type"],
                            "couple",
                            path_params,
                            query_params,
                            bool(op.get("requestBody")),
                        )
                    )
                continue
            if not isinstance(tag, dict) or tag.get("entry_type") not in labels:
                found.problems.append(f"{where}: x-sharing names no registered entry type")
                continue
            api_op = ApiOp(
                method,
                path,
                tag["entry_type"],
                tag.get("op", ""),
                path_params,
                query_params,
                bool(op.get("requestBody")),
            )
            if api_op.op in ENTRY_OPS:
                if len(path_params) != 1:
                    found.problems.append(f"{where} is an entry operation without one entry id")
                else:
                    found.entry_ops.append(api_op)
            elif api_op.op in COLLECTION_OPS and method == "get" and not path_params:
                found.collection_ops.append(api_op)
            else:
                found.problems.append(f"{where}: x-sharing op {api_op.op!r} does not fit")
    for missing in sorted(set(api_id_paths) - seen_paths):
        found.problems.append(
            f"The API route {missing} takes an id but is not in the OpenAPI document "
            "(include_in_schema=False?): the matrix cannot check it"
        )
    return found


def openapi_doc() -> dict[str, Any]:
    resp = Client().get("/api/openapi.json", secure=True)
    assert resp.status_code == 200, resp.status_code
    return resp.json()


# --- the run ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mismatch:
    actor: str
    entry: str
    op: str
    expected: str
    got: str


@dataclass
class Report:
    cells: int = 0
    crawl_checks: int = 0
    unexpected_allows: list[Mismatch] = field(default_factory=list)
    unexpected_denies: list[Mismatch] = field(default_factory=list)
    denial_shape: list[Mismatch] = field(default_factory=list)  # denied, but not the plain 404
    errors: list[Mismatch] = field(default_factory=list)
    audit: list[str] = field(default_factory=list)
    per_op: Counter = field(default_factory=Counter)
    allowed_non_author_reads: int = 0
    entries: int = 0
    couple_objects: int = 0

    def summary(self) -> str:
        return (
            f"entries: {self.entries}; couple objects: {self.couple_objects}; "
            f"cells checked: {self.cells}; crawl checks: {self.crawl_checks}; "
            f"unexpected allows: {len(self.unexpected_allows)}; "
            f"unexpected denies: {len(self.unexpected_denies)}; "
            f"denials unlike a missing entry: {len(self.denial_shape)}; "
            f"other errors: {len(self.errors)}; audit mismatches: {len(self.audit)}; "
            f"allowed non-author reads audited: {self.allowed_non_author_reads}"
        )

    def problems(self) -> list[Any]:
        return [
            *self.unexpected_allows,
            *self.unexpected_denies,
            *self.denial_shape,
            *self.errors,
            *self.audit,
        ]


@dataclass
class Made:
    entry: Any
    desc: str
    marker: str
    model: type
    label: str
    original: Any  # a copy as created, to put back after an allowed (or leaked) write


@dataclass
class MadeCouple:
    """A couple-scoped object (a meeting) made for the matrix."""

    obj: Any
    desc: str
    marker: str
    label: str
    state: str
    original: Any


def login_url() -> str:
    return resolve_url(settings.LOGIN_URL)


def mark_reauthenticated(client: Client, user: Any) -> None:
    """Record a fresh password re-authentication in the session, as allauth does on success
    (allauth.account.internal.flows.login.record_authentication)."""
    from allauth.account.internal.userkit import user_id_to_str

    session = client.session
    session["account_authentication_methods"] = [
        {"method": "password", "at": time.time(), "reauthenticated": True}
    ]
    session["account_authentication_methods_user"] = user_id_to_str(user)
    session.save()


@dataclass(frozen=True)
class Spec:
    """An entry the matrix makes: its type, author, audience, description and factory options."""

    label: str
    author: str  # "alex", "sam" or "casey"
    audience: str
    desc: str
    options: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)


def make_entries(people: Any, specs: Iterable[Spec]) -> list[Made]:
    authors = {"alex": people.alex, "sam": people.sam, "casey": people.casey}
    made: list[Made] = []
    for spec in specs:
        marker = f"mx{uuid.uuid4().hex[:16]}"
        entry = make_entry(
            spec.label,
            authors[spec.author],
            spec.audience,
            f"{marker} {CANARY} written for the authorization matrix",
            title=f"t{marker}",
            **spec.options,
        )
        made.append(Made(entry, spec.desc, marker, type(entry), spec.label, copy.copy(entry)))
    return made


def entry_rounds(people: Any, labels: set[str] | None = None) -> list[list[Spec]]:
    """What the matrix makes, in rounds: everything in the first (round 0), except entries of
    a type a person has only one of (ONE_PER_AUTHOR in tests/security/entries.py), of which
    each author's k-th goes into round k."""
    rounds: list[list[Spec]] = [[]]
    seen: Counter = Counter()
    for spec in entry_specs(people, labels):
        k = 0
        if spec.label in ONE_PER_AUTHOR:
            k = seen[(spec.label, spec.author)]
            seen[(spec.label, spec.author)] += 1
        while len(rounds) <= k:
            rounds.append([])
        rounds[k].append(spec)
    return rounds


def entry_specs(people: Any, labels: set[str] | None = None) -> list[Spec]:
    made: list[Spec] = []

    def add(label: str, author_name: str, audience: str, desc: str, **kw: Any) -> None:
        made.append(Spec(label, author_name, audience, desc, kw))

    def suffixed(desc: str, suffix: str) -> str:
        return f"{desc}/{suffix}" if suffix else desc

    for et in entry_types():
        if labels is not None and et.label not in labels:
            continue
        for author_name in ("alex", "sam", "casey"):
            for audience in Audience.values:
                for suffix, options in VARIANTS.get(et.label, [("", {})]):
                    desc = suffixed(f"{et.label}/{author_name}/{audience}", suffix)
                    add(et.label, author_name, audience, desc, **options)
        for suffix, options in OLD_COUPLE_OPTIONS.get(et.label, [("", {})]):
            add(
                et.label,
                "alex",
                Audience.PARTNER,
                suffixed(f"{et.label}/alex/partner/old-couple", suffix),
                couple_id=people.old_couple.pk,
                **options,
            )
        for author_name, audience, suffix, options in EXTRA_ENTRIES.get(et.label, []):
            desc = suffixed(f"{et.label}/{author_name}/{audience}", suffix)
            add(et.label, author_name, audience, desc, **options)
    return made


def build_couple_objects(people: Any) -> list[MadeCouple]:
    """Every couple-scoped object kind, in each of its states, for Alex's couple, the other
    couple and Alex's old (ended) couple space."""
    made: list[MadeCouple] = []
    couples = {"alex": people.couple, "other": people.other_couple, "old": people.old_couple}
    for label in couple_scoped_models():
        for couple_name, couple in couples.items():
            for state in COUPLE_STATES[label]:
                marker = f"mq{uuid.uuid4().hex[:16]}"
                obj = make_couple_object(label, couple.pk, state, marker)
                made.append(
                    MadeCouple(
                        obj, f"{label}/{couple_name}/{state}", marker, label, state, copy.copy(obj)
                    )
                )
    return made


def widen_consents() -> None:
    """The personas' consents cover the journal; for the matrix they cover every registered
    entry type, so that a therapist's reads are checked on each (narrower scopes are exercised
    by the state machine)."""
    from trellis.couples.models import Consent, ConsentScope

    labels = [et.label for et in entry_types()]
    rows = [
        ConsentScope(consent_id=pk, entry_type=label)
        for pk in Consent.objects.values_list("pk", flat=True)
        for label in labels
        if not ConsentScope.objects.filter(consent_id=pk, entry_type=label).exists()
    ]
    ConsentScope.objects.bulk_create(rows)


def _snapshot(m: Made) -> dict[str, Any] | None:
    row = m.model.objects.filter(pk=m.entry.pk).values().first()
    extra = entry_state(m.label, m.entry)  # e.g. the lapses logged on a track
    return {"row": row, **extra} if extra else row


def _restore(m: Made) -> None:
    m.model.objects.filter(pk=m.entry.pk).delete()
    copy.copy(m.original).save(force_insert=True)


def _fresh(m: Made) -> Any:
    return m.model.objects.get(pk=m.entry.pk)


class _Runner:
    def __init__(self, people: Any, report: Report):
        self.people = people
        self.report = report
        self.actors: dict[str, Any] = people.actors()
        self.clients: dict[str, Client] = {}
        for name, user in self.actors.items():
            c = Client()
            if user is not None:
                c.force_login(user)
            self.clients[name] = c
        self.baselines: dict[tuple[str, str, str], bytes] = {}
        self.login = login_url()
        self.allowed_reads: set[tuple[Any, Any]] = set()
        self.refusals: set[tuple[str, str, str]] = set()

    # verdicts: allow / deny / deny-shape / na (405 on a GET-only page) / error
    def page_verdict(self, resp: Any, anon: bool, method: str, baseline: bytes | None) -> str:
        s = resp.status_code
        if anon:
            if s == 302 and resp["Location"].startswith(self.login):
                return "deny"
            return "allow" if s < 300 else "error"
        if s == 404:
            return "deny" if baseline is None or resp.content == baseline else "deny-shape"
        if s == 405:
            return "na"
        if s == 403:
            return "deny-shape"
        if s == 200 or (method != "get" and 200 <= s < 400 and not self._to_login(resp)):
            return "allow"
        return "error"

    def api_verdict(self, resp: Any, anon: bool, baseline: bytes | None) -> str:
        s = resp.status_code
        if anon:
            return "deny" if s == 401 else ("allow" if s < 300 else "error")
        if s == 404:
            return "deny" if baseline is None or resp.content == baseline else "deny-shape"
        if 200 <= s < 300:
            return "allow"
        if s == 403:
            return "deny-shape"
        return "error"

    def _to_login(self, resp: Any) -> bool:
        return resp.status_code in (301, 302) and resp["Location"].startswith(self.login)

    def record(self, actor: str, m: Made, op: str, expected: bool, verdict: str) -> None:
        rep = self.report
        rep.cells += 1
        rep.per_op[op] += 1
        mm = Mismatch(actor, m.desc, op, "allow" if expected else "deny", verdict)
        if expected:
            if verdict != "allow":
                (rep.errors if verdict == "error" else rep.unexpected_denies).append(mm)
        elif verdict == "allow":
            rep.unexpected_allows.append(mm)
        elif verdict == "deny-shape":
            rep.denial_shape.append(mm)
        elif verdict == "error":
            rep.errors.append(mm)

    def baseline(self, actor: str, key: str, method: str, make: Any) -> bytes:
        k = (actor, key, method)
        if k not in self.baselines:
            resp = make()
            # 404 for an id that does not exist; 405 where the page refuses the method before
            # looking anything up (the same answer then for every id).
            if self.actors[actor] is not None and resp.status_code not in (404, 405):
                self.report.errors.append(
                    Mismatch(actor, "(random id)", f"{method} {key}", "404", str(resp.status_code))
                )
            self.baselines[k] = resp.content
        return self.baselines[k]

    def check_write(self, actor: str, m: Made, op: str, before: Any, allowed: bool) -> None:
        after = _snapshot(m)
        if after != before:
            if not allowed:
                self.report.unexpected_allows.append(
                    Mismatch(actor, m.desc, op, "unchanged", "the entry changed")
                )
            _restore(m)

    def check_couple_write(
        self, actor: str, c: MadeCouple, op: str, before: Any, allowed: bool
    ) -> None:
        after = couple_object_state(c.label, c.obj)
        if after != before:
            if not allowed:
                self.report.unexpected_allows.append(
                    Mismatch(actor, c.desc, op, "unchanged", "the object changed")
                )
            couple_object_restore(c.label, c.obj, c.original)

    def get_only(self, actor: str, desc: str, op: str, resp: Any, anon: bool) -> None:
        """A page that only answers GET: a POST is refused the same for everyone (405), or the
        anonymous visitor is sent to sign in."""
        v = self.page_verdict(resp, anon, "post", None)
        self.report.cells += 1
        self.report.per_op[f"{op} (GET-only)"] += 1
        if v not in ("na", "deny" if anon else "na"):
            self.report.errors.append(Mismatch(actor, desc, op, "405", str(resp.status_code)))

    def post_only(self, op: str) -> None:
        """A page that only answers POST answered GET with 405 (before looking anything up)."""
        self.report.cells += 1
        self.report.per_op[f"{op} (POST-only)"] += 1


def run_matrix(
    people: Any,
    *,
    only_actors: set[str] | None = None,
    only_labels: set[str] | None = None,
    couple_objects: bool = True,
    clinic_objects: bool = True,
) -> Report:
    """Run the whole matrix (or, for a quicker mutant check, only some actors, some entry types,
    and without the couple objects)."""
    report = Report()
    pages = discover_pages(walk_urls())
    apis = discover_api(openapi_doc(), pages.api_id_paths)
    if pages.problems or apis.problems:
        raise AssertionError(
            "Discovery found what the matrix cannot check:\n"
            + "\n".join(pages.problems + apis.problems)
        )
    widen_consents()
    rounds = entry_rounds(people, only_labels)
    made = make_entries(people, rounds[0])
    # After the entries: an agreement remembers what it holds when made (its clauses among
    # them), and is put back to exactly that after an allowed write.
    couple_made = build_couple_objects(people) if couple_objects else []
    report.couple_objects = len(couple_made)
    run = _Runner(people, report)
    if only_actors is not None:
        run.actors = {k: v for k, v in run.actors.items() if k in only_actors}

    every = list(made)
    _run_round(run, made, couple_made, pages, apis)
    if clinic_objects:
        clinic_made = clinic.build(people)
        report.couple_objects += len(clinic_made)
        _run_clinic(run, clinic_made, pages, apis)
    for specs in rounds[1:]:
        # A type a person has one of: the round before's are deleted before the next are made
        # (each with an id of its own, so that the record of reads tells the rounds apart).
        for m in made:
            if m.label in ONE_PER_AUTHOR:
                m.model.objects.filter(pk=m.entry.pk).delete()
        made = make_entries(people, specs)
        every += made
        _run_round(run, made, [], pages, apis)

    report.entries = len(every)
    _audit(run, every)
    return report


def _run_round(
    run: _Runner, made: list[Made], couple_made: list[MadeCouple], pages: Any, apis: Any
) -> None:
    """Every actor through every surface, for the entries of one round (and the couple objects
    in the first)."""
    world = World.load()
    facts = {m.entry.pk: OracleEntry.of(m.entry) for m in made}
    # The meetings that hold the matrix's answers and notes: their pages show them too.
    hosts: dict[Any, list[Made]] = {}
    for m in made:
        meeting_id = facts[m.entry.pk].meeting_id
        if meeting_id is not None:
            hosts.setdefault(meeting_id, []).append(m)

    for actor, user in run.actors.items():
        actor_id = user.pk if user is not None else None
        anon = user is None
        client = run.clients[actor]
        for m in made:
            fact = facts[m.entry.pk]
            if world.may_read(actor_id, fact) and actor_id != fact.author_id:
                run.allowed_reads.add((actor_id, fact.id))
            _entry_pages(run, actor, actor_id, anon, client, m, fact, world, pages)
            _entry_api(run, actor, actor_id, anon, client, m, fact, world, apis)
        hidden = [m for m in made if not world.may_read(actor_id, facts[m.entry.pk])]
        for c in couple_made:
            _couple_object(run, actor, actor_id, anon, client, c, world, pages, apis, hidden)
        _host_meetings(run, actor, actor_id, anon, client, hosts, facts, world, pages, apis)
        _collections(run, actor, actor_id, anon, client, made, facts, world, pages, apis)
        _export(run, actor, user, client, made, facts, world)
        _crawl(run, actor, actor_id, client, made, facts, world, pages, apis, couple_made)


def _entry_pages(run, actor, actor_id, anon, client, m, fact, world, pages) -> None:
    for route, model, op in pages.entry_pages:
        if model is not m.model:
            continue
        expected = world.decide(actor_id, fact, op)

        def url(pk: Any, route: Route = route) -> str:
            return reverse(route.name, kwargs={kw: pk for kw in route.id_kwargs})

        base = run.baseline(actor, route.name, "get", lambda u=url: client.get(u(uuid.uuid4())))
        if op in WRITE_ENTRY_OPS and (actor, route.name, "refuses get") in run.refusals:
            # The page refuses GET before looking anything up (405 for any id, the random one
            # included): asked once per actor and page, not for every entry.
            resp, verdict = None, "na"
        else:
            resp = client.get(url(m.entry.pk))
            verdict = run.page_verdict(resp, anon, "get", base)
        if verdict == "na" and op in WRITE_ENTRY_OPS:
            run.refusals.add((actor, route.name, "refuses get"))
            run.post_only(f"page GET {route.name}")  # e.g. acknowledging: a POST, never a GET
        else:
            if verdict == "allow" and op == "read" and m.marker.encode() not in resp.content:
                verdict = "error"  # answered 200 without the entry: not a real read
            if verdict != "allow" and m.marker.encode() in resp.content:
                verdict = "allow"
            run.record(actor, m, f"page GET {route.name}", expected, verdict)

        if op not in WRITE_ENTRY_OPS:
            continue
        data = page_post_data(route.name, _fresh(m))
        if data is None:
            # A GET-only page: its POST is refused before anything is looked up; asked once per
            # actor and page (and nothing may change).
            if (actor, route.name, "refuses post") in run.refusals:
                continue
            run.refusals.add((actor, route.name, "refuses post"))
            before = _snapshot(m)
            resp = client.post(url(m.entry.pk), {})
            run.get_only(actor, m.desc, f"page POST {route.name}", resp, anon)
            run.check_write(actor, m, f"page POST {route.name}", before, False)
            continue
        before = _snapshot(m)
        base = run.baseline(
            actor, route.name, "post", lambda u=url, d=data: client.post(u(uuid.uuid4()), d)
        )
        resp = client.post(url(m.entry.pk), data)
        verdict = run.page_verdict(resp, anon, "post", base)
        run.record(actor, m, f"page POST {route.name}", expected, verdict)
        run.check_write(actor, m, f"page POST {route.name}", before, expected)


def _entry_api(run, actor, actor_id, anon, client, m, fact, world, apis) -> None:
    for op in apis.entry_ops:
        if op.entry_type != m.label:
            continue
        expected = world.decide(actor_id, fact, op.op)
        param = op.path_params[0]
        body, headers = api_request(op.method, op.path, _fresh(m), needs_body=op.has_body)

        def url(pk: Any, op: ApiOp = op, param: str = param) -> str:
            return op.path.replace("{" + param + "}", str(pk))

        key = f"{op.method} {op.path}"
        base = run.baseline(
            actor,
            op.path,
            op.method,
            lambda u=url, b=body, h=headers, op=op: api_call(
                client, op.method, u(uuid.uuid4()), b, h
            ),
        )
        before = _snapshot(m)
        resp = api_call(client, op.method, url(m.entry.pk), body, headers)
        verdict = run.api_verdict(resp, anon, base)
        if verdict == "allow" and op.op == "read" and m.marker.encode() not in resp.content:
            verdict = "error"
        if verdict != "allow" and m.marker.encode() in resp.content:
            verdict = "allow"
        run.record(actor, m, f"API {key}", expected, verdict)
        if op.method != "get":
            run.check_write(actor, m, f"API {key}", before, expected)


def _couple_object(run, actor, actor_id, anon, client, c, world, pages, apis, hidden) -> None:
    """Every page and API operation taking a couple object's id, on one object: its couple's
    current members only; everyone else gets the plain 404 and changes nothing. What the object
    shows of the entries it holds (an agreement's wordings and proposals) is never an entry the
    oracle hides from the actor (`hidden`: the matrix's entries this actor may not read)."""
    expected = world.decide(actor_id, CoupleObject.of(c.obj, c.label), "couple")
    signs = [s.encode() for s in couple_object_signs(c.label, c.obj, c.marker)]

    def shown(resp: Any) -> bool:
        for m in hidden:
            run.report.crawl_checks += 1
            if m.marker.encode() in resp.content:
                run.report.unexpected_allows.append(
                    Mismatch(actor, m.desc, f"{op} of {c.desc}", "absent", "marker shown")
                )
        return any(s in resp.content for s in signs)

    for route, label, _model in pages.couple_pages:
        if label != c.label:
            continue

        def url(pk: Any, route: Route = route) -> str:
            return reverse(route.name, kwargs={kw: pk for kw in route.id_kwargs})

        op = f"page GET {route.name}"
        base = run.baseline(actor, route.name, "get", lambda u=url: client.get(u(uuid.uuid4())))
        resp = client.get(url(c.obj.pk))
        verdict = run.page_verdict(resp, anon, "get", base)
        if verdict == "na":
            run.post_only(op)
        else:
            seen = shown(resp)
            if verdict == "allow" and not seen:
                verdict = "error"
            if verdict != "allow" and seen:
                verdict = "allow"
            run.record(actor, c, op, expected, verdict)

        post = couple_page_post(route.name)
        op = f"page POST {route.name}"
        before = couple_object_state(c.label, c.obj)
        if post is None:
            resp = client.post(url(c.obj.pk), {})
            run.get_only(actor, c.desc, op, resp, anon)
            run.check_couple_write(actor, c, op, before, False)
            continue
        states, make_data = post
        if c.state not in states:
            continue
        data = make_data(type(c.obj).objects.get(pk=c.obj.pk))
        base = run.baseline(
            actor, route.name, "post", lambda u=url, d=data: client.post(u(uuid.uuid4()), d)
        )
        resp = client.post(url(c.obj.pk), data)
        verdict = run.page_verdict(resp, anon, "post", base)
        if verdict != "allow" and shown(resp):
            verdict = "allow"
        run.record(actor, c, op, expected, verdict)
        run.check_couple_write(actor, c, op, before, expected)

    for api_op in apis.couple_ops:
        if api_op.entry_type != c.label:
            continue
        states, make_request = couple_api_request(api_op.method, api_op.path)
        if c.state not in states:
            continue
        param = api_op.path_params[0]
        body, headers = make_request(type(c.obj).objects.get(pk=c.obj.pk))

        def api_url(pk: Any, api_op: ApiOp = api_op, param: str = param) -> str:
            return api_op.path.replace("{" + param + "}", str(pk))

        key = op = f"API {api_op.method} {api_op.path}"
        base = run.baseline(
            actor,
            api_op.path,
            api_op.method,
            lambda u=api_url, b=body, h=headers, o=api_op: api_call(
                client, o.method, u(uuid.uuid4()), b, h
            ),
        )
        before = couple_object_state(c.label, c.obj)
        resp = api_call(client, api_op.method, api_url(c.obj.pk), body, headers)
        verdict = run.api_verdict(resp, anon, base)
        seen = shown(resp)
        if verdict == "allow" and api_op.method == "get" and not seen:
            verdict = "error"
        if verdict != "allow" and seen:
            verdict = "allow"
        run.record(actor, c, key, expected, verdict)
        if api_op.method != "get":
            run.check_couple_write(actor, c, key, before, expected)


def _host_meetings(run, actor, actor_id, anon, client, hosts, facts, world, pages, apis) -> None:
    """The meeting pages and API that show answers and notes: an entry shows there only to a
    current member of the meeting's couple who may read it (so never before the reveal, to
    anyone but its author), and the page itself is the plain 404 for everybody else."""
    reads: list[tuple[str, Any]] = []
    for route, label, _model in pages.couple_pages:
        if label == "meeting" and couple_page_post(route.name) is None:
            reads.append((f"meeting page {route.name}", route))
    for api_op in apis.couple_ops:
        if api_op.entry_type == "meeting" and api_op.method == "get":
            reads.append((f"meeting API {api_op.path}", api_op))
    for meeting_id, entries in hosts.items():
        couple_id = world.meetings[meeting_id][0]
        member = world.decide(actor_id, CoupleObject(meeting_id, couple_id, "meeting"), "couple")
        for op, how in reads:
            if isinstance(how, Route):
                base = run.baseline(
                    actor,
                    how.name,
                    "get",
                    lambda r=how: client.get(
                        reverse(r.name, kwargs={kw: uuid.uuid4() for kw in r.id_kwargs})
                    ),
                )
                resp = client.get(
                    reverse(how.name, kwargs={kw: meeting_id for kw in how.id_kwargs})
                )
                verdict = run.page_verdict(resp, anon, "get", base)
            else:
                param = how.path_params[0]
                base = run.baseline(
                    actor,
                    how.path,
                    "get",
                    lambda o=how, p=param: client.get(
                        o.path.replace("{" + p + "}", str(uuid.uuid4()))
                    ),
                )
                resp = client.get(how.path.replace("{" + param + "}", str(meeting_id)))
                verdict = run.api_verdict(resp, anon, base)
            desc = f"meeting holding {entries[0].desc}"
            holder = MadeCouple(None, desc, "", "meeting", "", None)
            run.record(actor, holder, op, member, verdict)
            ok = verdict in ("allow", "deny")
            for m in entries:
                expected = member and world.may_read(actor_id, facts[m.entry.pk])
                present = m.marker.encode() in resp.content
                run.record(
                    actor, m, op, expected, "allow" if present else ("deny" if ok else "error")
                )


def _present(m: Made, content: bytes) -> bool:
    return str(m.entry.pk).encode() in content or m.marker.encode() in content


def _collections(run, actor, actor_id, anon, client, made, facts, world, pages, apis) -> None:
    # Only the lists of types with entries in this round (a later round holds one type).
    models, labels = {m.model for m in made}, {m.label for m in made}
    for route, model, op in pages.collection_pages:
        if op == "export":
            continue  # below, with its re-authentication
        if model not in models:
            continue
        url = reverse(route.name)
        query = {"q": CANARY} if op == "search" else {}
        resp = client.get(url, query)
        ok = (anon and run._to_login(resp)) or (not anon and resp.status_code == 200)
        if route.name in SUMMARY_PAGES:
            run.report.cells += 1
            run.report.per_op[f"page summary {route.name}"] += 1
            if not ok:
                run.report.errors.append(
                    Mismatch(actor, "(summary)", f"page {route.name}", "200", str(resp.status_code))
                )
            continue
        for m in made:
            if m.model is not model:
                continue
            expected = world.decide(actor_id, facts[m.entry.pk], op)
            verdict = "allow" if _present(m, resp.content) else ("deny" if ok else "error")
            run.record(actor, m, f"page {op} {route.name}", expected, verdict)
    for op in apis.collection_ops:
        if op.entry_type not in labels:
            continue
        variants = [("list", {"limit": 100})]
        if "q" in op.query_params:
            variants.append(("search", {"limit": 100, "q": CANARY}))
        for kind, query in variants:
            resp = client.get(op.path, query)
            ids: set[str] = set()
            ok = anon and resp.status_code == 401
            if resp.status_code == 200:
                data = resp.json()
                ok = True
                # A page ({count, items}) or a plain list of the most recent ones.
                items = data.get("items", []) if isinstance(data, dict) else data
                ids = {str(item.get("id")) for item in items}
                if isinstance(data, dict) and data.get("count", 0) > len(items):
                    ok = False  # more than a page: the check below would be blind
            for m in made:
                if m.label != op.entry_type:
                    continue
                expected = world.decide(actor_id, facts[m.entry.pk], kind)
                present = str(m.entry.pk) in ids or m.marker.encode() in resp.content
                verdict = "allow" if present else ("deny" if ok else "error")
                run.record(actor, m, f"API {kind} GET {op.path}", expected, verdict)


def _export(run, actor, user, client, made, facts, world) -> None:
    url = reverse(EXPORT_URL_NAME)
    if user is not None:
        mark_reauthenticated(client, user)
    resp = client.post(url)
    ids: set[str] = set()
    ok = user is None and run._to_login(resp)
    if resp.status_code == 200:
        ok = True
        data = resp.json()
        for items in data.get("entries", {}).values():
            ids |= {str(item.get("id")) for item in items}
    for m in made:
        expected = world.decide(user.pk if user else None, facts[m.entry.pk], "export")
        present = str(m.entry.pk) in ids or m.marker.encode() in resp.content
        verdict = "allow" if present else ("deny" if ok else "error")
        run.record(actor, m, "export POST " + EXPORT_URL_NAME, expected, verdict)


def _crawl(run, actor, actor_id, client, made, facts, world, pages, apis, couple_made) -> None:
    """Every other page and API read, as this actor: no entry the oracle hides may show up
    (the home page's "shared with you", activity pages, anything new and untagged), and no
    couple object of a couple the actor is not a current member of."""
    hidden = [m.marker for m in made if not world.may_read(actor_id, facts[m.entry.pk])]
    descs = {m.marker: m.desc for m in made}
    for c in couple_made:
        if not world.decide(actor_id, CoupleObject.of(c.obj, c.label), "couple"):
            for sign in couple_object_signs(c.label, c.obj, c.marker):
                hidden.append(sign)
                descs[sign] = c.desc
    urls = [reverse(r.name) for r in pages.plain_pages]
    urls += list(apis.plain_gets)
    for url in urls:
        resp = client.get(url)
        for marker in hidden:
            run.report.crawl_checks += 1
            if marker.encode() in resp.content:
                run.report.unexpected_allows.append(
                    Mismatch(actor, descs[marker], f"crawl GET {url}", "absent", "marker shown")
                )


def _audit(run: _Runner, made: list[Made]) -> None:
    """R10: the authors' record of reads equals the allowed non-author reads, no more, no less."""
    from trellis.sharing.models import AuditEvent

    ids = [m.entry.pk for m in made]
    rows = set(
        AuditEvent.objects.filter(action=AuditEvent.Action.READ, entry_id__in=ids).values_list(
            "actor_id", "entry_id"
        )
    )
    owners_ok = not AuditEvent.objects.filter(
        action=AuditEvent.Action.READ, entry_id__in=ids, actor_id__in=[None]
    ).exists()
    by_id = {m.entry.pk: m for m in made}
    names = {u.pk: n for n, u in run.actors.items() if u is not None}
    for actor_id, entry_id in sorted(rows - run.allowed_reads, key=str):
        run.report.audit.append(
            f"read recorded for {names.get(actor_id, actor_id)} on {by_id[entry_id].desc}, "
            "which the oracle denies"
        )
    for actor_id, entry_id in sorted(run.allowed_reads - rows, key=str):
        run.report.audit.append(
            f"allowed read by {names.get(actor_id, actor_id)} of {by_id[entry_id].desc} "
            "was not recorded"
        )
    if not owners_ok:
        run.report.audit.append("a read row without an actor")
    wrong_owner = AuditEvent.objects.filter(action=AuditEvent.Action.READ, entry_id__in=ids)
    for ev in wrong_owner:
        if ev.owner_id != by_id[ev.entry_id].entry.author_id:
            run.report.audit.append(
                f"read row for {by_id[ev.entry_id].desc} filed under another owner"
            )
    run.report.allowed_non_author_reads = len(run.allowed_reads & rows)


def _run_clinic(run: _Runner, made: list[clinic.MadeClinic], pages: Any, apis: Any) -> None:
    """The therapist workspace's objects (tests/security/clinic_objects.py): every page and API
    operation taking one's id, for every actor, against its own oracle; a denial is the plain
    404 and changes nothing; and the crawl finds none of them on a page or API read of an actor
    who may not see it."""
    for actor, user in run.actors.items():
        actor_id = user.pk if user is not None else None
        anon = user is None
        client = run.clients[actor]
        for c in made:
            _clinic_object(run, actor, actor_id, anon, client, c, pages, apis)
        hidden = [
            (s, c.desc)
            for c in made
            if not clinic.may_see(actor_id, c.label, c.obj)
            for s in clinic.signs(c)
        ]
        urls = [reverse(r.name) for r in pages.plain_pages] + list(apis.plain_gets)
        for url in urls:
            resp = client.get(url)
            for sign, desc in hidden:
                run.report.crawl_checks += 1
                if sign.encode() in resp.content:
                    run.report.unexpected_allows.append(
                        Mismatch(actor, desc, f"crawl GET {url}", "absent", "shown")
                    )


def _clinic_changed(run: _Runner, actor: str, c: Any, op: str, before: Any, allowed: bool) -> None:
    after = clinic.snapshot(c.label, c.obj)
    if after != before:
        if not allowed:
            run.report.unexpected_allows.append(
                Mismatch(actor, c.desc, op, "unchanged", "the object changed")
            )
        clinic.restore(c)


def _clinic_object(run, actor, actor_id, anon, client, c, pages, apis) -> None:
    signs = [s.encode() for s in clinic.signs(c)]
    model = type(c.obj)

    def seen(resp: Any) -> bool:
        return any(s in resp.content for s in signs)

    for route, label, op_kind in pages.clinic_pages:
        if label != c.label:
            continue
        expected = clinic.may_use(actor_id, c.label, c.obj, op_kind)

        def url(pk: Any, route: Route = route) -> str:
            return reverse(route.name, kwargs={kw: pk for kw in route.id_kwargs})

        op = f"page GET {route.name}"
        base = run.baseline(actor, route.name, "get", lambda u=url: client.get(u(uuid.uuid4())))
        resp = client.get(url(c.obj.pk))
        verdict = run.page_verdict(resp, anon, "get", base)
        if verdict == "na":
            run.post_only(op)
        else:
            if verdict == "allow" and not seen(resp):
                verdict = "error"
            if verdict != "allow" and seen(resp):
                verdict = "allow"
            run.record(actor, c, op, expected, verdict)
        make = clinic.page_post(route.name)
        op = f"page POST {route.name}"
        before = clinic.snapshot(c.label, c.obj)
        if make is None:
            resp = client.post(url(c.obj.pk), {})
            run.get_only(actor, c.desc, op, resp, anon)
            _clinic_changed(run, actor, c, op, before, False)
            continue
        data = make(model.objects.get(pk=c.obj.pk))
        base = run.baseline(
            actor, route.name, "post", lambda u=url, d=data: client.post(u(uuid.uuid4()), d)
        )
        resp = client.post(url(c.obj.pk), data)
        verdict = run.page_verdict(resp, anon, "post", base)
        if verdict == "allow" and resp.status_code == 200 and b"errorlist" in resp.content:
            verdict = "error"  # the form was refused: the valid data is not valid any more
        run.record(actor, c, op, expected, verdict)
        _clinic_changed(run, actor, c, op, before, expected)

    for api_op in apis.clinic_ops:
        if api_op.entry_type != c.label:
            continue
        expected = clinic.may_use(actor_id, c.label, c.obj, api_op.op)
        param = api_op.path_params[0]
        body, headers = clinic.api_request(
            api_op.method, api_op.path, model.objects.get(pk=c.obj.pk), needs_body=api_op.has_body
        )

        def api_url(pk: Any, api_op: ApiOp = api_op, param: str = param) -> str:
            return api_op.path.replace("{" + param + "}", str(pk))

        key = f"API {api_op.method} {api_op.path}"
        base = run.baseline(
            actor,
            api_op.path,
            api_op.method,
            lambda u=api_url, b=body, h=headers, o=api_op: api_call(
                client, o.method, u(uuid.uuid4()), b, h
            ),
        )
        before = clinic.snapshot(c.label, c.obj)
        resp = api_call(client, api_op.method, api_url(c.obj.pk), body, headers)
        verdict = run.api_verdict(resp, anon, base)
        if verdict == "allow" and api_op.method == "get" and not seen(resp):
            verdict = "error"
        if verdict != "allow" and seen(resp):
            verdict = "allow"
        run.record(actor, c, key, expected, verdict)
        if api_op.method != "get":
            _clinic_changed(run, actor, c, key, before, expected)
