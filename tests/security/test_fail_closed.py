"""security.md R11: a fault inside the visibility check denies; it never shows an entry.

The policy's query builder is made to raise; every entry surface the matrix discovers (pages
and API, single entries and lists, responding to an entry, the meeting pages and API that show
answers and notes) and every other page without parameters must answer without any of the
entries' text — 404 or 500 where an entry is asked for — to the author and to the partner alike.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.security.entries import (
    api_call,
    api_request,
    couple_page_post,
    make_entry,
    page_post_data,
)
from tests.security.matrix import CANARY, discover_api, discover_pages, openapi_doc, walk_urls
from trellis.sharing import policy
from trellis.sharing.registry import entry_types


@pytest.mark.django_db
def test_a_fault_in_the_policy_denies_everywhere(people, monkeypatch):
    pages = discover_pages(walk_urls())
    apis = discover_api(openapi_doc(), pages.api_id_paths)
    marker = "failclosedmarker"
    made = {
        et.label: make_entry(et.label, people.alex, "partner", f"{marker} {CANARY}")
        for et in entry_types()
    }
    # Sam's side too, so the meeting shows both answers once it works again.
    sams = make_entry("meeting_answer", people.sam, "partner", f"{marker} {CANARY} (Sam)")
    meeting_id = made["meeting_answer"].meeting_id
    assert sams.meeting_id == meeting_id

    def broken(viewer, label, gate=None):
        raise RuntimeError("policy store unavailable")

    monkeypatch.setattr(policy, "_visible_q", broken)
    checked = 0
    for user in (people.alex, people.sam):
        client = Client(raise_request_exception=False)
        client.force_login(user)
        reads, posts = [], []
        for route, model, op in pages.entry_pages:
            entry = made[model.entry_type_label]
            url = reverse(route.name, kwargs={k: entry.pk for k in route.id_kwargs})
            if op == "read":
                reads.append(url)
            elif op == "respond":
                posts.append((url, page_post_data(route.name, entry)))
        for route, _, op in pages.collection_pages:
            reads.append(reverse(route.name) + ("?q=" + CANARY if op == "search" else ""))
        for op in apis.entry_ops:
            if op.op == "read" and op.method == "get":
                entry = made[op.entry_type]
                reads.append(op.path.replace("{" + op.path_params[0] + "}", str(entry.pk)))
        for op in apis.collection_ops:
            reads += [op.path, f"{op.path}?q={CANARY}"]
        # The meeting that holds the answers: its page and API show them when all is well.
        for route, label, _ in pages.couple_pages:
            if label == "meeting" and couple_page_post(route.name) is None:
                reads.append(reverse(route.name, kwargs={k: meeting_id for k in route.id_kwargs}))
        for op in apis.couple_ops:
            if op.entry_type == "meeting" and op.method == "get":
                reads.append(op.path.replace("{" + op.path_params[0] + "}", str(meeting_id)))
        reads.append("/home/")
        for url in reads:
            resp = client.get(url)
            checked += 1
            assert resp.status_code in (404, 500), f"{url}: {resp.status_code}"
            assert marker.encode() not in resp.content, url
            assert b"policy store unavailable" not in resp.content, url
        # Responding (acknowledging, confirming) needs the entry from the policy: refused.
        for url, data in posts:
            resp = client.post(url, data)
            checked += 1
            assert resp.status_code in (404, 500), f"POST {url}: {resp.status_code}"
            assert marker.encode() not in resp.content, url
        for op in apis.entry_ops:
            if op.op == "respond":
                entry = made[op.entry_type]
                # A valid request (the matrix's own), so only the policy can refuse it.
                body, headers = api_request(op.method, op.path, entry, needs_body=op.has_body)
                resp = api_call(
                    client,
                    op.method,
                    op.path.replace("{" + op.path_params[0] + "}", str(entry.pk)),
                    body,
                    headers,
                )
                checked += 1
                assert resp.status_code in (404, 500), f"POST {op.path}: {resp.status_code}"
        # Every other page without parameters (today's check-in, the dashboard, the meeting
        # list, settings...): whatever it answers, none of the entries' words.
        for route in pages.plain_pages:
            resp = client.get(reverse(route.name))
            checked += 1
            assert marker.encode() not in resp.content, route.name
            assert b"policy store unavailable" not in resp.content, route.name
    assert checked >= 100
