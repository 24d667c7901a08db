"""The recovery services and selectors (SPEC C7): tracks counted in the person's own calendar,
lapses that end a run without erasing the days before it, the relapse-prevention plan with its
kept versions, and the "I'm struggling" message (in the app for the chosen people; a neutral
email, never the note or the plan, to the contacts marked to be told)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError

from trellis.couples.models import Consent, ConsentScope
from trellis.recovery import plan as plan_shape
from trellis.recovery import selectors, services
from trellis.recovery.models import Lapse, PlanRevision, RecoveryPlan, RecoveryTrack, SupportMessage
from trellis.recovery.tasks import SUBJECT
from trellis.sharing.models import AuditEvent
from trellis.sharing.policy import visible_to

# 20:00 UTC on 4 May 2026 is already 5 May in Auckland (UTC+12).
NOW = datetime(2026, 5, 4, 20, 0, tzinfo=UTC)
TODAY = date(2026, 5, 4)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _fields(exc: pytest.ExceptionInfo[ValidationError]) -> set[str]:
    return set(exc.value.message_dict)


def _track(user, *, days_ago: int = 40, **extra) -> RecoveryTrack:
    return services.track_add(
        user=user,
        kind="substance",
        what="Alcohol",
        since=TODAY - timedelta(days=days_ago),
        **extra,
    )


def _counts(track: RecoveryTrack):
    fresh = selectors.my_tracks(track.author, open_only=False).get(pk=track.pk)
    return selectors.counts_for([fresh])[track.pk]


# --- tracks ----------------------------------------------------------------------------------


def test_a_track_is_added_in_the_persons_words_and_audited(people, clock):
    track = _track(people.alex, goal="One day at a time, no drinks at home.", audience="partner")
    stored = RecoveryTrack.objects.get(pk=track.pk)
    assert (stored.author, stored.couple, stored.audience) == (
        people.alex,
        people.couple,
        "partner",
    )
    assert (stored.what, stored.since, stored.goal) == (
        "Alcohol",
        TODAY - timedelta(days=40),
        "One day at a time, no drinks at home.",
    )
    assert AuditEvent.objects.filter(
        entry_id=track.pk, action=AuditEvent.Action.CREATED, actor=people.alex
    ).exists()


def test_adding_a_track_names_every_field_that_is_wrong(people, clock):
    with pytest.raises(ValidationError) as exc:
        services.track_add(
            user=people.alex,
            kind="habit",
            what="   ",
            since="last spring",
            goal_kind="moderation",
            goal="x" * (services.MAX_CIRCLE + 1),
        )
    assert _fields(exc) == {"kind", "what", "since", "goal_kind", "goal"}
    with pytest.raises(ValidationError) as exc:
        _track(people.alex, audience="everyone")
    assert _fields(exc) == {"audience"}
    with pytest.raises(ValidationError) as exc:
        services.track_add(user=people.alex, kind="substance", what="x" * 81, since=TODAY)
    assert _fields(exc) == {"what"}
    assert not RecoveryTrack.objects.exists()


def test_a_start_in_the_future_is_refused_in_the_persons_own_time_zone(people, clock):
    tomorrow_in_utc = TODAY + timedelta(days=1)
    # In UTC (Alex's time zone) it is still 4 May: 5 May is tomorrow.
    with pytest.raises(ValidationError) as exc:
        services.track_add(
            user=people.alex, kind="substance", what="Alcohol", since=TODAY + timedelta(days=1)
        )
    assert _fields(exc) == {"since"}
    # In Auckland it is 5 May already: the same day is today, and 6 May is the future.
    people.sam.time_zone = "Pacific/Auckland"
    people.sam.save(update_fields=["time_zone"])
    track = services.track_add(
        user=people.sam, kind="behaviour", what="Gambling", since=tomorrow_in_utc
    )
    assert track.since == tomorrow_in_utc
    with pytest.raises(ValidationError) as exc:
        services.track_add(
            user=people.sam, kind="behaviour", what="Gambling", since=TODAY + timedelta(days=2)
        )
    assert _fields(exc) == {"since"}


def test_a_track_update_changes_the_goal_and_refuses_a_stale_version(people, clock):
    track = _track(people.alex)
    updated = services.track_update(
        user=people.alex,
        track=track,
        expected_version=1,
        goal_kind="boundaries",
        inner_circle="Drinking alone",
    )
    assert (updated.version, updated.goal_kind, updated.inner_circle) == (
        2,
        "boundaries",
        "Drinking alone",
    )
    with pytest.raises(services.StaleVersion):
        services.track_update(user=people.alex, track=track, expected_version=1, goal="Later")
    assert RecoveryTrack.objects.get(pk=track.pk).goal == ""
    with pytest.raises(RecoveryTrack.DoesNotExist):  # never someone else's track
        services.track_update(user=people.sam, track=track, expected_version=2, goal="Mine")


# --- lapses ----------------------------------------------------------------------------------


def _lapse(user, track, day: date, **words) -> Lapse:
    return services.lapse_log(user=user, track=track, local_date=day, **words)


def test_a_lapse_in_the_future_or_before_the_track_began_is_refused(people, clock):
    track = _track(people.alex, days_ago=10)
    for day in (TODAY + timedelta(days=1), TODAY - timedelta(days=11), "yesterday"):
        with pytest.raises(ValidationError) as exc:
            _lapse(people.alex, track, day)
        assert _fields(exc) == {"local_date"}, day
    assert _lapse(people.alex, track, TODAY).local_date == TODAY
    assert _lapse(people.alex, track, TODAY - timedelta(days=10)).local_date == track.since
    assert Lapse.objects.count() == 2


def test_a_lapse_day_is_the_persons_own_calendar_day(people, clock):
    people.alex.time_zone = "Pacific/Auckland"
    people.alex.save(update_fields=["time_zone"])
    track = _track(people.alex)
    # 5 May is today in Auckland, though not yet in UTC.
    assert _lapse(people.alex, track, TODAY + timedelta(days=1)).local_date == date(2026, 5, 5)


def test_the_same_day_sent_twice_is_one_lapse_with_the_later_words(people, clock):
    track = _track(people.alex)
    day = TODAY - timedelta(days=3)
    first = _lapse(
        people.alex, track, day, what_led="A long day and an empty flat.", impact="Sam worried."
    )
    again = _lapse(people.alex, track, day, what_led="A long day, alone after work.")
    assert again.pk == first.pk
    assert Lapse.objects.filter(track=track).count() == 1
    stored = Lapse.objects.get(pk=first.pk)
    # The later words replace the earlier ones; what was left blank the second time stays.
    assert (stored.what_led, stored.impact) == ("A long day, alone after work.", "Sam worried.")
    assert _counts(track).lapses == 1


def test_nobody_logs_a_lapse_on_someone_elses_track(people, clock):
    track = _track(people.alex)
    for other in (people.sam, people.lee, people.casey):
        with pytest.raises(PermissionError):
            _lapse(other, track, TODAY)
    assert not Lapse.objects.exists()


def test_an_ended_track_takes_no_lapse(people, clock):
    track = services.track_end(user=people.alex, track=_track(people.alex))
    with pytest.raises(ValidationError) as exc:
        _lapse(people.alex, track, TODAY)
    assert _fields(exc) == {"track"}


def test_words_too_long_for_a_lapse_are_refused_naming_each_field(people, clock):
    track = _track(people.alex)
    long = "x" * (services.MAX_NOTE + 1)
    with pytest.raises(ValidationError) as exc:
        _lapse(people.alex, track, TODAY, what_led=long, prevention=long)
    assert _fields(exc) == {"what_led", "prevention"}


# --- counting --------------------------------------------------------------------------------


def test_a_lapse_ends_the_run_and_keeps_the_days_before_it(people, clock):
    track = _track(people.alex, days_ago=40)
    before = _counts(track)
    assert (before.current_run, before.recovery_days, before.longest_run, before.lapses) == (
        40,
        40,
        40,
        0,
    )
    _lapse(people.alex, track, TODAY - timedelta(days=10))
    after = _counts(track)
    # The first run: 30 days (since .. the lapse). The current run starts the day after it.
    assert after.run_start == TODAY - timedelta(days=9)
    assert after.current_run == 9
    assert after.recovery_days == 30 + 9
    assert after.longest_run == 30
    assert after.lapses == 1


def test_the_longest_run_is_kept_after_a_shorter_one(people, clock):
    track = _track(people.alex, days_ago=100)
    _lapse(people.alex, track, TODAY - timedelta(days=40))  # a 60-day run
    _lapse(people.alex, track, TODAY - timedelta(days=20))  # a 19-day run
    counts = _counts(track)
    assert (counts.current_run, counts.longest_run, counts.lapses) == (19, 60, 2)
    assert counts.recovery_days == 60 + 19 + 19


def test_earlier_milestones_stay_after_a_lapse(people, clock):
    track = _track(people.alex, days_ago=40)
    _lapse(people.alex, track, TODAY - timedelta(days=10))
    counts = _counts(track)
    [(run, reached_then)] = counts.earlier
    assert (run.start, run.end, run.days) == (track.since, TODAY - timedelta(days=10), 30)
    assert [m.key for m in reached_then] == ["1d", "7d", "30d"]
    assert [m.key for m in counts.reached] == ["1d", "7d"]
    assert counts.upcoming is not None
    assert (counts.upcoming.key, counts.upcoming.on) == ("30d", counts.run_start + timedelta(30))


def test_counts_for_many_tracks_take_one_query(people, clock, django_assert_num_queries):
    tracks = [_track(people.alex), _track(people.sam, days_ago=5), _track(people.casey)]
    for n in range(1, 4):
        _lapse(people.alex, tracks[0], TODAY - timedelta(days=n * 3))
    loaded = list(RecoveryTrack.objects.select_related("author").order_by("since"))
    with django_assert_num_queries(1):
        counts = selectors.counts_for(loaded)
    assert counts[tracks[0].pk].lapses == 3
    assert counts[tracks[1].pk].current_run == 5
    with django_assert_num_queries(0):
        assert selectors.counts_for([]) == {}


def test_an_ended_track_stops_counting_on_the_day_it_ended(people, clock):
    track = _track(people.alex, days_ago=40)
    services.track_end(user=people.alex, track=track)
    clock.shift(timedelta(days=30))
    counts = _counts(track)
    assert (counts.today, counts.current_run, counts.recovery_days) == (TODAY, 40, 40)
    assert counts.upcoming is None


# --- the relapse-prevention plan -------------------------------------------------------------

PLAN = {
    "situations": [
        {"situation": "Friday evenings after work", "coping": "Go straight to the gym."},
        {"situation": "", "coping": ""},  # a blank row is dropped
    ],
    "warning_signs": ["Skipping breakfast", "  "],
    "halt": ["tired", "lonely"],
    "lifestyle": "Walk every morning.",
    "lapse_plan": "Tell Sam the same day.",
    "contacts": [{"name": "Jo", "how": "Call after 6", "email": "", "notify": True}],
    "reasons": "I want to be present.",
    "partner_can": "Sit with me; no questions straight away.",
}


def test_the_plan_keeps_every_saved_version(people, clock):
    first = services.plan_save(user=people.alex, content=PLAN, audience="partner_therapist")
    assert first.version == 1
    content = plan_shape.decode(first.content)
    assert content["situations"] == [PLAN["situations"][0]]
    assert content["warning_signs"] == ["Skipping breakfast"]
    assert content["halt"] == ["lonely", "tired"]  # in HALT order
    # notify without an email tells nobody
    assert content["contacts"] == [
        {"name": "Jo", "how": "Call after 6", "email": "", "notify": False}
    ]

    second = services.plan_save(
        user=people.alex,
        content={**PLAN, "reasons": "I want to be present for Sam."},
        audience="partner",
        expected_version=1,
    )
    assert second.pk == first.pk and second.version == 2
    revisions = list(PlanRevision.objects.filter(plan=second))
    assert [r.number for r in revisions] == [2, 1]
    assert [plan_shape.decode(r.content)["reasons"] for r in revisions] == [
        "I want to be present for Sam.",
        "I want to be present.",
    ]
    assert [r.audience for r in revisions] == ["partner", "partner_therapist"]
    assert AuditEvent.objects.filter(
        entry_id=first.pk, action=AuditEvent.Action.AUDIENCE_CHANGED
    ).exists()
    assert RecoveryPlan.objects.count() == 1


def test_a_stale_plan_is_refused_and_changes_nothing(people, clock):
    with pytest.raises(services.StaleVersion):  # no plan yet, but the editor claims version 3
        services.plan_save(user=people.alex, content=PLAN, audience="partner", expected_version=3)
    services.plan_save(user=people.alex, content=PLAN, audience="partner")
    services.plan_save(user=people.alex, content=PLAN, audience="partner", expected_version=1)
    with pytest.raises(services.StaleVersion) as exc:
        services.plan_save(
            user=people.alex,
            content={**PLAN, "reasons": "Lost"},
            audience="partner",
            expected_version=1,
        )
    assert exc.value.current.version == 2
    with pytest.raises(services.StaleVersion):  # a second first save (another tab)
        services.plan_save(user=people.alex, content=PLAN, audience="partner")
    plan = RecoveryPlan.objects.get(author=people.alex)
    assert plan.version == 2 and "Lost" not in plan.content
    assert plan.revisions.count() == 2


def test_bad_plan_input_names_the_field(people, clock):
    bad = {
        **PLAN,
        "situations": [PLAN["situations"][0], {"situation": "Payday", "coping": " "}],
        "contacts": [{"name": "Jo", "email": "jo at home"}, {"how": "the number", "email": ""}],
        "warning_signs": ["ok", "x" * (plan_shape.MAX_TEXT + 1)],
        "lifestyle": "y" * (plan_shape.MAX_TEXT + 1),
    }
    with pytest.raises(ValidationError) as exc:
        services.plan_save(user=people.alex, content=bad, audience="partner")
    assert _fields(exc) == {
        "situations.1.coping",
        "contacts.0.email",
        "contacts.1.name",
        "warning_signs.1",
        "lifestyle",
    }
    too_many = {**PLAN, "situations": [{"situation": "s", "coping": "c"}] * 13}
    with pytest.raises(ValidationError) as exc:
        services.plan_save(user=people.alex, content=too_many, audience="partner")
    assert _fields(exc) == {"situations"}
    assert not RecoveryPlan.objects.exists()


@pytest.mark.parametrize("halt", [["tired", "bored"], "tired", [["tired"]]])
def test_halt_takes_only_hungry_angry_lonely_tired(people, clock, halt):
    with pytest.raises(ValidationError) as exc:
        services.plan_save(user=people.alex, content={**PLAN, "halt": halt}, audience="partner")
    assert _fields(exc) == {"halt"}


def test_the_plan_audience_is_checked(people, clock):
    with pytest.raises(ValidationError) as exc:
        services.plan_save(user=people.alex, content=PLAN, audience="therapist")  # no consent
    assert _fields(exc) == {"audience"}


# --- "I'm struggling" ------------------------------------------------------------------------


def test_a_support_message_reaches_the_partner_in_the_app_and_nobody_else(people, clock):
    message = services.support_send(user=people.alex, note="Rough evening.", audience="partner")
    assert (message.author, message.couple, message.audience) == (
        people.alex,
        people.couple,
        "partner",
    )
    assert list(visible_to(people.sam, SupportMessage)) == [message]
    for outsider in (people.casey, people.pat, people.lee, people.noor, people.reyes):
        assert not visible_to(outsider, SupportMessage).exists(), outsider
    assert [m.pk for m in selectors.messages_for(people.sam, channel="page")] == [message.pk]
    assert selectors.messages_for(people.alex, channel="page") == []  # not my own
    assert selectors.messages_for(people.casey, channel="page") == []


def test_the_therapist_sees_it_only_with_consent_for_it(people, clock):
    message = services.support_send(user=people.alex, audience="partner_therapist")
    assert not visible_to(people.lee, SupportMessage).exists()
    consent = Consent.objects.get(grantor=people.alex, therapist=people.lee)
    ConsentScope.objects.create(consent=consent, entry_type="support_message")
    assert list(visible_to(people.lee, SupportMessage)) == [message]


def test_a_support_message_needs_someone_to_tell_and_a_short_note(people, clock):
    with pytest.raises(ValidationError) as exc:
        services.support_send(user=people.alex, note="x" * 501, audience="me")
    assert _fields(exc) == {"note", "audience"}
    assert not SupportMessage.objects.exists()


CANARY = "quillfeather"


def _plan_with_canary(user) -> None:
    services.plan_save(
        user=user,
        audience="partner",
        content={
            "situations": [{"situation": f"{CANARY} pub", "coping": f"{CANARY} walk"}],
            "warning_signs": [f"{CANARY} sign"],
            "halt": ["tired"],
            "lifestyle": f"{CANARY} life",
            "lapse_plan": f"{CANARY} plan",
            "contacts": [
                {
                    "name": f"Jo {CANARY}",
                    "how": f"{CANARY} phone",
                    "email": "jo@example.org",
                    "notify": True,
                },
                {"name": "Ray", "how": "", "email": "ray@example.org", "notify": False},
                {"name": "Kim", "how": "", "email": "kim@example.org", "notify": True},
            ],
            "reasons": f"{CANARY} reasons",
            "partner_can": f"{CANARY} partner",
        },
    )


def test_contacts_marked_to_be_told_get_a_neutral_email(
    people, clock, settings, django_capture_on_commit_callbacks
):
    settings.SUPPORT_EMAILS = True
    _plan_with_canary(people.alex)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        message = services.support_send(
            user=people.alex, note=f"The {CANARY} bar again", audience="partner"
        )
    assert message.emailed == 2
    assert sorted(m.to[0] for m in mail.outbox) == ["jo@example.org", "kim@example.org"]
    for sent in mail.outbox:
        assert sent.to == [sent.to[0]]  # one contact per email: nobody sees the others
        assert sent.subject == SUBJECT == "A message from Trellis"
        assert CANARY not in sent.subject and CANARY not in sent.body
        assert "bar" not in sent.body and "Jo" not in sent.body
        assert "Alex" in sent.body  # who is asking, so the contact knows whom to call


def test_no_email_unless_support_emails_are_configured(
    people, clock, settings, django_capture_on_commit_callbacks
):
    settings.SUPPORT_EMAILS = False
    _plan_with_canary(people.alex)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        message = services.support_send(user=people.alex, note="Hard day", audience="partner")
    assert mail.outbox == []
    assert SupportMessage.objects.get(pk=message.pk).emailed == 0  # the author is not misled


def test_no_email_without_contacts_to_tell(
    people, clock, settings, django_capture_on_commit_callbacks
):
    settings.SUPPORT_EMAILS = True
    services.plan_save(user=people.alex, content=PLAN, audience="partner")  # Jo has no email
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        message = services.support_send(user=people.alex, audience="partner")
    assert mail.outbox == [] and callbacks == [] and message.emailed == 0


def test_the_partner_replies_and_nobody_else_does(people, clock):
    consent = Consent.objects.get(grantor=people.alex, therapist=people.lee)
    ConsentScope.objects.create(consent=consent, entry_type="support_message")
    message = services.support_send(user=people.alex, audience="partner_therapist")
    for refused in (people.alex, people.lee):
        seen = visible_to(refused, SupportMessage).get(pk=message.pk)  # they may read it
        with pytest.raises(PermissionError):
            services.support_reply(user=refused, message=seen, reply="here")
    assert SupportMessage.objects.get(pk=message.pk).reply == ""
    with pytest.raises(ValidationError) as exc:
        services.support_reply(user=people.sam, message=message, reply="whatever")
    assert _fields(exc) == {"reply"}
    answered = services.support_reply(user=people.sam, message=message, reply="coming")
    stored = SupportMessage.objects.get(pk=message.pk)
    assert answered.reply == stored.reply == "coming"
    assert stored.seen_by == people.sam and stored.seen_at == NOW
