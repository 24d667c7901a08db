"""Couple spaces: create, invite by link or code, join, leave (SPEC couples; security.md R15, R18)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.personas import PASSWORD, make_user
from trellis.couples import services
from trellis.couples.models import CODE_ALPHABET, Consent, Invitation, Membership, TherapistLink
from trellis.journal.models import JournalEntry
from trellis.journal.services import journal_entry_create
from trellis.sharing.models import AuditEvent

INVALID = services.INVALID_INVITATION
START = datetime(2026, 4, 6, 18, 0, tzinfo=UTC)


@pytest.fixture
def jo(db):
    """Jo and Kim are not in any couple space yet."""
    return make_user("jo@example.test", "Jo")


@pytest.fixture
def kim(db):
    return make_user("kim@example.test", "Kim")


def _active(user) -> list[Membership]:
    return list(Membership.objects.filter(user=user, left_at__isnull=True))


def _invite(client: Client) -> tuple[str, str]:
    """Press "Invite your partner"; returns (link path, code) as shown on the page."""
    response = client.post(reverse("couples:invite"))
    assert response.status_code == 200
    link, code = response.context["link"], response.context["code"]
    assert code in response.content.decode()
    return link.removeprefix("http://testserver"), code


def _errors(response) -> str:
    return " ".join(str(m) for m in response.context["messages"]) + " ".join(
        e for errs in response.context["join_form"].errors.values() for e in errs
    )


def test_a_partner_creates_a_couple_space(jo, client_for):
    client = client_for(jo)
    response = client.post(reverse("couples:home"), {"name": "  Us  "})
    assert response.status_code == 302
    (membership,) = _active(jo)
    assert membership.couple.name == "Us"
    assert membership.couple.created_by == jo
    # A second space while in one is refused, with a message.
    again = client.post(reverse("couples:home"), {"name": "Another"})
    assert again.status_code == 200
    assert "already in a couple space" in " ".join(again.context["form"].non_field_errors())
    assert len(_active(jo)) == 1


def test_a_therapist_cannot_create_a_couple_space(people, client_for):
    response = client_for(people.noor).post(reverse("couples:home"), {"name": "x"})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert not _active(people.noor)


def test_an_invitation_has_a_link_and_an_eight_character_code(jo, client_for):
    client = client_for(jo)
    client.post(reverse("couples:home"), {"name": ""})
    link, code = _invite(client)
    assert re.fullmatch(rf"[{CODE_ALPHABET}]{{8}}", code)
    assert re.fullmatch(r"/couple/join/[-\w]{40,}/", link)
    inv = Invitation.objects.get()
    # Only hashes are stored.
    assert code not in (inv.code_hash, inv.token_hash)
    assert inv.expires_at == pytest.approx(
        timezone.now() + timedelta(hours=settings.INVITATION_HOURS), abs=timedelta(seconds=30)
    )


def test_joining_by_link(jo, kim, client_for):
    host = client_for(jo)
    host.post(reverse("couples:home"), {"name": ""})
    link, _ = _invite(host)

    guest = client_for(kim)
    page = guest.get(link)
    assert page.status_code == 200
    assert page.context["inviter"] == jo
    assert "Jo" in page.content.decode()
    joined = guest.post(link)
    assert joined.status_code == 302
    assert _active(kim)[0].couple_id == _active(jo)[0].couple_id
    assert AuditEvent.objects.filter(owner=jo, action=AuditEvent.Action.PARTNER_JOINED).exists()
    # The host's page now names the partner.
    assert host.get(reverse("couples:home")).context["partner"] == kim


def test_joining_by_code_ignores_case_and_spaces(jo, kim, client_for):
    host = client_for(jo)
    host.post(reverse("couples:home"), {"name": ""})
    _, code = _invite(host)
    response = client_for(kim).post(reverse("couples:join_code"), {"code": f"  {code.lower()} "})
    assert response.status_code == 302
    assert _active(kim)[0].couple_id == _active(jo)[0].couple_id


def test_a_code_works_only_once(jo, kim, client_for):
    host = client_for(jo)
    host.post(reverse("couples:home"), {"name": ""})
    link, code = _invite(host)
    assert client_for(kim).post(reverse("couples:join_code"), {"code": code}).status_code == 302
    inv = Invitation.objects.get()
    assert inv.used_by == kim and inv.used_at is not None
    assert services.invitation_find(code) is None
    assert services.invitation_find(link.split("/")[-2]) is None

    # Kim leaves (which ends the space); the used code still lets nobody back in.
    services.couple_leave(user=kim)
    ash = make_user("ash@example.test", "Ash")
    response = client_for(ash).post(reverse("couples:join_code"), {"code": code})
    assert response.status_code == 400
    assert INVALID in _errors(response)
    assert not _active(ash)


def test_a_new_invitation_cancels_the_older_one(jo, kim, client_for):
    host = client_for(jo)
    host.post(reverse("couples:home"), {"name": ""})
    _, first = _invite(host)
    _, second = _invite(host)
    response = client_for(kim).post(reverse("couples:join_code"), {"code": first})
    assert response.status_code == 400
    assert INVALID in _errors(response)
    assert client_for(kim).post(reverse("couples:join_code"), {"code": second}).status_code == 302


def test_an_expired_invitation_is_refused_with_a_clear_message(jo, kim, client_for):
    with time_machine.travel(START, tick=False) as clock:
        host = client_for(jo)
        host.post(reverse("couples:home"), {"name": ""})
        link, code = _invite(host)
        clock.shift(timedelta(hours=settings.INVITATION_HOURS, seconds=1))
        guest = client_for(kim)
        by_code = guest.post(reverse("couples:join_code"), {"code": code})
        assert by_code.status_code == 400
        assert by_code.context["join_form"].errors["code"] == [INVALID]
        assert "expired" in INVALID

        by_link = guest.get(link)
        assert by_link.context["invitation"] is None
        assert "may have expired" in by_link.content.decode()
        posted = guest.post(link, follow=True)
        assert INVALID in " ".join(str(m) for m in posted.context["messages"])
        assert not _active(kim)


def test_an_invitation_still_works_just_before_it_expires(jo, kim):
    with time_machine.travel(START, tick=False) as clock:
        services.couple_create(user=jo)
        new = services.invitation_create(user=jo)
        clock.shift(timedelta(hours=settings.INVITATION_HOURS, seconds=-60))
        services.invitation_accept(user=kim, secret=new.code)
        assert _active(kim)


def test_a_full_couple_takes_no_third_person(people, client_for):
    # Alex and Sam share a space: no invitation can be made...
    response = client_for(people.alex).post(reverse("couples:invite"), follow=True)
    assert "already has two partners" in " ".join(str(m) for m in response.context["messages"])
    assert not Invitation.objects.filter(couple=people.couple, used_at__isnull=True).exists()

    # ...and an open invitation that slipped through (made before Sam joined) admits nobody.
    token, code = Invitation.new_secrets()
    Invitation.objects.create(
        couple=people.couple,
        created_by=people.alex,
        token_hash=Invitation.hash(token),
        code_hash=Invitation.hash(code),
        expires_at=timezone.now() + timedelta(hours=1),
    )
    third = make_user("third@example.test", "Third")
    response = client_for(third).post(reverse("couples:join_code"), {"code": code})
    assert response.status_code == 400
    assert INVALID in _errors(response)
    assert Membership.objects.filter(couple=people.couple, left_at__isnull=True).count() == 2


def test_a_therapist_cannot_join(people, jo, client_for):
    services.couple_create(user=jo)
    new = services.invitation_create(user=jo)
    response = client_for(people.lee).post(reverse("couples:join_code"), {"code": new.code})
    assert response.status_code == 400
    assert "Therapist" in " ".join(response.context["join_form"].non_field_errors())
    assert not _active(people.lee)
    assert Invitation.objects.get(pk=new.invitation.pk).used_at is None  # still open for a partner


def test_someone_already_in_a_couple_cannot_join_another(people, jo, client_for):
    services.couple_create(user=jo)
    new = services.invitation_create(user=jo)
    response = client_for(people.casey).post(reverse("couples:join_code"), {"code": new.code})
    assert response.status_code == 400
    assert "already in a couple space" in _errors(response)
    assert _active(people.casey)[0].couple == people.other_couple


def test_accepting_the_same_invitation_twice_yields_one_membership(jo, kim):
    services.couple_create(user=jo)
    new = services.invitation_create(user=jo)
    ash = make_user("ash@example.test", "Ash")
    services.invitation_accept(user=kim, secret=new.code)
    # The second accept (a double click by Kim, or Ash racing with the same link) fails.
    with pytest.raises(ValidationError):
        services.invitation_accept(user=kim, secret=new.token)
    with pytest.raises(ValidationError):
        services.invitation_accept(user=ash, secret=new.token)
    couple = _active(jo)[0].couple
    assert Membership.objects.filter(couple=couple).count() == 2
    assert len(_active(kim)) == 1
    assert not _active(ash)


def test_a_bad_code_says_which_field(jo, client_for):
    response = client_for(jo).post(reverse("couples:join_code"), {"code": ""})
    assert response.status_code == 400
    assert "code" in response.context["join_form"].errors
    response = client_for(jo).post(reverse("couples:join_code"), {"code": "X" * 101})
    assert response.status_code == 400
    assert "code" in response.context["join_form"].errors


# --- Leaving ----------------------------------------------------------------------------------


def _signed_in(email: str) -> Client:
    client = Client()
    response = client.post(reverse("account_login"), {"login": email, "password": PASSWORD})
    assert response.status_code == 302
    return client


def _reauthenticate(client: Client) -> None:
    response = client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    assert response.status_code == 302


def test_leaving_asks_for_the_password_again(people):
    alex = _signed_in("alex@example.test")
    page = alex.get(reverse("couples:leave"))
    assert page.status_code == 302
    assert page["Location"].startswith(reverse("account_reauthenticate"))
    # A POST without re-authentication does not leave either.
    alex.post(reverse("couples:leave"))
    assert _active(people.alex)

    # The redirect shows allauth's re-authentication page, asking for the password.
    prompt = alex.get(page["Location"])
    assert prompt.status_code == 200
    assert "password" in prompt.context["form"].fields

    _reauthenticate(alex)
    assert alex.get(reverse("couples:leave")).status_code == 200


def test_the_re_authentication_is_good_for_a_few_minutes_only(people):
    with time_machine.travel(START, tick=False) as clock:
        alex = _signed_in("alex@example.test")
        _reauthenticate(alex)
        assert alex.get(reverse("couples:leave")).status_code == 200
        clock.shift(timedelta(seconds=settings.ACCOUNT_REAUTHENTICATION_TIMEOUT + 1))
        again = alex.get(reverse("couples:leave"))
        assert again.status_code == 302
        assert again["Location"].startswith(reverse("account_reauthenticate"))


def test_leaving_ends_the_space_for_both(people):
    alex_wrote, _ = journal_entry_create(author=people.alex, body="For Sam.", audience="partner")
    sam_wrote, _ = journal_entry_create(author=people.sam, body="For Alex.", audience="partner")
    sam = _signed_in("sam@example.test")
    alex = _signed_in("alex@example.test")
    assert sam.get(reverse("journal:detail", args=[alex_wrote.pk])).status_code == 200
    assert alex.get(reverse("journal:detail", args=[sam_wrote.pk])).status_code == 200

    _reauthenticate(alex)
    response = alex.post(reverse("couples:leave"))
    assert response.status_code == 302

    # Both memberships ended; therapist links and consents of the space ended too.
    assert not Membership.objects.filter(couple=people.couple, left_at__isnull=True).exists()
    assert not _active(people.alex) and not _active(people.sam)
    assert not TherapistLink.objects.filter(couple=people.couple, ended_at__isnull=True).exists()
    assert not Consent.objects.filter(
        link__couple=people.couple, withdrawn_at__isnull=True
    ).exists()

    # On the very next request, neither sees the other's entries...
    assert sam.get(reverse("journal:detail", args=[alex_wrote.pk])).status_code == 404
    assert alex.get(reverse("journal:detail", args=[sam_wrote.pk])).status_code == 404
    assert sam.get(f"/api/journal/entries/{alex_wrote.pk}").status_code == 404
    # ...and each keeps their own.
    assert alex.get(reverse("journal:detail", args=[alex_wrote.pk])).status_code == 200
    assert sam.get(reverse("journal:detail", args=[sam_wrote.pk])).status_code == 200
    assert JournalEntry.objects.filter(author=people.alex).count() == 1
    assert JournalEntry.objects.filter(author=people.sam).count() == 1

    # Sam is told neutrally that sharing ended: no reason, and not who pressed the button.
    ended = AuditEvent.objects.get(owner=people.sam, action=AuditEvent.Action.SPACE_ENDED)
    assert ended.actor is None and ended.detail == {}


def test_leaving_when_not_in_a_space_is_harmless(jo):
    services.couple_leave(user=jo)
    assert not _active(jo)


@pytest.mark.parametrize("name", ["couples:invite", "couples:invite_cancel", "couples:join_code"])
def test_post_only_pages_answer_405_to_get(people, client_for, name):
    response = client_for(people.alex).get(reverse(name))
    assert response.status_code == 405
    assert response["Allow"] == "POST"


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_couple_pages_refuse_other_methods(people, client_for, method):
    alex = client_for(people.alex)
    assert getattr(alex, method)(reverse("couples:home")).status_code == 405
    assert getattr(alex, method)(reverse("couples:join_link", args=["t" * 43])).status_code == 405
    assert _active(people.alex)
