"""S5 / security.md R25: security headers on every response, and CSRF on every session write.

The URLs are discovered the way the authorization matrix discovers them (walking the resolver,
reading the OpenAPI document), so a new page is checked without being listed here. Requests go
over HTTPS with the production transport settings, as a partner, a therapist and a visitor.
"""

from __future__ import annotations

import re
import uuid
from collections import Counter

import pytest
from django.test import Client, override_settings
from django.urls import NoReverseMatch, reverse

from tests.security.entries import make_entry
from tests.security.matrix import openapi_doc, walk_urls
from trellis.meetings.models import Meeting
from trellis.sharing.registry import entry_types

HTTPS_SETTINGS = {
    "SECURE_SSL_REDIRECT": True,
    "SECURE_HSTS_SECONDS": 31536000,
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
    "SECURE_HSTS_PRELOAD": True,
    "SESSION_COOKIE_SECURE": True,
    "CSRF_COOKIE_SECURE": True,
}
# Sample values for URL parameters that are not entry ids (tokens, keys).
SAMPLE_KWARGS = {"uidb36": "1", "key": "abc-def", "token": "not-a-real-token"}


def csp_directives(value: str) -> dict[str, list[str]]:
    out = {}
    for part in value.split(";"):
        words = part.split()
        if words:
            out[words[0].lower()] = words[1:]
    return out


def header_problems(resp, *, authenticated: bool) -> list[str]:
    problems = []
    csp = resp.headers.get("Content-Security-Policy")
    if not csp:
        problems.append("no Content-Security-Policy")
    else:
        d = csp_directives(csp)
        if d.get("default-src") != ["'self'"]:
            problems.append(f"default-src is {d.get('default-src')}")
        if d.get("frame-ancestors") != ["'none'"]:
            problems.append("frame-ancestors is not 'none'")
        if d.get("object-src") != ["'none'"]:
            problems.append("object-src is not 'none'")
        if "'unsafe-inline'" in csp or "'unsafe-eval'" in csp:
            problems.append("CSP allows unsafe-inline/unsafe-eval")
    if resp.headers.get("X-Content-Type-Options") != "nosniff":
        problems.append("no nosniff")
    if not resp.headers.get("Referrer-Policy"):
        problems.append("no Referrer-Policy")
    if resp.headers.get("X-Frame-Options") != "DENY":
        problems.append("X-Frame-Options is not DENY")
    if resp.headers.get("Cross-Origin-Opener-Policy") != "same-origin":
        problems.append("no COOP same-origin")
    hsts = resp.headers.get("Strict-Transport-Security", "")
    age = re.search(r"max-age=(\d+)", hsts)
    if not age or int(age.group(1)) < 31536000 or "includeSubDomains" not in hsts:
        problems.append(f"HSTS is {hsts!r}")
    cache = resp.headers.get("Cache-Control", "")
    if authenticated and "no-store" not in cache:
        problems.append(f"authenticated response cached: Cache-Control {cache!r}")
    return problems


def every_get_url(entry_pk, ids_by_model=None) -> tuple[list[str], list[str]]:
    """Every page URL the resolver knows, filled in, and every API GET from the OpenAPI doc.
    An id parameter gets an object of the view's model where `ids_by_model` has one (so the
    page itself answers), else `entry_pk`."""
    ids_by_model = ids_by_model or {}
    urls, unbuildable = [], []
    for r in walk_urls():
        if r.is_api:
            continue
        if not r.name:
            unbuildable.append(r.route)
            continue
        pk = ids_by_model.get(r.meta[0], entry_pk) if r.meta else entry_pk
        kwargs = {k: pk for k in r.id_kwargs}
        kwargs.update({k: SAMPLE_KWARGS.get(k, "sample") for k in r.other_kwargs})
        try:
            urls.append(reverse(r.name, kwargs=kwargs or None))
        except NoReverseMatch:
            unbuildable.append(r.route)
    doc = openapi_doc()
    by_label = {
        getattr(m, "entry_type_label", "") or "meeting": pk for m, pk in ids_by_model.items()
    }
    for path, ops in doc["paths"].items():
        if "get" in ops:
            label = ops["get"].get("x-sharing", {}).get("entry_type")
            pk = by_label.get(label, entry_pk)
            urls.append(re.sub(r"\{[^}]+\}", str(pk), path))
    urls.append("/api/openapi.json")
    urls += [f"/journal/{uuid.uuid4()}/", "/no-such-page/", "/api/journal/entries/nope"]
    return sorted(set(urls)), unbuildable


