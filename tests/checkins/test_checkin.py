"""The daily check-in (SPEC C3): validation that names its fields, one check-in per local day
(edited the same day with its history kept), stale saves refused, an idempotent API, and the
audience defaulting to the person's own choice."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
import time_machine
from django.urls import reverse

from tests.checkins.conftest import give_recovery_track
from trellis.checkins import services
from trellis.checkins.models import CheckinRevision, DailyCheckin
from trellis.sharing.models import AudiencePreference

TODAY = reverse("checkins:today")
API_TODAY = "/api/checkins/checkins/today"

FORM = {
    "mood": "4",
    "stress": "2",
    "sleep": "3",
    "closeness": "4",
    "safety": "5",
    "desire": "",
    "arousal": "",
    "fatigue": "",
    "gratitude": "",
    "note": "",
    "audience": "partner",
    "version": "",
}
API = {"mood": 4, "stress": 2, "sleep": 3, "closeness": 4, "safety": 5}


def _put(client, data, **headers):
    return client.put(API_TODAY, data=json.dumps(data), content_type="application/json", **headers)


def _saved(response) -> bool:
    """A save redirects to the check-in it saved (not to the sign-in page)."""
    return response.status_code == 302 and response["Location"].startswith("/checkins/")


def _locs(response) -> list[list]:
    return [d["loc"] for d in response.json()["detail"]]


# --- Validation --------------------------------------------------------------------------------


@pytest.mark.parametrize("scale", ["mood", "stress", "sleep", "closeness", "safety"])
def test_each_of_the_five_scales_is_required_and_named(people, client_for, scale):
    response = client_for(people.alex).post(TODAY, {**FORM, scale: ""})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == [scale]
    assert errors[scale] == ["Choose a value."]
    assert f'id="id_{scale}_err"'.encode() in response.content  # tied to its fieldset
    assert not DailyCheckin.objects.exists()


@pytest.mark.parametrize("value", ["0", "6", "7", "x"])
def test_a_scale_outside_1_to_5_is_refused_on_its_field(people, client_for, value):
    response = client_for(people.alex).post(TODAY, {**FORM, "mood": value})
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["mood"]
    assert not DailyCheckin.objects.exists()


def test_the_optional_scales_may_be_skipped_or_given(people, client_for):
    client = client_for(people.alex)
    assert client.post(TODAY, FORM).status_code == 302
    checkin = DailyCheckin.objects.get(author=people.alex)
    assert (checkin.desire, checkin.arousal, checkin.fatigue) == (None, None, None)
    assert (checkin.mood, checkin.stress, checkin.sleep, checkin.closeness, checkin.safety) == (
        4,
        2,
        3,
        4,
        5,
    )
    form = {**FORM, "desire": "2", "arousal": "1", "fatigue": "5", "version": checkin.version}
    assert client.post(TODAY, form).status_code == 302
    checkin.refresh_from_db()
    assert (checkin.desire, checkin.arousal, checkin.fatigue) == (2, 1, 5)


def test_craving_and_recovery_are_asked_and_kept_only_with_a_recovery_track(
    people, client_for, api_for
):
    # Sam has no recovery track: the page does not ask, and what is sent anyway is not kept.
    sam = client_for(people.sam)
    page = sam.get(TODAY)
    assert b'name="craving"' not in page.content and b'name="recovery"' not in page.content
    assert sam.post(TODAY, {**FORM, "craving": "7", "recovery": "lapse"}).status_code == 302
    stored = DailyCheckin.objects.get(author=people.sam)
    assert (stored.craving, stored.recovery) == (None, "")
    response = _put(api_for(people.sam), {**API, "craving": 6, "recovery": "lapse"})
    assert response.status_code == 200
    assert (response.json()["craving"], response.json()["recovery"]) == (None, "")
    stored.refresh_from_db()
    assert (stored.craving, stored.recovery) == (None, "")

    # Alex has one: asked, 0..10, and kept.
    give_recovery_track(people.alex)
    alex = client_for(people.alex)
    page = alex.get(TODAY)
    assert b'name="craving"' in page.content and b'name="recovery"' in page.content
    response = alex.post(TODAY, {**FORM, "craving": "11", "recovery": "kept"})
    assert list(response.context["form"].errors) == ["craving"]
    assert alex.post(TODAY, {**FORM, "craving": "0", "recovery": "in_person"}).status_code == 302
    mine = DailyCheckin.objects.get(author=people.alex)
    assert (mine.craving, mine.recovery) == (0, "in_person")


def test_halt_self_check_is_stored_and_shown(people, client_for):
    client = client_for(people.alex)
    form = {**FORM, "halt_hungry": "on", "halt_tired": "on"}
    assert client.post(TODAY, form).status_code == 302
    checkin = DailyCheckin.objects.get(author=people.alex)
    assert (checkin.halt_hungry, checkin.halt_angry, checkin.halt_lonely, checkin.halt_tired) == (
        True,
        False,
        False,
        True,
    )
    assert checkin.halt == ["Hungry", "Tired"]
    assert b"Hungry, Tired" in client.get(reverse("checkins:detail", args=[checkin.pk])).content


@pytest.mark.parametrize("field", ["gratitude", "note"])
def test_text_over_2000_characters_is_refused_on_its_field(people, client_for, api_for, field):
    response = client_for(people.alex).post(TODAY, {**FORM, field: "x" * 2001})
    assert response.status_code == 200
    assert list(response.context["form"].errors) == [field]
    response = _put(api_for(people.alex), {**API, field: "x" * 2001})
    assert response.status_code == 422
    assert any(field in loc for loc in _locs(response))
    assert not DailyCheckin.objects.exists()
    # 2,000 is fine.
    assert _put(api_for(people.alex), {**API, field: "x" * 2000}).status_code == 201


def test_the_service_names_every_bad_field_at_once(people):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as caught:
        services.clean_checkin(
            author=people.alex,
            data={"mood": 9, "stress": None, "sleep": "x", "closeness": 3, "safety": 3},
        )
    assert set(caught.value.message_dict) == {"mood", "stress", "sleep"}


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({**API, "mood": 7}, "mood"),
        ({**API, "safety": 0}, "safety"),
        ({**API, "desire": 6}, "desire"),
        ({**API, "craving": 11}, "craving"),
        ({**API, "recovery": "maybe"}, "recovery"),
        ({**API, "audience": "everyone"}, "audience"),
        ({**API, "mod": 3}, "mod"),  # an unknown field is refused, not ignored
        ({k: v for k, v in API.items() if k != "sleep"}, "sleep"),
    ],
)
def test_api_errors_name_the_field(people, api_for, payload, field):
    response = _put(api_for(people.alex), payload)
    assert response.status_code == 422
    assert any(field in loc for loc in _locs(response)), response.json()
    assert not DailyCheckin.objects.exists()


# --- One per local day, edited the same day, history kept ----------------------------------------


def test_a_same_day_edit_updates_the_one_check_in_and_keeps_the_old_values(people, client_for):
    client = client_for(people.alex)
    assert client.post(TODAY, {**FORM, "gratitude": "Coffee"}).status_code == 302
    first = DailyCheckin.objects.get(author=people.alex)
    page = client.get(TODAY)
    assert page.context["form"]["version"].value() == 1  # the form knows what it edits
    response = client.post(TODAY, {**FORM, "mood": "2", "gratitude": "Tea", "version": "1"})
    assert response.status_code == 302
    checkin = DailyCheckin.objects.get(author=people.alex)
    assert checkin.pk == first.pk
    assert (checkin.mood, checkin.gratitude, checkin.version) == (2, "Tea", 2)
    (revision,) = CheckinRevision.objects.filter(checkin=checkin)
    old = json.loads(revision.data)
    assert revision.version == 1
    assert (old["mood"], old["gratitude"], old["audience"]) == (4, "Coffee", "partner")
    revisions = client.get(reverse("checkins:revisions", args=[checkin.pk]))
    assert b"Version 1" in revisions.content
    assert (
        b"updated during the day"
        in client.get(reverse("checkins:detail", args=[checkin.pk])).content
    )


@pytest.mark.parametrize(
    ("zone", "first", "second", "days"),
    [
        # Around midnight UTC: still the same day in Auckland (noon) and Los Angeles (4 pm)...
        ("Pacific/Auckland", datetime(2026, 3, 9, 23, 30), datetime(2026, 3, 10, 0, 30), 1),
        ("America/Los_Angeles", datetime(2026, 3, 9, 23, 30), datetime(2026, 3, 10, 0, 30), 1),
        # ...but a new day for someone in UTC.
        ("UTC", datetime(2026, 3, 9, 23, 30), datetime(2026, 3, 10, 0, 30), 2),
        # Auckland's midnight is 11:00 UTC (NZDT, UTC+13): a new check-in after it.
        ("Pacific/Auckland", datetime(2026, 3, 10, 10, 30), datetime(2026, 3, 10, 11, 30), 2),
        ("America/Los_Angeles", datetime(2026, 3, 10, 10, 30), datetime(2026, 3, 10, 11, 30), 1),
        # Los Angeles' midnight is 07:00 UTC (PDT, UTC-7).
        ("America/Los_Angeles", datetime(2026, 3, 10, 6, 30), datetime(2026, 3, 10, 7, 30), 2),
        ("Pacific/Auckland", datetime(2026, 3, 10, 6, 30), datetime(2026, 3, 10, 7, 30), 1),
    ],
)
def test_the_day_is_the_persons_own_local_day(people, client_for, zone, first, second, days):
    people.alex.time_zone = zone
    people.alex.save(update_fields=["time_zone"])
    with time_machine.travel(first.replace(tzinfo=UTC), tick=False) as clock:
        client = client_for(people.alex)  # signed in at that time (sessions have a clock too)
        assert _saved(client.post(TODAY, FORM))
        clock.move_to(second.replace(tzinfo=UTC))
        client = client_for(people.alex)
        version = DailyCheckin.objects.get(author=people.alex).version if days == 1 else ""
        assert _saved(client.post(TODAY, {**FORM, "mood": "1", "version": version}))
    rows = list(DailyCheckin.objects.filter(author=people.alex).order_by("local_date"))
    assert len(rows) == days
    if days == 2:
        assert (rows[1].local_date - rows[0].local_date).days == 1
        assert [r.mood for r in rows] == [4, 1]
        assert not CheckinRevision.objects.exists()
    else:
        assert rows[0].mood == 1 and CheckinRevision.objects.count() == 1


def test_yesterdays_check_in_is_no_longer_editable(people, client_for):
    with time_machine.travel(datetime(2026, 5, 4, 10, 0, tzinfo=UTC), tick=False) as clock:
        client = client_for(people.alex)
        assert _saved(client.post(TODAY, FORM))
        checkin = DailyCheckin.objects.get(author=people.alex)
        detail = reverse("checkins:detail", args=[checkin.pk])
        assert b"Change today" in client.get(detail).content
        clock.move_to(datetime(2026, 5, 5, 10, 0, tzinfo=UTC))
        client = client_for(people.alex)
        assert b"Change today" not in client.get(detail).content
        assert client.get(TODAY).context["existing"] is None
        assert checkin.local_date == date(2026, 5, 4)


def test_a_stale_save_on_the_page_is_a_409_that_keeps_what_was_typed(people, client_for):
    client = client_for(people.alex)
    client.post(TODAY, FORM)
    # Another window (or the phone) saved in between: version 2 now.
    services.checkin_save(author=people.alex, data={**API, "mood": 1}, audience="partner")
    response = client.post(TODAY, {**FORM, "mood": "5", "note": "from the old tab", "version": "1"})
    assert response.status_code == 409
    assert b"saved in another window" in response.content
    assert b"from the old tab" in response.content
    # The form now carries the version it was refused for: saving again goes through.
    assert response.context["form"].data["version"] == "2"
    checkin = DailyCheckin.objects.get(author=people.alex)
    assert (checkin.mood, checkin.version) == (1, 2)
    again = client.post(TODAY, {**FORM, "mood": "5", "version": "2"})
    assert again.status_code == 302
    checkin.refresh_from_db()
    assert (checkin.mood, checkin.version) == (5, 3)


def test_a_stale_save_over_the_api_is_a_412(people, api_for):
    client = api_for(people.alex)
    assert _put(client, API).status_code == 201
    assert _put(client, {**API, "mood": 2}, HTTP_IF_MATCH='"1"').status_code == 200
    response = _put(client, {**API, "mood": 5}, HTTP_IF_MATCH='"1"')
    assert response.status_code == 412
    checkin = DailyCheckin.objects.get(author=people.alex)
    assert (checkin.mood, checkin.version) == (2, 2)


def test_putting_today_twice_is_one_check_in(people, api_for):
    client = api_for(people.alex)
    first = _put(client, {**API, "note": "Sent from the bus."})
    again = _put(client, {**API, "note": "Sent from the bus."})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert DailyCheckin.objects.filter(author=people.alex).count() == 1


# --- Audience ----------------------------------------------------------------------------------


def test_the_audience_defaults_to_my_partner_or_to_my_own_choice(people, client_for, api_for):
    client = client_for(people.alex)
    assert client.get(TODAY).context["form"]["audience"].value() == "partner"
    AudiencePreference.objects.create(user=people.alex, entry_type="checkin", audience="me")
    assert client.get(TODAY).context["form"]["audience"].value() == "me"
    # The API without an audience follows the same default...
    response = _put(api_for(people.alex), API)
    assert response.status_code == 201
    assert response.json()["audience"] == "me"
    # ...and a later save without one keeps the check-in's audience rather than widening it.
    AudiencePreference.objects.filter(user=people.alex).update(audience="partner")
    assert _put(api_for(people.alex), {**API, "mood": 1}).json()["audience"] == "me"
    assert (
        _put(api_for(people.alex), {**API, "audience": "partner"}).json()["audience"] == "partner"
    )


def test_the_partner_sees_a_shared_check_in_and_not_a_private_one(people, client_for):
    alex, sam = client_for(people.alex), client_for(people.sam)
    alex.post(TODAY, {**FORM, "gratitude": "Shared gratitude"})
    checkin = DailyCheckin.objects.get(author=people.alex)
    detail = reverse("checkins:detail", args=[checkin.pk])
    assert b"Shared gratitude" in sam.get(detail).content
    alex.post(TODAY, {**FORM, "audience": "me", "gratitude": "Private now", "version": "1"})
    assert sam.get(detail).status_code == 404
    assert str(checkin.pk).encode() not in sam.get(reverse("checkins:history")).content
