"""Every page and API operation of the daily check-in, the trust moment and the weekly meeting
answers a wrong HTTP method with 405, changing nothing. The pages are walked from the resolver
(a new one must be added to ALLOWED below) and the API from the OpenAPI document."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client
from django.urls import get_resolver, reverse

from tests.security.matrix import openapi_doc, walk_urls
from trellis.checkins.models import DailyCheckin, TrustMoment
from trellis.meetings import services
from trellis.meetings.models import Meeting, MeetingAnswer, MeetingNote

METHODS = ("get", "post", "put", "patch", "delete")
NAMESPACES = ("checkins", "meetings")
ALLOWED = {
    "checkins:today": {"get", "post"},
    "checkins:history": {"get"},
    "checkins:detail": {"get"},
    "checkins:audience": {"get", "post"},
    "checkins:revisions": {"get"},
    "checkins:trust": {"get", "post"},
    "checkins:trust_pause": {"post"},
    "checkins:trust_detail": {"get"},
    "checkins:trust_acknowledge": {"post"},
    "meetings:list": {"get", "post"},
    "meetings:detail": {"get"},
    "meetings:answer_save": {"post"},
    "meetings:note_add": {"post"},
    "meetings:close": {"post"},
    "meetings:answer": {"get"},
    "meetings:note": {"get"},
    "meetings:note_audience": {"get", "post"},
    "meetings:note_confirm": {"post"},
}


def _state() -> list:
    return [
        sorted(map(repr, model.objects.order_by("pk").values()))
        for model in (DailyCheckin, TrustMoment, Meeting, MeetingAnswer, MeetingNote)
    ]


@pytest.fixture
def objects(people):
    from tests.security.entries import make_entry

    meeting, _ = services.meeting_start(user=people.alex)
    return {
        DailyCheckin: make_entry("checkin", people.alex, "partner", "x").pk,
        TrustMoment: make_entry("trust_moment", people.alex, "partner", "x").pk,
        MeetingAnswer: make_entry("meeting_answer", people.alex, "partner", "x").pk,
        MeetingNote: make_entry("meeting_note", people.alex, "partner", "x").pk,
        Meeting: meeting.pk,
    }


def test_every_new_page_refuses_the_wrong_methods(people, objects):
    routes = [
        r for r in walk_urls(get_resolver()) if r.namespaces[:1] in [(n,) for n in NAMESPACES]
    ]
    assert {r.name for r in routes} == set(ALLOWED), "a new page: add its methods to ALLOWED"
    client = Client()
    client.force_login(people.alex)
    before = _state()
    checked = 0
    for route in routes:
        pk = objects.get(route.meta[0]) if route.meta else None
        for value in [pk, uuid.uuid4()] if route.id_kwargs else [None]:
            url = reverse(route.name, kwargs={k: value for k in route.id_kwargs} or None)
            for method in set(METHODS) - ALLOWED[route.name]:
                response = getattr(client, method)(url)
                checked += 1
                assert response.status_code == 405, (method, route.name, response.status_code)
                assert {m.strip() for m in response["Allow"].split(",")} == {
                    m.upper() for m in ALLOWED[route.name]
                }
    assert _state() == before
    assert checked > 100


def test_every_new_api_operation_refuses_the_wrong_methods(people, objects):
    client = Client()
    client.force_login(people.alex)
    by_label = {"meeting": objects[Meeting]}
    by_label.update({m.entry_type_label: pk for m, pk in objects.items() if m is not Meeting})
    before = _state()
    checked = 0
    for path, ops in openapi_doc()["paths"].items():
        if not path.startswith(("/api/checkins/", "/api/meetings/")):
            continue
        labels = {op.get("x-sharing", {}).get("entry_type") for op in ops.values()} - {None}
        pk = by_label.get(next(iter(labels), ""), uuid.uuid4())
        url = path
        for name in [p["name"] for op in ops.values() for p in op.get("parameters", [])]:
            url = url.replace("{" + name + "}", str(pk))
        for method in set(METHODS) - set(ops):
            response = getattr(client, method)(url, content_type="application/json")
            checked += 1
            assert response.status_code == 405, (method, path, response.status_code)
    assert _state() == before
    assert checked > 30
