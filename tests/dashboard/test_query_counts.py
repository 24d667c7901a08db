"""P1: the dashboard runs the same, small number of queries at 30 and at 730 days of history."""

from __future__ import annotations

import random

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from trellis.checkins.models import DailyCheckin
from trellis.demo.seed import checkin_history, seed_bench

pytestmark = pytest.mark.django_db
LIMIT = 12


def _world(days: int, prefix: str) -> tuple[Client, Client]:
    ((a, b, couple),) = seed_bench(couples=1, days=days, prefix=prefix)
    made = checkin_history(
        [(a, couple), (b, couple)],
        days=days,
        rng=random.Random(5),
        end=timezone.localdate(),
    )
    assert made > days  # both partners, most days
    clients = []
    for user in (a, b):
        client = Client()
        client.force_login(user)
        client.get("/trivial")  # settle the session
        clients.append(client)
    return clients[0], clients[1]


def _count(client: Client, path: str) -> int:
    # A path ending in "#hx" is asked as htmx asks it (the table of daily values alone).
    path, hx = path.removesuffix("#hx"), path.endswith("#hx")
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path, **({"HTTP_HX_REQUEST": "true"} if hx else {}))
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_dashboard_queries_do_not_grow_with_history():
    with time_machine.travel(timezone.now(), tick=False):
        short = _world(30, "dash30-")
        long = _world(730, "dash730-")
        assert DailyCheckin.objects.filter(author__email__startswith="dash730-").count() > 1200

        rows = []
        paths = (
            "/dashboard/",
            "/dashboard/?range=90",
            "/dashboard/?range=bogus",
            "/dashboard/?range=90&values=mood",
            "/dashboard/?range=90&values=mood#hx",
        )
        for path in paths:
            for who in (0, 1):
                # Twice: the first view writes the day's read rows, the second finds them there.
                for attempt in (1, 2):
                    q30 = _count(short[who], path)
                    q730 = _count(long[who], path)
                    rows.append((path, who, attempt, q30, q730))
        print("\npath, partner, attempt, D=30, D=730")
        for row in rows:
            print(*row)
        assert all(q30 == q730 for _, _, _, q30, q730 in rows), rows
        assert max(max(q30, q730) for *_, q30, q730 in rows) <= LIMIT, rows
