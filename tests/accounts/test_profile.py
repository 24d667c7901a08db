"""The settings page: profile fields, default audiences (S7)."""

from __future__ import annotations

from django.urls import reverse

from trellis.sharing.models import AudiencePreference

PROFILE = reverse("accounts:profile")


def _profile_post(**fields):
    data = {"form": "profile", "p-display_name": "Alex", "p-pronouns": "", "p-time_zone": "UTC"}
    data.update({f"p-{k}": v for k, v in fields.items()})
    return data


def test_a_valid_profile_is_saved(people, client_for):
    response = client_for(people.alex).post(
        PROFILE, _profile_post(display_name="Alex R.", pronouns="he/him", time_zone="Europe/Berlin")
    )
    assert response.status_code == 302
    people.alex.refresh_from_db()
    assert (people.alex.display_name, people.alex.pronouns, people.alex.time_zone) == (
        "Alex R.",
        "he/him",
        "Europe/Berlin",
    )


def test_a_bad_time_zone_is_refused_with_a_message_on_the_field(people, client_for):
    response = client_for(people.alex).post(PROFILE, _profile_post(time_zone="Mars/Olympus_Mons"))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == ["time_zone"]
    assert "time zone" in errors["time_zone"][0].lower()
    people.alex.refresh_from_db()
    assert people.alex.time_zone == "UTC"


def test_an_empty_display_name_is_refused(people, client_for):
    response = client_for(people.alex).post(PROFILE, _profile_post(display_name=""))
    assert response.status_code == 200
    assert "display_name" in response.context["form"].errors


def test_the_profile_form_cannot_change_role_or_email(people, client_for):
    data = _profile_post()
    data.update({"p-role": "therapist", "p-email": "mallory@example.test", "p-is_staff": "on"})
    client_for(people.alex).post(PROFILE, data)
    people.alex.refresh_from_db()
    assert people.alex.role == "member"
    assert people.alex.email == "alex@example.test"
    assert not people.alex.is_staff


def test_default_audiences_are_saved_and_used_for_new_entries(people, client_for):
    alex = client_for(people.alex)
    before = alex.get(reverse("journal:new"))
    assert before.context["form"]["audience"].value() == "me"  # the journal's own default

    response = alex.post(PROFILE, {"form": "audiences", "a-journal": "partner"})
    assert response.status_code == 302
    assert AudiencePreference.objects.get(user=people.alex, entry_type="journal").audience == (
        "partner"
    )

    after = alex.get(reverse("journal:new"))
    assert after.context["form"]["audience"].value() == "partner"
    # Sam's default is untouched.
    assert client_for(people.sam).get(reverse("journal:new")).context["form"][
        "audience"
    ].value() == ("me")


def test_an_unknown_default_audience_is_refused_on_its_field(people, client_for):
    response = client_for(people.alex).post(PROFILE, {"form": "audiences", "a-journal": "everyone"})
    assert response.status_code == 200
    assert "journal" in response.context["audience_form"].errors
    assert not AudiencePreference.objects.filter(user=people.alex).exists()


def test_a_post_without_a_form_name_is_not_a_crash(people, client_for):
    response = client_for(people.alex).post(PROFILE, {"form": "nonsense"})
    assert response.status_code == 200


def test_the_settings_page_needs_a_sign_in(db, client):
    response = client.get(PROFILE)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
