"""The daily trust moment (SPEC C3, principle 4): the person in recovery states today's
intention, only the partner acknowledges it, either partner pauses it alone and at once, and
only the one who paused resumes it."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from tests.checkins.conftest import give_recovery_track
from tests.personas import give_consent
from trellis.checkins.models import TrustMoment, TrustPractice

TRUST = reverse("checkins:trust")
PAUSE = reverse("checkins:trust_pause")


def _ack_url(moment) -> str:
    return reverse("checkins:trust_acknowledge", args=[moment.pk])


def _api_ack(client, moment, response=""):
    return client.post(
        f"/api/checkins/trust/{moment.pk}/acknowledge",
        data=json.dumps({"response": response}),
        content_type="application/json",
    )


def _state(client, text="Today I stay with my recovery."):
    return client.post(TRUST, {"intention": text})


def _moment_state(moment) -> tuple:
    moment.refresh_from_db()
    return (moment.acknowledged_at, moment.acknowledged_by_id, moment.response)


# --- Stating -----------------------------------------------------------------------------------


def test_only_a_person_with_a_recovery_track_states_an_intention(people, client_for, api_for):
    sam = client_for(people.sam)
    response = _state(sam)
    assert response.status_code == 200
    assert response.context["form"].errors["intention"] == [
        "The trust moment is for a partner with a recovery track."
    ]
    assert b"recovery track" in response.content
    api = api_for(people.sam).put(
        "/api/checkins/trust/today",
        data=json.dumps({"intention": "I will."}),
        content_type="application/json",
    )
    assert api.status_code == 422
    assert ["body", "intention"] in [d["loc"] for d in api.json()["detail"]]
    assert not TrustMoment.objects.exists()

    give_recovery_track(people.alex)
    assert _state(client_for(people.alex)).status_code == 302
    moment = TrustMoment.objects.get(author=people.alex)
    assert (moment.intention, moment.audience, moment.couple) == (
        "Today I stay with my recovery.",
        "partner",
        people.couple,
    )


def test_an_intention_must_be_written_and_short(recovering, people, client_for, api_for):
    client = client_for(people.alex)
    assert list(_state(client, "   ").context["form"].errors) == ["intention"]
    assert list(_state(client, "x" * 501).context["form"].errors) == ["intention"]
    for body in ({"intention": ""}, {"intention": "x" * 501}, {"intent": "typo"}):
        response = api_for(people.alex).put(
            "/api/checkins/trust/today", data=json.dumps(body), content_type="application/json"
        )
        assert response.status_code == 422
        assert any(
            ("intention" in d["loc"]) or ("intent" in d["loc"]) for d in response.json()["detail"]
        )
    assert not TrustMoment.objects.exists()


def test_one_intention_a_day_changeable_until_acknowledged(recovering, people, client_for):
    alex = client_for(people.alex)
    _state(alex, "First words.")
    _state(alex, "Better words.")
    moment = TrustMoment.objects.get(author=people.alex)
    assert moment.intention == "Better words." and moment.version == 2
    assert client_for(people.sam).post(_ack_url(moment), {"response": ""}).status_code == 302
    response = _state(alex, "Changed after the acknowledgement.")
    assert response.context["form"].errors["intention"] == [
        "Today's intention was already acknowledged."
    ]
    moment.refresh_from_db()
    assert moment.intention == "Better words."


# --- Acknowledging -----------------------------------------------------------------------------


def test_only_the_partner_acknowledges(recovering, people, client_for, api_for):
    _state(client_for(people.alex))
    moment = TrustMoment.objects.get(author=people.alex)
    # Dr. Lee may read it (consent for trust moments, shared with "partner and our therapist"),
    # and still cannot acknowledge it: that is the partner's act.
    give_consent(people.alex, people.lee, people.couple, scopes=["trust_moment"])
    TrustMoment.objects.filter(pk=moment.pk).update(audience="partner_therapist")
    assert (
        client_for(people.lee).get(reverse("checkins:trust_detail", args=[moment.pk])).status_code
        == 200
    )
    for who in (people.alex, people.lee, people.casey, people.pat, people.noor):
        assert client_for(who).post(_ack_url(moment), {"response": "x"}).status_code == 404, who
        assert _api_ack(api_for(who), moment, "x").status_code == 404, who
        assert _moment_state(moment) == (None, None, "")
    assert (
        client_for(people.sam).post(_ack_url(moment), {"response": "Proud of you."}).status_code
        == 302
    )
    acknowledged_at, by, response = _moment_state(moment)
    assert acknowledged_at is not None and by == people.sam.pk and response == "Proud of you."
    # Acknowledging again changes nothing (the first acknowledgement stands).
    assert _api_ack(api_for(people.sam), moment, "Again").status_code == 200
    assert _moment_state(moment) == (acknowledged_at, people.sam.pk, "Proud of you.")


def test_the_acknowledge_button_is_offered_to_the_partner_only(recovering, people, client_for):
    _state(client_for(people.alex))
    moment = TrustMoment.objects.get(author=people.alex)
    ack = _ack_url(moment).encode()
    assert ack in client_for(people.sam).get(TRUST).content
    assert ack not in client_for(people.alex).get(TRUST).content


# --- Pausing -----------------------------------------------------------------------------------


def test_either_partner_pauses_alone_at_once_and_only_the_pauser_resumes(
    recovering, people, client_for, api_for
):
    alex, sam = client_for(people.alex), client_for(people.sam)
    _state(alex)
    moment = TrustMoment.objects.get(author=people.alex)
    # Sam pauses: no reason asked, no approval needed, in effect at once.
    assert sam.post(PAUSE, {"action": "pause"}).status_code == 302
    practice = TrustPractice.objects.get(couple=people.couple)
    assert practice.paused_at is not None and practice.paused_by == people.sam
    # While paused: no new intention, no acknowledgement (page or API).
    response = _state(alex, "A new intention.")
    assert response.context["form"].errors["intention"] == ["The trust moment is paused for now."]
    assert TrustMoment.objects.get(author=people.alex).intention == "Today I stay with my recovery."
    page = sam.post(_ack_url(moment), {"response": "x"}, follow=True)
    assert b"paused" in page.content
    assert _api_ack(api_for(people.sam), moment).status_code == 422
    assert _moment_state(moment) == (None, None, "")
    assert b"The trust moment is paused" in alex.get(TRUST).content
    # Alex cannot undo Sam's pause; pausing again is harmless and keeps Sam as the pauser.
    response = alex.post(PAUSE, {"action": "resume"}, follow=True)
    assert b"Only the partner who paused" in response.content
    assert alex.post(PAUSE, {"action": "pause"}).status_code == 302
    practice.refresh_from_db()
    assert practice.paused_at is not None and practice.paused_by == people.sam
    # Sam resumes; then it works again.
    assert sam.post(PAUSE, {"action": "resume"}).status_code == 302
    practice.refresh_from_db()
    assert practice.paused_at is None
    assert sam.post(_ack_url(moment), {"response": ""}).status_code == 302
    assert _moment_state(moment)[1] == people.sam.pk


def test_the_partner_in_recovery_can_pause_too(recovering, people, client_for):
    alex = client_for(people.alex)
    assert alex.post(PAUSE, {"action": "pause"}).status_code == 302
    assert TrustPractice.objects.get(couple=people.couple).paused_by == people.alex
    assert b"Resume it" in alex.get(TRUST).content
    assert b"Resume it" not in client_for(people.sam).get(TRUST).content


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_pause_is_a_post(people, client_for, method):
    assert getattr(client_for(people.sam), method)(PAUSE).status_code == 405
    assert not TrustPractice.objects.exists()
