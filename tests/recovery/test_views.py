"""The recovery pages (SPEC C7): each works for its author, answers 404 to people the entry is
not shared with, refuses the wrong method, and turns the services' errors into 400 (the errors
beside their fields) and 409 (the person's draft kept). Alex is in recovery; Sam is his
partner; Casey is in another couple."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import override_settings
from django.utils import timezone

from trellis.lib.dates import local_today
from trellis.recovery import services
from trellis.recovery.models import Lapse, RecoveryPlan, RecoveryTrack, SupportMessage
from trellis.sharing.models import AuditEvent

pytestmark = pytest.mark.django_db

COPING = "Walk to the park and call Jo"
SHAME = re.compile(r"\b(clean|dirty|failed|failure|reset|relapsed|streak|slip-up)\b", re.I)


def _track(people, days=40, audience="partner", what="Alcohol"):
    today = local_today(people.alex.time_zone)
    return services.track_add(
        user=people.alex,
        kind="substance",
        what=what,
        since=today - timedelta(days=days),
        audience=audience,
    )


def _plan(people, **extra):
    content = {
        "situations": [{"situation": "Friday evenings", "coping": COPING}],
        "partner_can": "Ask what I need",
        **extra,
    }
    return services.plan_save(user=people.alex, content=content, audience="partner")


def _text(resp) -> str:
    return resp.content.decode()


# --- the header control ------------------------------------------------------------------------


def test_im_struggling_is_in_the_header_for_members_only(people, client_for):
    for who in (people.alex, people.sam):
        body = _text(client_for(who).get("/journal/"))
        assert 'class="btn struggling" href="/recovery/struggling/"' in body
    anonymous = _text(client_for(None).get("/"))
    assert "I'm struggling" not in anonymous and "I&#x27;m struggling" not in anonymous


# --- the recovery home ------------------------------------------------------------------------


def test_home_shows_my_counts_and_my_partners_shared_track(people, client_for):
    track = _track(people)
    private = _track(people, audience="me", what="Gambling")
    services.lapse_log(user=people.alex, track=track, local_date=track.since + timedelta(days=10))
    alex = _text(client_for(people.alex).get("/recovery/"))
    assert "Alcohol" in alex and "Gambling" in alex
    assert "Your story so far" in alex
    assert "<strong>10 days</strong>, " in alex  # the earlier run, kept
    sam = client_for(people.sam).get("/recovery/")
    assert sam.status_code == 200
    body = _text(sam)
    assert "Alex: Alcohol" in body and "Gambling" not in body
    assert str(private.pk) not in body
    assert not SHAME.search(re.sub(r"<[^>]+>", " ", body))


def test_a_run_of_zero_days_reads_as_day_one(people, client_for):
    today = local_today(people.alex.time_zone)
    services.track_add(user=people.alex, kind="behaviour", what="Betting", since=today)
    body = _text(client_for(people.alex).get("/recovery/"))
    assert "Today is day one of this run." in body
    assert "Next: <strong>1 day</strong>" in body


# --- tracks ------------------------------------------------------------------------------------


def test_add_a_track_with_boundaries(people, client_for):
    client = client_for(people.alex)
    form = _text(client.get("/recovery/tracks/new/"))
    assert 'value="partner"' in form and "Who celebrates milestones with you?" in form
    resp = client.post(
        "/recovery/tracks/new/",
        {
            "what": "Porn",
            "kind": "behaviour",
            "since": local_today(people.alex.time_zone).isoformat(),
            "goal_kind": "boundaries",
            "goal": "",
            "inner_circle": "Inner words",
            "middle_circle": "Middle words",
            "outer_circle": "Outer words",
            "audience": "me",
        },
    )
    track = RecoveryTrack.objects.get(author=people.alex)
    assert resp.status_code == 302 and resp["Location"] == f"/recovery/tracks/{track.pk}/"
    assert (track.goal_kind, track.inner_circle, track.audience) == (
        "boundaries",
        "Inner words",
        "me",
    )


def test_a_track_starting_tomorrow_is_refused_with_the_error_by_its_field(people, client_for):
    tomorrow = local_today(people.alex.time_zone) + timedelta(days=1)
    resp = client_for(people.alex).post(
        "/recovery/tracks/new/",
        {"what": "Alcohol", "kind": "substance", "since": tomorrow.isoformat()}
        | {"goal_kind": "abstinence", "audience": "partner"},
    )
    assert resp.status_code == 400
    assert "The start date can&#x27;t be in the future." in _text(resp)
    assert not RecoveryTrack.objects.exists()


def test_track_pages_are_for_those_it_is_shared_with(people, client_for):
    track = _track(people, audience="me")
    assert client_for(people.alex).get(f"/recovery/tracks/{track.pk}/").status_code == 200
    for who in (people.sam, people.casey):
        assert client_for(who).get(f"/recovery/tracks/{track.pk}/").status_code == 404
    shared = _track(people, audience="partner", what="Cannabis")
    assert client_for(people.sam).get(f"/recovery/tracks/{shared.pk}/").status_code == 200
    assert client_for(people.casey).get(f"/recovery/tracks/{shared.pk}/").status_code == 404
    # Only the author edits, ends, re-scopes or logs a lapse.
    for path in ("edit/", "audience/", "lapse/"):
        assert client_for(people.sam).get(f"/recovery/tracks/{shared.pk}/{path}").status_code == 404
    assert client_for(people.sam).post(f"/recovery/tracks/{shared.pk}/end/").status_code == 404
    assert client_for(people.alex).get(f"/recovery/tracks/{shared.pk}/end/").status_code == 405
    anonymous = client_for(None).get(f"/recovery/tracks/{shared.pk}/")
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]


def test_edit_the_goal_and_a_stale_edit_keeps_the_draft(people, client_for):
    track = _track(people)
    client = client_for(people.alex)
    data = {"version": str(track.version), "goal_kind": "boundaries", "goal": "My own goal"}
    data |= {"inner_circle": "A", "middle_circle": "B", "outer_circle": "C"}
    assert client.post(f"/recovery/tracks/{track.pk}/edit/", data).status_code == 302
    track.refresh_from_db()
    assert (track.goal, track.version) == ("My own goal", 2)
    stale = client.post(f"/recovery/tracks/{track.pk}/edit/", data | {"goal": "Draft words"})
    assert stale.status_code == 409
    body = _text(stale)
    assert "Draft words" in body and "The saved version" in body
    assert 'name="version" value="2"' in body


def test_ending_a_track_keeps_it(people, client_for):
    track = _track(people)
    resp = client_for(people.alex).post(f"/recovery/tracks/{track.pk}/end/")
    assert resp.status_code == 302
    track.refresh_from_db()
    assert track.ended_at is not None
    home = _text(client_for(people.alex).get("/recovery/"))
    assert "Tracks you have ended" in home


# --- lapses ------------------------------------------------------------------------------------


def test_log_a_lapse_and_the_count_starts_a_new_run(people, client_for):
    track = _track(people)
    _plan(people)
    client = client_for(people.alex)
    form = _text(client.get(f"/recovery/tracks/{track.pk}/lapse/"))
    assert "A lapse is one moment, not the whole story." in form
    assert COPING in form  # what helps: the steps from the plan
    assert re.search(r'<input type="radio" name="audience" value="me"[^>]* checked', form)
    today = local_today(people.alex.time_zone)
    resp = client.post(
        f"/recovery/tracks/{track.pk}/lapse/",
        {"local_date": today.isoformat(), "what_led": "A long day", "audience": "me"},
    )
    lapse = Lapse.objects.get()
    assert resp.status_code == 302 and resp["Location"] == f"/recovery/lapses/{lapse.pk}/"
    page = _text(client.get(resp["Location"]))
    assert "For the hours ahead" in page and "/recovery/struggling/" in page
    detail = _text(client.get(f"/recovery/tracks/{track.pk}/"))
    assert "A new run begins tomorrow." in detail
    assert "<dd>40 days</dd>" in detail  # recovery days in total: all still counted
    # Sam sees the count, not the words Alex kept to himself.
    sam = client_for(people.sam)
    assert "A new run begins tomorrow." in _text(sam.get(f"/recovery/tracks/{track.pk}/"))
    assert sam.get(f"/recovery/lapses/{lapse.pk}/").status_code == 404


def test_a_lapse_in_the_future_or_on_an_ended_track_is_refused(people, client_for):
    track = _track(people)
    client = client_for(people.alex)
    tomorrow = local_today(people.alex.time_zone) + timedelta(days=1)
    resp = client.post(
        f"/recovery/tracks/{track.pk}/lapse/",
        {"local_date": tomorrow.isoformat(), "audience": "me"},
    )
    assert resp.status_code == 400 and "Choose today or a day before." in _text(resp)
    services.track_end(user=people.alex, track=track)
    resp = client.post(
        f"/recovery/tracks/{track.pk}/lapse/",
        {"local_date": track.since.isoformat(), "audience": "me"},
    )
    assert resp.status_code == 400 and "This track has ended." in _text(resp)
    assert not Lapse.objects.exists()


def test_a_shared_lapse_hides_the_words_of_a_track_that_is_not_shared(people, client_for):
    track = _track(people, audience="me", what="Secret track words")
    lapse = services.lapse_log(
        user=people.alex, track=track, local_date=track.since, what_led="Shared words"
    )
    Lapse.objects.filter(pk=lapse.pk).update(audience="partner")
    body = _text(client_for(people.sam).get(f"/recovery/lapses/{lapse.pk}/"))
    assert "Shared words" in body and "Secret track words" not in body
    assert client_for(people.sam).get(f"/recovery/lapses/{lapse.pk}/audience/").status_code == 404


# --- the plan ---------------------------------------------------------------------------------


def test_plan_first_save_then_a_new_version(people, client_for):
    client = client_for(people.alex)
    page = _text(client.get("/recovery/plan/"))
    assert page.count('name="situations.') == 6  # three blank rows, two fields each
    assert 'value="partner_therapist" checked' in page
    data = {
        "version": "0",
        "situations.0.situation": "Payday",
        "situations.0.coping": "Move the money first",
        "situations.2.situation": "",
        "warning_signs.1": "Sleeping badly",
        "halt": ["hungry", "tired"],
        "contacts.0.name": "Jo",
        "contacts.0.how": "+1 555 0100",
        "contacts.0.email": "jo@example.test",
        "contacts.0.notify": "on",
        "partner_can": "Sit with me",
        "audience": "partner_therapist",
    }
    assert client.post("/recovery/plan/", data).status_code == 302
    plan = RecoveryPlan.objects.get(author=people.alex)
    content = services.plan_shape.decode(plan.content)
    assert content["situations"] == [{"situation": "Payday", "coping": "Move the money first"}]
    assert content["warning_signs"] == ["Sleeping badly"]
    assert content["halt"] == ["hungry", "tired"]
    assert content["contacts"][0]["notify"] is True
    again = client.post("/recovery/plan/", data | {"version": "1", "reasons": "For us"})
    assert again.status_code == 302
    page = _text(client.get("/recovery/plan/"))
    assert "Version 2, saved on" in page and "Version 1, saved on" in page


def test_plan_errors_sit_beside_the_row_the_person_typed_in(people, client_for):
    client = client_for(people.alex)
    resp = client.post(
        "/recovery/plan/",
        {
            "version": "0",
            "situations.0.situation": "",
            "situations.1.situation": "",
            "situations.2.situation": "Sunday evenings",
            "situations.2.coping": "",
            "contacts.1.email": "not an address",
            "contacts.1.name": "Jo",
            "audience": "partner",
        },
    )
    assert resp.status_code == 400
    body = _text(resp)
    # The third row on the page (index 2), not the first kept one.
    assert re.search(
        r'id="id_cope_2"[^>]*aria-invalid="true" aria-describedby="id_cope_2_err"', body
    )
    assert 'id="id_cope_2_err">Add one thing you will do when this comes up.' in body
    assert 'id="id_cmail_1_err">Give an email address like name@example.org.' in body
    assert 'value="Sunday evenings"' in body  # the draft is kept
    assert 'href="#id_cope_2"' in body
    assert not RecoveryPlan.objects.exists()


def test_a_stale_plan_save_keeps_the_draft(people, client_for):
    _plan(people)
    client = client_for(people.alex)
    services.plan_save(
        user=people.alex,
        content={"situations": [{"situation": "Other tab", "coping": "Saved there"}]},
        audience="partner",
        expected_version=1,
    )
    resp = client.post(
        "/recovery/plan/",
        {
            "version": "1",
            "situations.0.situation": "My draft",
            "situations.0.coping": "Still here",
            "audience": "partner",
        },
    )
    assert resp.status_code == 409
    body = _text(resp)
    assert 'value="My draft"' in body and "Still here" in body
    assert 'name="version" value="2"' in body
    assert "saved in another window" in body


def test_my_partner_reads_my_plan_with_what_they_can_do_first(people, client_for):
    plan = _plan(people)
    body = _text(client_for(people.sam).get(f"/recovery/plans/{plan.pk}/"))
    assert body.index("How you can help Alex") < body.index(COPING)
    assert client_for(people.casey).get(f"/recovery/plans/{plan.pk}/").status_code == 404
    assert client_for(people.sam).post(f"/recovery/plans/{plan.pk}/").status_code == 405


# --- "I'm struggling" --------------------------------------------------------------------------


def test_struggling_shows_my_steps_the_timer_contacts_and_crisis_lines(people, client_for):
    _plan(people, contacts=[{"name": "Jo", "how": "+1 (555) 010-0199", "email": "jo@x.test"}])
    body = _text(client_for(people.alex).get("/recovery/struggling/"))
    assert "You did the right thing by opening this." in body
    order = [
        body.index(COPING),
        body.index('id="urge-timer"'),
        body.index('href="tel:+15550100199"'),
        body.index("not an emergency service"),
        body.index('id="tell-h">Let Sam know'),
    ]
    assert order == sorted(order)
    assert 'aria-live="polite"' in body and "js/urge.js" in body
    assert 'href="mailto:jo@x.test"' in body


def test_struggling_without_a_plan_offers_general_steps(people, client_for):
    body = _text(client_for(people.alex).get("/recovery/struggling/"))
    assert "A few steps that often help" in body and "make your own plan" in body


def test_send_a_message_and_my_partner_answers_from_home(people, client_for):
    alex, sam = client_for(people.alex), client_for(people.sam)
    resp = alex.post("/recovery/struggling/", {"note": "Hard evening", "audience": "partner"})
    assert resp.status_code == 302
    message = SupportMessage.objects.get()
    followed = _text(alex.get(resp["Location"]))
    assert "Sent. Sam will see it in Trellis." in followed
    home = _text(sam.get("/"))
    assert "Alex is having a hard moment" in home and "Hard evening" in home
    assert f"/recovery/messages/{message.pk}/reply/" in home
    resp = sam.post(f"/recovery/messages/{message.pk}/reply/", {"reply": "here", "back": "home"})
    assert resp.status_code == 302 and resp["Location"] == "/"
    message.refresh_from_db()
    assert (message.reply, message.seen_by) == ("here", people.sam)
    assert "Sam replied:" in _text(alex.get("/recovery/struggling/"))
    # The author does not answer their own message; outsiders cannot; only POST.
    assert (
        alex.post(f"/recovery/messages/{message.pk}/reply/", {"reply": "here"}).status_code == 404
    )
    casey = client_for(people.casey)
    assert casey.post(f"/recovery/messages/{message.pk}/reply/", {"reply": "x"}).status_code == 404
    assert casey.get(f"/recovery/messages/{message.pk}/").status_code == 404
    assert sam.get(f"/recovery/messages/{message.pk}/reply/").status_code == 405
    bad = sam.post(f"/recovery/messages/{message.pk}/reply/", {"reply": "whatever"})
    assert bad.status_code == 400 and "Choose one of the replies." in _text(bad)


def test_a_note_too_long_is_refused_and_kept(people, client_for):
    resp = client_for(people.alex).post(
        "/recovery/struggling/", {"note": "x" * 501, "audience": "partner"}
    )
    assert resp.status_code == 400 and not SupportMessage.objects.exists()


@override_settings(SUPPORT_EMAILS=True)
def test_contacts_marked_to_be_told_get_a_neutral_email(
    people, client_for, django_capture_on_commit_callbacks
):
    _plan(people, contacts=[{"name": "Jo", "how": "", "email": "jo@x.test", "notify": True}])
    client = client_for(people.alex)
    with django_capture_on_commit_callbacks(execute=True):
        resp = client.post(
            "/recovery/struggling/", {"note": "Private words", "audience": "partner"}
        )
    followed = _text(client.get(resp["Location"]))
    assert "1 of your contacts will get a short email." in followed
    assert len(mail.outbox) == 1
    assert "Private words" not in mail.outbox[0].body + mail.outbox[0].subject


def test_struggling_without_a_couple_space_has_no_message_form(db, client_for):
    from tests.personas import make_user

    solo = make_user("solo@example.test", "Robin")
    client = client_for(solo)
    body = _text(client.get("/recovery/struggling/"))
    assert "You did the right thing by opening this." in body
    assert 'name="note"' not in body
    resp = client.post("/recovery/struggling/", {"note": "x"})
    assert resp.status_code == 302 and not SupportMessage.objects.exists()


# --- the home page: a partner's message and milestones ----------------------------------------


def test_home_celebrates_a_milestone_reached_this_week_and_records_only_that(people, client_for):
    recent = _track(people, days=8)  # 7 days reached yesterday
    quiet = _track(people, days=20, what="Quiet")  # 7 days reached 13 days ago
    body = _text(client_for(people.sam).get("/"))
    assert "Alex reached 7 days" in body
    assert f"/recovery/tracks/{recent.pk}/" in body and f"/recovery/tracks/{quiet.pk}/" not in body
    reads = set(
        AuditEvent.objects.filter(actor=people.sam, action=AuditEvent.Action.READ).values_list(
            "entry_id", flat=True
        )
    )
    assert recent.pk in reads and quiet.pk not in reads


def test_an_old_message_is_not_on_home(people, client_for):
    message = services.support_send(user=people.alex, audience="partner")
    SupportMessage.objects.filter(pk=message.pk).update(
        created_at=timezone.now() - timedelta(days=8)
    )
    assert "is having a hard moment" not in _text(client_for(people.sam).get("/"))
