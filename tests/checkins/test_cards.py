"""The check-in history's cards built in Python (checkins/cards.py) are what
`checkins/_card.html` renders, byte for byte; the history and the trust page read the same rows
as the full policy query, and only what they show (QUALITY P2)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.template import loader
from django.test import override_settings
from django.utils import timezone, translation

from trellis.checkins import selectors, services
from trellis.checkins.cards import checkin_card
from trellis.checkins.models import DailyCheckin, TrustMoment, TrustPractice
from trellis.sharing.audiences import Audience
from trellis.sharing.services import current_couple_id


def _checkin(author, couple, day: date, **kw) -> DailyCheckin:
    values = {"mood": 3, "stress": 2, "sleep": 4, "closeness": 5, "safety": 1}
    values.update(kw)
    values.setdefault("audience", Audience.PARTNER)
    return DailyCheckin.objects.create(
        author=author, couple=couple, local_date=day, note="Private words", **values
    )


def _history(people) -> None:
    start = date(2024, 12, 25)
    for i, audience in enumerate(Audience):
        _checkin(people.alex, people.couple, start + timedelta(days=i), audience=audience)
    _checkin(people.alex, people.couple, start + timedelta(days=5), craving=0)
    _checkin(people.alex, people.couple, start + timedelta(days=6), craving=10)
    _checkin(people.alex, people.old_couple, start - timedelta(days=400), craving=3)
    _checkin(people.alex, None, start - timedelta(days=800))
    _checkin(people.sam, people.couple, start, mood=5, craving=7)
    _checkin(people.sam, people.couple, start + timedelta(days=1), audience=Audience.ONLY_ME)
    _checkin(people.pat, people.old_couple, start - timedelta(days=401))
    _checkin(people.casey, people.other_couple, start)


def _template(c: DailyCheckin, viewer) -> str:
    return loader.render_to_string("checkins/_card.html", {"c": c, "user": viewer})


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "fr"])
def test_python_cards_are_the_template_byte_for_byte(people, language):
    _history(people)
    people.sam.display_name = '<Sam & "Sammy">'
    people.sam.save()
    with override_settings(TIME_ZONE="Pacific/Auckland"), translation.override(language):
        for viewer in (people.alex, people.sam):
            for qs in (
                DailyCheckin.objects.select_related("author"),
                selectors.checkin_cards_for_reader(viewer),
            ):
                cards = list(qs)
                assert cards
                for c in cards:
                    assert str(checkin_card(c, viewer.pk)) == _template(c, viewer)


@pytest.mark.django_db
def test_the_history_page_shows_the_template_cards(people, client_for):
    _history(people)
    page = client_for(people.sam).get("/checkins/history/").content.decode()
    shown = list(selectors.checkins_for_reader(people.sam)[:14])
    assert shown
    for c in shown:
        assert _template(c, people.sam) in page


@pytest.mark.django_db
def test_lists_read_the_same_rows_as_the_policy(people, django_assert_num_queries):
    """For every persona (the current partner, the former partner of an ended space,
    therapists with and without consent, another couple) and every scope."""
    _history(people)
    today = timezone.localdate()
    for i in range(20):
        for author, couple in ((people.alex, people.couple), (people.sam, people.couple)):
            TrustMoment.objects.create(
                author=author,
                couple=couple,
                audience=Audience.PARTNER if i % 3 else Audience.ONLY_ME,
                local_date=today - timedelta(days=i),
                intention=f"Day {i}",
            )
    TrustMoment.objects.create(
        author=people.alex,
        couple=people.old_couple,
        audience=Audience.PARTNER,
        local_date=today - timedelta(days=500),
        intention="Long ago",
    )
    for reader in people.actors().values():
        if reader is None:
            continue
        for scope in ("all", "mine", "shared"):
            full = [c.pk for c in selectors.checkins_for_reader(reader, scope=scope)]
            cards = list(selectors.checkin_cards_for_reader(reader, scope=scope))
            assert [c.pk for c in cards] == full, (reader, scope)
            with django_assert_num_queries(0):
                for c in cards:
                    checkin_card(c, reader.pk)
        moments = selectors.recent_trust_moments(reader, limit=14)
        expected = list(selectors.trust_moments_for_reader(reader)[:14])
        assert [m.local_date for m in moments] == [m.local_date for m in expected]
        assert {m.pk for m in moments} == {m.pk for m in expected}
        with django_assert_num_queries(0):
            for m in moments:
                (m.intention, m.response, m.acknowledged_at, m.author.display_name)
                if m.acknowledged_by_id:
                    m.acknowledged_by.display_name


@pytest.mark.django_db
def test_trust_paused_for_is_the_pause_of_the_current_space(people):
    assert services.trust_paused_for(people.alex) is None
    TrustPractice.objects.create(
        couple=people.old_couple, paused_at=timezone.now(), paused_by=people.pat
    )
    # A pause in a space Alex has left is not his current space's.
    assert services.trust_paused_for(people.alex) is None
    assert services.trust_paused_for(people.pat) is None
    practice = TrustPractice.objects.create(
        couple=people.couple, paused_at=timezone.now(), paused_by=people.sam
    )
    for who in (people.alex, people.sam):
        assert services.trust_paused_for(who) == practice
        assert services.trust_paused(current_couple_id(who)) == practice
    assert services.trust_paused_for(people.casey) is None


def _moments(people) -> list[TrustMoment]:
    today = timezone.localdate()
    out = []
    for i, (author, couple) in enumerate(
        [(people.alex, people.couple), (people.sam, people.couple)] * 3
    ):
        m = TrustMoment.objects.create(
            author=author,
            couple=couple,
            audience=Audience.PARTNER,
            local_date=today - timedelta(days=i),
            intention='<b>No &amp; "bets"</b>' if i == 1 else f"Day {i}",
        )
        out.append(m)
    acknowledged = [out[0], out[3]]
    for m, response in zip(acknowledged, ["", "Proud of you <3"], strict=True):
        m.acknowledged_at = timezone.now()
        m.acknowledged_by = people.sam if m.author_id == people.alex.pk else people.alex
        m.response = response
        m.save()
    return out


@pytest.mark.django_db
@pytest.mark.parametrize("token", ['tok<&">', "NOTPROVIDED", None])
def test_python_moments_are_the_template_byte_for_byte(people, token):
    from trellis.checkins.cards import trust_moment

    _moments(people)
    people.sam.display_name = '<Sam & "Sammy">'
    people.sam.save()
    with override_settings(TIME_ZONE="Pacific/Auckland"), translation.override("de"):
        for viewer in (people.alex, people.sam, people.lee):
            for paused in (None, TrustPractice(paused_at=timezone.now())):
                for m in selectors.recent_trust_moments(viewer, limit=14):
                    ctx = {"m": m, "user": viewer, "paused": paused, "csrf_token": token}
                    expected = loader.render_to_string("checkins/_moment.html", ctx)
                    got = trust_moment(m, viewer=viewer, paused=paused, csrf_token=token)
                    assert str(got) == expected


@pytest.mark.django_db
def test_the_trust_page_shows_the_template_moments(people, client_for):
    _moments(people)
    page = client_for(people.alex).get("/checkins/trust/")
    body = page.content.decode()
    token = page.context["csrf_token"]
    moments = selectors.recent_trust_moments(people.alex, limit=14)
    assert len(moments) == 6
    for m in moments:
        ctx = {"m": m, "user": people.alex, "paused": None, "csrf_token": token}
        assert loader.render_to_string("checkins/_moment.html", ctx) in body
    assert body.count("Acknowledge</button>") == 2  # Sam's two moments not yet acknowledged
