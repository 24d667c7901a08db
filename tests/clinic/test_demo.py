"""The demo practice: Dr. Lee's caseload tells a story a newcomer can explore."""

from __future__ import annotations

import random

import pytest
from django.test import Client

from trellis.accounts.services import api_token_create
from trellis.clinic import selectors
from trellis.clinic.models import Appointment, Clinic, Homework, HomeworkCompletion, SessionNote
from trellis.couples.models import Consent
from trellis.demo.seed import DEMO_PASSWORD, clinic_history, seed_demo

pytestmark = pytest.mark.django_db


def test_the_demo_therapist_has_four_couples_and_something_to_attend_to():
    demo = seed_demo(days=3)
    rows = selectors.caseload(demo.therapist)
    assert len(rows) == 4
    assert any(row.signals for row in rows)
    kinds = {s.kind for row in rows for s in row.signals}
    assert {"rising_craving", "missed_checkins"} <= kinds

    ours = next(row for row in rows if row.link.couple_id == demo.couple.pk)
    scopes = {pc.name: pc.scopes for pc in ours.partners}
    assert scopes == {
        "Alex": ["checkin", "homework", "journal", "recovery_lapse", "recovery_track"],
        "Sam": ["checkin", "homework", "meeting_answer"],
    }
    assert ours.next_appointment is not None

    # Homework: one open for both, one Alex did and shared, one Sam did and shared.
    work = selectors.homework_for_link(demo.therapist, ours.link, ours.link.created_at.date())
    assert len(work) == 3
    done = {
        name: sum(1 for row in work for _, n, c in row.assignees if n == name and c is not None)
        for name in ("Alex", "Sam")
    }
    assert done == {"Alex": 1, "Sam": 1}
    assert Appointment.objects.filter(link=ours.link).values_list("kind", flat=True).count() == 2
    assert set(SessionNote.objects.filter(link=ours.link).values_list("kind", flat=True)) == {
        "session",
        "referral",
    }
    assert all(c.is_active for c in Consent.objects.filter(link=ours.link))

    # The administrator signs in like the therapist (same demo password and TOTP secret) and
    # runs the clinic, where Dr. Lee practises.
    assert demo.admin is not None and demo.admin.check_password(DEMO_PASSWORD)
    clinic = Clinic.objects.get(name="Harbour Counselling")
    assert [m.user for m in selectors.clinic_therapists(clinic)] == [demo.therapist]
    from allauth.mfa.models import Authenticator

    assert Authenticator.objects.filter(user=demo.admin, type="totp").exists()

    # Again: nothing added twice.
    counts = (Homework.objects.count(), HomeworkCompletion.objects.count(), Clinic.objects.count())
    clinic_history(
        demo.therapist,
        demo.admin,
        demo.alex,
        demo.sam,
        ours.link,
        now=ours.link.created_at,
        rng=random.Random(1),
    )
    assert (
        Homework.objects.count(),
        HomeworkCompletion.objects.count(),
        Clinic.objects.count(),
    ) == counts


def test_the_demo_caseload_answers_over_the_api():
    demo = seed_demo(days=3)
    _, raw = api_token_create(user=demo.therapist, name="tests")
    lee = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    rows = lee.get("/api/clinic/caseload").json()
    assert len(rows) == 4 and rows[0]["attention"] >= 1
    ours = next(r for r in rows if r["couple"] == "Alex & Sam")
    detail = lee.get(f"/api/clinic/caseload/{ours['link_id']}").json()
    assert detail["timeline"] and len(detail["homework"]) == 3
    _, raw = api_token_create(user=demo.sam, name="tests")
    sam = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    homework = sam.get("/api/clinic/my/homework").json()
    assert len(homework) == 2
