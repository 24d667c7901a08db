"""Exports (SPEC C16): a therapist takes out their own practice records with the redisclosure
notice; a partner takes out their homework completions and the consents they gave."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.personas import build_people
from trellis.accounts.export import export_for
from trellis.clinic import services
from trellis.clinic.notice import REDISCLOSURE_NOTICE
from trellis.couples.models import TherapistLink
from trellis.sharing.audiences import Audience

pytestmark = pytest.mark.django_db


def test_a_therapists_export_holds_their_practice_and_the_notice():
    p = build_people()
    link = TherapistLink.objects.get(therapist=p.lee, couple=p.couple)
    hw = services.homework_assign(
        therapist=p.lee,
        link_id=link.pk,
        kind="task",
        title="A walk without phones",
        due_on=timezone.localdate() + timedelta(days=3),
        assignees=[p.alex.pk],
    )
    done, _ = services.homework_complete(
        user=p.alex, homework_id=hw.pk, note="By the river.", audience=Audience.PARTNER_THERAPIST
    )
    services.appointment_create(
        therapist=p.lee, link_id=link.pk, starts_at=timezone.now() + timedelta(days=7)
    )
    services.note_create(
        therapist=p.lee,
        link_id=link.pk,
        kind="referral",
        on_date=timezone.localdate(),
        body="Referred to the GP about sleep.",
        referral_to="GP",
    )

    data = export_for(p.lee)
    assert data["notice"] == REDISCLOSURE_NOTICE
    assert data["notice"] == (
        "Shared with you in confidence for their care. "
        "It may not be redisclosed without their specific consent."
    )
    practice = data["practice"]
    assert [n["body"] for n in practice["notes"]] == ["Referred to the GP about sleep."]
    assert [(h["title"], h["assignees"]) for h in practice["homework"]] == [
        ("A walk without phones", [str(p.alex.pk)])
    ]
    assert len(practice["appointments"]) == 1
    # Never a partner's entry, even one shared with the therapist.
    assert data["entries"]["homework"] == []
    assert "By the river." not in str(data)

    alex = export_for(p.alex)
    assert [e["note"] for e in alex["entries"]["homework"]] == ["By the river."]
    assert alex["entries"]["homework"][0]["id"] == str(done.pk)
    assert "notice" not in alex and "practice" not in alex
    # Every consent Alex gave, the withdrawn and expired ones too; none of Sam's.
    therapists = sorted(c["therapist"] for c in alex["consents"])
    assert therapists == ["Dr. Lee", "Dr. Ortiz", "Dr. Quinn"]
    lee = next(c for c in alex["consents"] if c["therapist"] == "Dr. Lee")
    assert lee["scopes"] == ["journal"] and lee["withdrawn_at"] is None
    assert next(c for c in alex["consents"] if c["therapist"] == "Dr. Ortiz")["withdrawn_at"]
    assert export_for(p.sam)["consents"] == []
    # Another therapist's export holds none of Dr. Lee's records.
    assert export_for(p.noor)["practice"] == {"notes": [], "homework": [], "appointments": []}