@pytest.mark.django_db
def test_security_headers_on_every_response(people, capsys):
    entry = make_entry("journal", people.alex, "partner", "Headers walk.")
    ids_by_model = {}
    for et in entry_types():
        made = make_entry(et.label, people.alex, "partner", "Headers walk.")
        ids_by_model[et.model] = made.pk
        if getattr(made, "meeting_id", None):
            ids_by_model[Meeting] = made.meeting_id
    with override_settings(**HTTPS_SETTINGS):
        urls, unbuildable = every_get_url(entry.pk, ids_by_model)
        assert unbuildable == [], f"cannot build URLs for {unbuildable}: add SAMPLE_KWARGS"
        assert len(urls) > 40
        visitors = {"partner": people.alex, "therapist": people.lee, "visitor": None}
        failures, statuses, responses = [], Counter(), 0
        for who, user in visitors.items():
            client = Client()
            if user is not None:
                client.force_login(user)
            for url in urls:
                resp = client.get(url, secure=True)
                responses += 1
                statuses[resp.status_code] += 1
                assert resp.status_code < 500, f"{url} as {who}: {resp.status_code}"
                for problem in header_problems(resp, authenticated=user is not None):
                    failures.append(f"{who} GET {url} ({resp.status_code}): {problem}")
        # Plain HTTP is redirected to HTTPS, with the same headers on the redirect.
        plain = Client().get("/journal/")
        assert plain.status_code == 301 and plain["Location"].startswith("https://")
    with capsys.disabled():
        print(
            f"\n[S5 headers] {responses} responses over {len(urls)} URLs; statuses {dict(statuses)}"
        )
    assert failures == [], "\n".join(failures[:40])


@pytest.mark.django_db
def test_logout_clears_site_data(people):
    client = Client()
    client.force_login(people.alex)
    resp = client.post("/accounts/logout/")
    assert resp.status_code == 302
    assert '"cache"' in resp.headers.get("Clear-Site-Data", "")
    assert '"storage"' in resp.headers.get("Clear-Site-Data", "")


@pytest.mark.django_db
def test_csrf_is_enforced_on_pages_and_api(people):
    from trellis.journal.models import JournalEntry

    client = Client(enforce_csrf_checks=True)
    client.force_login(people.alex)
    form = {"title": "", "body": "No token.", "audience": "me", "kind": "journal"}

    # A page form without the token: refused, nothing saved.
    resp = client.post("/journal/new/", form)
    assert resp.status_code == 403
    # The session-authenticated API without the token: refused, nothing saved.
    resp = client.post(
        "/api/journal/entries",
        data={"body": "No token.", "audience": "me"},
        content_type="application/json",
    )
    assert resp.status_code in (401, 403)
    target = make_entry("journal", people.alex, "me", "Keep me.")
    resp = client.delete(f"/api/journal/entries/{target.pk}")
    assert resp.status_code in (401, 403)
    resp = client.post(f"/journal/{target.pk}/delete/")
    assert resp.status_code == 403
    assert JournalEntry.objects.filter(pk=target.pk).exists()
    assert JournalEntry.objects.filter(author=people.alex).count() == 1

    # The same requests with the token go through: the refusal above was the CSRF check.
    assert client.get("/journal/new/").status_code == 200  # sets the CSRF cookie
    token = client.cookies[_csrf_cookie_name()].value
    form["csrfmiddlewaretoken"] = token
    assert client.post("/journal/new/", form).status_code == 302
    resp = client.post(
        "/api/journal/entries",
        data={"body": "With token.", "audience": "me"},
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert resp.status_code == 201
    assert JournalEntry.objects.filter(author=people.alex).count() == 3


def _csrf_cookie_name() -> str:
    from django.conf import settings

    return settings.CSRF_COOKIE_NAME


def test_the_header_check_can_fail():
    from django.http import HttpResponse

    bare = HttpResponse("hi")
    problems = header_problems(bare, authenticated=True)
    assert len(problems) == 7, problems
    bare["Content-Security-Policy"] = "default-src 'self'; style-src 'self' 'unsafe-inline'"
    assert any("unsafe-inline" in p for p in header_problems(bare, authenticated=True))
