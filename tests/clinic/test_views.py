"""The therapist workspace's pages, for each person who uses them and for everyone else.

Dr. Lee follows Alex and Sam (Alex consented to journal entries); Dr. Noor is linked with no
consent; Dr. Reyes follows Casey's couple; Morgan administers the clinic Dr. Lee practises in.
Every page answers its owner and looks missing (404) to anyone else; a withdrawn consent takes
effect on the therapist's very next request, on every channel.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.personas import PASSWORD, People, build_people, give_consent, make_user
from tests.security.matrix import mark_reauthenticated
from trellis.checkins.models import DailyCheckin
from trellis.clinic import services
from trellis.clinic.models import (
    Appointment,
    ClinicMember,
    Homework,
    HomeworkCompletion,
    LinkInvitation,
    SessionNote,
)
from trellis.couples.models import Consent, TherapistLink
from trellis.journal.models import JournalEntry
from trellis.sharing.audiences import Audience

pytestmark = pytest.mark.django_db

NOTICE = "may not be redisclosed"


@dataclass
class World:
    p: People
    link: TherapistLink  # Dr. Lee's link with Alex and Sam
    homework: Homework  # for Alex alone
    both: Homework  # for both
    appointment: Appointment
    note: SessionNote
    invitation: LinkInvitation
    done: HomeworkCompletion  # Alex's "done" of `both`, shared with partner and therapist
    member: ClinicMember  # Dr. Lee in Morgan's clinic
    clinic_invite_token: str
    other: dict[str, Any]


def _client(user: Any) -> Client:
    c = Client()
    if user is not None:
        c.force_login(user)
    return c


@pytest.fixture
def world() -> World:
    p = build_people()
    link = TherapistLink.objects.get(therapist=p.lee, ended_at__isnull=True)
    # Alex shares journal entries and homework completions with Dr. Lee.
    Consent.objects.filter(grantor=p.alex, therapist=p.lee).delete()
    services.consent_set(
        user=p.alex,
        link_id=link.pk,
        scopes=["journal", "homework"],
        purpose="Couples therapy",
        until=timezone.localdate() + timedelta(days=60),
    )
    today = timezone.localdate()
    homework = services.homework_assign(
        therapist=p.lee,
        link_id=link.pk,
        kind="task",
        title="A ten-minute walk after dinner",
        due_on=today + timedelta(days=3),
        assignees=[p.alex.pk],
    )
    both = services.homework_assign(
        therapist=p.lee,
        link_id=link.pk,
        kind="journal_prompt",
        ref="",
        title="Write about a good moment",
        due_on=today,
        assignees=[p.alex.pk, p.sam.pk],
    )
    # Its date has passed (the service only takes dates from today on).
    Homework.objects.filter(pk=both.pk).update(due_on=today - timedelta(days=2))
    done, _ = services.homework_complete(
        user=p.alex, homework_id=both.pk, note="It helped.", audience=Audience.PARTNER_THERAPIST
    )
    appointment = services.appointment_create(
        therapist=p.lee, link_id=link.pk, starts_at=timezone.now() + timedelta(days=5)
    )
    note = services.note_create(
        therapist=p.lee, link_id=link.pk, kind="session", on_date=today, body="First session."
    )
    invitation = services.link_invitation_create(therapist=p.lee).invitation
    clinic = services.clinic_create(name="Riverside Practice", admin=p.morgan)
    member = ClinicMember.objects.create(clinic=clinic, user=p.lee, role="therapist")
    new = services.clinic_invite(admin=p.morgan, email="new.therapist@example.test")
    # Another administrator with a clinic of their own (Dr. Reyes practises there).
    other_admin = make_user("ash@example.test", "Ash", role="clinic_admin")
    other_clinic = services.clinic_create(name="Hillside", admin=other_admin)
    other_member = ClinicMember.objects.create(clinic=other_clinic, user=p.reyes, role="therapist")
    other_invite = services.clinic_invite(admin=other_admin, email="x@example.test").invitation
    return World(
        p,
        link,
        homework,
        both,
        appointment,
        note,
        invitation,
        done,
        member,
        new.token,
        {"admin": other_admin, "member": other_member, "invitation": other_invite},
    )


# --- every page: its owner, and nobody else -----------------------------------------------------


def _therapist_pages(w: World) -> list[str]:
    link = w.link.pk
    return [
        reverse("clinic:couple", args=[link]),
        reverse("clinic:couple_end", args=[link]),
        reverse("clinic:homework_new", args=[link]),
        reverse("clinic:appointment_new", args=[link]),
        reverse("clinic:notes", args=[link]),
        reverse("clinic:note_new", args=[link]),
        reverse("clinic:note_edit", args=[w.note.pk]),
        reverse("clinic:note_delete", args=[w.note.pk]),
    ]


def test_therapist_pages_answer_the_therapist_and_nobody_else(world: World):
    p = world.p
    lee = _client(p.lee)
    plain = [
        reverse("clinic:caseload"),
        reverse("clinic:invite"),
        reverse("clinic:settings"),
    ]
    for url in plain + _therapist_pages(world):
        r = lee.get(url)
        assert r.status_code == 200, url
        assert NOTICE in r.content.decode(), url
    for outsider in (p.noor, p.reyes, p.alex, p.sam, p.casey, p.morgan, p.pat):
        c = _client(outsider)
        for url in _therapist_pages(world):
            assert c.get(url).status_code == 404, (outsider.display_name, url)
            assert c.post(url, {}).status_code in (404, 405), (outsider.display_name, url)
        if outsider.role != "therapist":
            for url in (reverse("clinic:invite"), reverse("clinic:settings")):
                assert c.get(url).status_code == 404, (outsider.display_name, url)
    for other in (p.noor, p.reyes, p.alex, p.morgan):
        c = _client(other)
        for name, pk in (
            ("clinic:homework_cancel", world.homework.pk),
            ("clinic:appointment_cancel", world.appointment.pk),
            ("clinic:invite_cancel", world.invitation.pk),
        ):
            assert c.post(reverse(name, args=[pk])).status_code == 404, (other, name)
    world.homework.refresh_from_db()
    world.appointment.refresh_from_db()
    world.invitation.refresh_from_db()
    assert world.homework.cancelled_at is None and world.appointment.cancelled_at is None
    assert world.invitation.cancelled_at is None
    # Anonymous: to the sign-in page.
    assert Client().get(_therapist_pages(world)[0]).status_code == 302


def test_wrong_methods_answer_405(world: World):
    lee = _client(world.p.lee)
    assert lee.get(reverse("clinic:homework_cancel", args=[world.homework.pk])).status_code == 405
    assert lee.delete(reverse("clinic:couple", args=[world.link.pk])).status_code == 405
    alex = _client(world.p.alex)
    assert alex.get(reverse("clinic:consent_withdraw", args=[world.link.pk])).status_code == 405
    assert alex.get(reverse("clinic:link_code")).status_code == 405


def test_caseload_shows_flags_overdue_and_only_consented_activity(world: World):
    p = world.p
    today = timezone.localdate()
    # Alex's craving rises in check-ins he does not share with Dr. Lee: no flag from them.
    for i in range(10):
        DailyCheckin.objects.create(
            author=p.alex,
            couple=p.couple,
            audience=Audience.PARTNER_THERAPIST,
            local_date=today - timedelta(days=i),
            mood=3,
            stress=3,
            sleep=3,
            closeness=3,
            safety=1,
        )
    body = _client(p.lee).get(reverse("clinic:caseload")).content.decode()
    assert "Alex &amp; Sam" in body
    assert "Low emotional safety" not in body, "Alex never consented to check-ins"
    assert "1 homework past its date" in body  # Sam has not shared the overdue item as done
    assert "not a diagnosis" in body
    # Once Alex adds check-ins, the sign shows, with his name.
    services.consent_set(
        user=p.alex,
        link_id=world.link.pk,
        scopes=["journal", "homework", "checkin"],
        purpose="Couples therapy",
        until=today + timedelta(days=30),
    )
    body = _client(p.lee).get(reverse("clinic:caseload")).content.decode()
    assert "Low emotional safety — Alex" in body
    # Dr. Noor (no consent) sees the couple, and no signs.
    body = _client(p.noor).get(reverse("clinic:caseload")).content.decode()
    assert "Alex &amp; Sam" in body and "Low emotional safety" not in body


def test_couple_page_shows_consents_timeline_homework_and_sessions(world: World):
    p = world.p
    mine = JournalEntry.objects.create(
        author=p.alex, couple=p.couple, audience=Audience.PARTNER_THERAPIST, body="shared"
    )
    sams = JournalEntry.objects.create(
        author=p.sam, couple=p.couple, audience=Audience.PARTNER_THERAPIST, body="not for lee"
    )
    body = _client(p.lee).get(reverse("clinic:couple", args=[world.link.pk])).content.decode()
    assert "Sam hasn't shared anything with you." in body
    assert "Journal entry" in body and "Couples therapy" in body
    assert reverse("journal:detail", args=[mine.pk]) in body
    assert reverse("journal:detail", args=[sams.pk]) not in body
    assert reverse("clinic:completion", args=[world.done.pk]) in body
    assert "done (shared with you)" in body and "not shared as done" in body
    assert "Past its date" in body
    assert reverse("clinic:appointment_cancel", args=[world.appointment.pk]) in body
    # Dr. Noor's couple page for the same couple lists nothing of theirs.
    noor_link = TherapistLink.objects.get(therapist=p.noor, ended_at__isnull=True)
    body = _client(p.noor).get(reverse("clinic:couple", args=[noor_link.pk])).content.decode()
    assert "Nothing is shared with you at the moment." in body
    assert str(mine.pk) not in body and str(world.done.pk) not in body


def test_partner_pages_answer_the_couple_and_nobody_else(world: World):
    p = world.p
    link = world.link.pk
    couple_pages = [
        reverse("clinic:consent", args=[link]),
        reverse("clinic:link_end", args=[link]),
    ]
    for partner in (p.alex, p.sam):
        c = _client(partner)
        r = c.get(reverse("clinic:therapists"))
        assert r.status_code == 200 and "Dr. Lee" in r.content.decode()
        assert NOTICE not in r.content.decode()
        for url in couple_pages:
            assert c.get(url).status_code == 200, url
        assert c.get(reverse("clinic:my_homework")).status_code == 200
        assert c.get(reverse("clinic:homework", args=[world.both.pk])).status_code == 200
    for outsider in (p.casey, p.pat, p.lee, p.noor, p.reyes, p.morgan):
        c = _client(outsider)
        for url in couple_pages:
            assert c.get(url).status_code == 404, (outsider.display_name, url)
        assert c.post(reverse("clinic:consent_withdraw", args=[link])).status_code == 404
        assert c.get(reverse("clinic:homework", args=[world.both.pk])).status_code == 404
    # Homework for Alex alone is Alex's: Sam does not see it.
    assert (
        _client(p.sam).get(reverse("clinic:homework", args=[world.homework.pk])).status_code == 404
    )
    assert (
        "A ten-minute walk"
        not in _client(p.sam).get(reverse("clinic:my_homework")).content.decode()
    )
    # A therapist has no "Our therapist" or homework page of their own.
    assert _client(p.lee).get(reverse("clinic:my_homework")).status_code == 404
    assert _client(p.lee).get(reverse("clinic:therapists")).status_code == 404


def test_completion_is_an_entry_read_through_sharing(world: World):
    p = world.p
    done = world.done
    detail = reverse("clinic:completion", args=[done.pk])
    for reader in (p.alex, p.sam, p.lee):
        r = _client(reader).get(detail)
        assert r.status_code == 200, reader.display_name
        assert "It helped." in r.content.decode()
    for outsider in (p.noor, p.reyes, p.casey, p.pat, p.morgan, p.ortiz, p.quinn):
        assert _client(outsider).get(detail).status_code == 404, outsider.display_name
    for name in (
        "clinic:completion_audience",
        "clinic:completion_delete",
        "clinic:completion_readers",
    ):
        url = reverse(name, args=[done.pk])
        assert _client(p.alex).get(url).status_code == 200, name
        for other in (p.sam, p.lee, p.casey):
            assert _client(other).get(url).status_code == 404, (name, other.display_name)
    # Dr. Lee's read shows on Alex's "who has seen this".
    seen = _client(p.alex).get(reverse("clinic:completion_readers", args=[done.pk]))
    assert "Dr. Lee" in seen.content.decode()
    # Alex narrows the audience: Dr. Lee's next request finds nothing.
    r = _client(p.alex).post(
        reverse("clinic:completion_audience", args=[done.pk]), {"audience": "partner"}
    )
    assert r.status_code == 302
    assert _client(p.lee).get(detail).status_code == 404
    # And takes the "done" back: the homework is open again.
    r = _client(p.alex).post(reverse("clinic:completion_delete", args=[done.pk]))
    assert r.status_code == 302
    assert not HomeworkCompletion.objects.filter(pk=done.pk).exists()


def test_homework_completed_twice_keeps_one(world: World):
    p = world.p
    url = reverse("clinic:homework", args=[world.homework.pk])
    alex = _client(p.alex)
    page = alex.get(url).content.decode()
    assert "Dr. Lee will see that it&#x27;s done" in page or "Dr. Lee will see" in page
    data = {"note": "We walked by the river.", "audience": "partner_therapist"}
    first = alex.post(url, data)
    second = alex.post(url, data)
    assert first.status_code == 302 and second.status_code == 302
    assert first["Location"] == second["Location"]
    assert HomeworkCompletion.objects.filter(assignment__homework=world.homework).count() == 1
    # Sam, who was not given it, cannot complete it.
    assert _client(p.sam).post(url, data).status_code == 404


def test_my_homework_pages_what_is_done_and_keeps_every_open_item(world: World):
    from trellis.clinic.views import DONE_PAGE_SIZE

    p = world.p
    today = timezone.localdate()
    titles = []
    for i in range(DONE_PAGE_SIZE + 3):
        hw = services.homework_assign(
            therapist=p.lee,
            link_id=world.link.pk,
            kind="task",
            title=f"Old task number {i:02d}",
            due_on=today,
            assignees=[p.alex.pk],
        )
        services.homework_complete(
            user=p.alex, homework_id=hw.pk, note="", audience=Audience.ONLY_ME
        )
        titles.append(hw.title)
    alex = _client(p.alex)
    url = reverse("clinic:my_homework")
    first = alex.get(url).content.decode()
    # Open homework is always there, whatever the page; done items come 20 at a time.
    assert "A ten-minute walk after dinner" in first
    on_first = [t for t in titles if t in first]
    second = alex.get(url + "?page=2").content.decode()
    on_second = [t for t in titles if t in second]
    assert "A ten-minute walk after dinner" in second
    # 23 old tasks plus "Write about a good moment", done in the fixture: 24 done in all.
    assert len(on_first) == DONE_PAGE_SIZE and len(on_second) == 3
    assert not set(on_first) & set(on_second)
    assert "Write about a good moment" in second  # the oldest "done" is on the last page
    assert 'href="?page=2#done"' in first
    # A page that doesn't exist or isn't a number shows a page, never an error.
    assert alex.get(url + "?page=99").status_code == 200
    assert alex.get(url + "?page=abc").status_code == 200
    # The API still lists everything: open first, then done, latest first.
    api = _client(p.alex).get("/api/clinic/my/homework").json()
    assert len(api) == 1 + DONE_PAGE_SIZE + 3 + 1
    assert api[0]["completion"] is None and api[1]["completion"] is not None


def test_homework_assign_idempotent_and_errors_name_the_field(world: World):
    p = world.p
    url = reverse("clinic:homework_new", args=[world.link.pk])
    lee = _client(p.lee)
    page = lee.get(url).content.decode()
    key = re.search(r'name="idempotency_key" value="([0-9a-f]+)"', page).group(1)
    data = {
        "idempotency_key": key,
        "kind": "journal_prompt",
        "journal_prompt": "",
        "prompt_set": "",
        "title": "Three good things",
        "instructions": "Each evening.",
        "due_on": (timezone.localdate() + timedelta(days=7)).isoformat(),
        "assignees": [str(p.alex.pk), str(p.sam.pk)],
    }
    before = Homework.objects.count()
    assert lee.post(url, data).status_code == 302
    assert lee.post(url, data).status_code == 302
    assert Homework.objects.count() == before + 1
    bad = dict(data, idempotency_key="other", kind="meeting_prompts", prompt_set="nope")
    r = lee.post(url, bad)
    assert r.status_code == 400
    assert "prompt_set" in r.context["form"].errors
    r = lee.post(url, dict(data, idempotency_key="k3", title=""))
    assert r.status_code == 400 and "title" in r.context["form"].errors
    r = lee.post(url, dict(data, idempotency_key="k4", assignees=[str(p.casey.pk)]))
    assert r.status_code == 400 and "assignees" in r.context["form"].errors


def test_consent_with_a_wrong_password_is_refused_naming_the_field(world: World):
    p = world.p
    url = reverse("clinic:consent", args=[world.link.pk])
    sam = _client(p.sam)
    data = {
        "scopes": ["checkin"],
        "purpose": "Our couples therapy",
        "until": (timezone.localdate() + timedelta(days=90)).isoformat(),
        "password": "not my password",
    }
    r = sam.post(url, data)
    assert r.status_code == 400
    assert list(r.context["form"].errors) == ["password"]
    assert "not my password" not in r.content.decode()
    assert not Consent.objects.filter(grantor=p.sam, therapist=p.lee).exists()
    r = sam.post(url, dict(data, password=PASSWORD))
    assert r.status_code == 302
    consent = Consent.objects.get(grantor=p.sam, therapist=p.lee, withdrawn_at__isnull=True)
    assert [s.entry_type for s in consent.scopes.all()] == ["checkin"]
    r = sam.post(url, dict(data, password=PASSWORD, scopes=[]))
    assert r.status_code == 400 and "scopes" in r.context["form"].errors
    # Alex's page never shows what Sam chose.
    page = _client(p.alex).get(reverse("clinic:therapists")).content.decode()
    assert "Daily check-in" not in page


def test_withdrawal_takes_effect_on_the_therapists_very_next_request(world: World):
    p = world.p
    entry = JournalEntry.objects.create(
        author=p.alex, couple=p.couple, audience=Audience.PARTNER_THERAPIST, body="for Dr. Lee"
    )
    lee = _client(p.lee)
    detail = reverse("journal:detail", args=[entry.pk])
    card = reverse("journal:card", args=[entry.pk])
    api = f"/api/journal/entries/{entry.pk}"
    couple = reverse("clinic:couple", args=[world.link.pk])
    assert lee.get(detail).status_code == 200
    assert NOTICE in lee.get(detail).content.decode()
    assert lee.get(card).status_code == 200
    assert lee.get(api).status_code == 200
    assert detail in lee.get(couple).content.decode()
    assert "Alex" in lee.get(reverse("clinic:caseload")).content.decode()
    timeline_api = f"/api/clinic/caseload/{world.link.pk}"
    lists = ["/api/journal/entries", timeline_api, reverse("journal:list") + "?scope=shared"]
    for url in lists:
        assert str(entry.pk) in lee.get(url).content.decode(), url

    def exported() -> str:
        mark_reauthenticated(lee, p.lee)
        r = lee.post(reverse("accounts:export_download"))
        assert r.status_code == 200
        return r.content.decode()

    # A therapist's export is their own practice: it never carries a partner's entry, before
    # or after a withdrawal (there is no export of a partner's words to "not yet download").
    assert str(entry.pk) not in exported()

    r = _client(p.alex).post(reverse("clinic:consent_withdraw", args=[world.link.pk]))
    assert r.status_code == 302
    for url in lists:
        assert str(entry.pk) not in lee.get(url).content.decode(), url
    assert str(entry.pk) not in exported()

    assert lee.get(detail).status_code == 404
    assert lee.get(card).status_code == 404
    assert lee.get(api).status_code == 404
    page = lee.get(couple).content.decode()
    assert detail not in page and str(entry.pk) not in page
    assert "Alex hasn't shared anything with you." in page
    assert reverse("clinic:completion", args=[world.done.pk]) not in page
    case = lee.get(reverse("clinic:caseload")).content.decode()
    assert "Alex: not yet" in case


def test_stale_note_edit_answers_409_and_keeps_the_draft(world: World):
    lee = _client(world.p.lee)
    url = reverse("clinic:note_edit", args=[world.note.pk])
    data = {
        "version": "1",
        "kind": "session",
        "on_date": timezone.localdate().isoformat(),
        "body": "First draft",
        "referral_to": "",
    }
    assert lee.post(url, data).status_code == 302
    r = lee.post(url, dict(data, body="My other window"))
    assert r.status_code == 409
    page = r.content.decode()
    assert "My other window" in page and "First draft" in page
    assert 'name="version" value="2"' in page
    assert lee.post(url, dict(data, version="2", body="Merged")).status_code == 302
    world.note.refresh_from_db()
    assert world.note.body == "Merged" and world.note.version == 3
    # A referral note names whom to.
    r = lee.post(
        reverse("clinic:note_new", args=[world.link.pk]),
        dict(data, kind="referral", body="Please assess.", referral_to="Dr. Amin, GP"),
    )
    assert r.status_code == 302
    assert "Dr. Amin, GP" in lee.get(reverse("clinic:notes", args=[world.link.pk])).content.decode()
    assert lee.post(reverse("clinic:note_delete", args=[world.note.pk])).status_code == 302
    assert not SessionNote.objects.filter(pk=world.note.pk).exists()


def test_a_couple_links_by_code_and_a_used_code_is_refused(world: World):
    p = world.p
    lee = _client(p.lee)
    page = lee.post(reverse("clinic:invite")).content.decode()
    code = re.search(r'id="invite-code">([A-Z0-9]{8})<', page).group(1)
    token = re.search(r"/clinic/link/([^/\"]+)/", page).group(1)
    assert code not in lee.get(reverse("clinic:invite")).content.decode(), "shown only once"
    # Casey's couple links by the code.
    casey = _client(p.casey)
    confirm = casey.get(reverse("clinic:link_token", args=[token]))
    assert confirm.status_code == 200 and "Dr. Lee" in confirm.content.decode()
    r = casey.post(reverse("clinic:link_code"), {"code": code.lower()})
    assert r.status_code == 302
    assert TherapistLink.objects.filter(therapist=p.lee, couple=p.other_couple).exists()
    r = _client(p.alex).post(reverse("clinic:link_code"), {"code": code})
    assert r.status_code == 400 and "code" in r.context["code_form"].errors
    # Linking shows Dr. Lee nothing: the couple is on the caseload with no consent.
    case = lee.get(reverse("clinic:caseload")).content.decode()
    assert "Casey &amp; Riley" in case and "Casey: not yet" in case


def test_either_partner_ends_the_link_and_every_consent_ends(world: World):
    p = world.p
    give_consent(p.sam, p.lee, p.couple, scopes=["checkin"])
    r = _client(p.sam).post(reverse("clinic:link_end", args=[world.link.pk]))
    assert r.status_code == 302
    world.link.refresh_from_db()
    assert world.link.ended_at is not None
    assert not Consent.objects.filter(link=world.link, withdrawn_at__isnull=True).exists()
    assert _client(p.lee).get(reverse("clinic:couple", args=[world.link.pk])).status_code == 404
    # The therapist's private notes stay reachable.
    assert _client(p.lee).get(reverse("clinic:notes", args=[world.link.pk])).status_code == 200


def test_settings_explain_and_save_the_policy(world: World):
    lee = _client(world.p.lee)
    page = lee.get(reverse("clinic:settings")).content.decode()
    assert "My therapist only" in page
    assert lee.post(reverse("clinic:settings"), {}).status_code == 302
    world.p.lee.refresh_from_db()
    assert world.p.lee.accepts_confidences is False


def test_clinic_admin_pages(world: World):
    p = world.p
    morgan = _client(p.morgan)
    page = morgan.get(reverse("clinic:admin")).content.decode()
    assert "Dr. Lee" in page and "lee@example.test" in page
    assert "new.therapist@example.test" in page
    assert "Alex" not in page, "an administrator never sees couples"
    end = reverse("clinic:member_end", args=[world.member.pk])
    cancel = reverse("clinic:clinic_invitation_cancel", args=[world.other["invitation"].pk])
    other_end = reverse("clinic:member_end", args=[world.other["member"].pk])
    assert morgan.get(end).status_code == 200
    assert morgan.get(other_end).status_code == 404
    assert morgan.post(cancel).status_code == 404
    for outsider in (p.lee, p.alex, p.reyes, world.other["admin"]):
        assert _client(outsider).get(end).status_code == 404
    for outsider in (p.lee, p.alex):
        assert _client(outsider).get(reverse("clinic:admin")).status_code == 404
    r = morgan.post(reverse("clinic:admin"), {"email": "dr.kim@example.test"})
    assert r.status_code == 200 and "/clinic/join/" in r.content.decode()
    token = re.search(r"/clinic/join/([^/\"]+)/", r.content.decode()).group(1)
    kim = make_user("dr.kim@example.test", "Dr. Kim")
    c = _client(kim)
    assert "Riverside Practice" in c.get(reverse("clinic:join", args=[token])).content.decode()
    assert c.post(reverse("clinic:join", args=[token])).status_code == 302
    kim.refresh_from_db()
    assert kim.role == "therapist"
    assert morgan.post(end).status_code == 302
    world.member.refresh_from_db()
    assert world.member.ended_at is not None


def test_home_shows_own_signs_and_homework_gently_within_the_query_budget(world: World):
    p = world.p
    today = timezone.localdate()
    for i in range(7):
        DailyCheckin.objects.create(
            author=p.sam,
            couple=p.couple,
            audience=Audience.ONLY_ME,
            local_date=today - timedelta(days=i),
            mood=3,
            stress=3,
            sleep=3,
            closeness=3,
            safety=1,
        )
    sam = _client(p.sam)
    sam.get("/trivial")  # settle the session, as the query-count test does
    with CaptureQueriesContext(connection) as ctx:
        r = sam.get("/")
    assert r.status_code == 200
    page = r.content.decode()
    assert "emotional safety low" in page
    assert "1 homework item from your therapist" in page
    assert len(ctx.captured_queries) <= 12, "\n".join(q["sql"][:150] for q in ctx.captured_queries)
    # Alex sees neither Sam's signs nor a count for homework he has done.
    page = _client(p.alex).get("/").content.decode()
    assert "emotional safety low" not in page
    assert "1 homework item" in page  # the walk, still open


def test_nav_items_by_role(world: World):
    p = world.p
    assert "Caseload" in _client(p.lee).get(reverse("clinic:caseload")).content.decode()
    page = _client(p.alex).get("/").content.decode()
    assert "Our therapist" in page and reverse("clinic:my_homework") in page
    assert "Caseload" not in page and NOTICE not in page
    page = _client(p.morgan).get(reverse("clinic:admin")).content.decode()
    assert f'href="{reverse("clinic:admin")}"' in page


def test_partner_pages_stay_within_the_query_budget(world: World):
    p = world.p
    alex = _client(p.alex)
    alex.get("/trivial")
    pages = [
        reverse("clinic:therapists"),
        reverse("clinic:consent", args=[world.link.pk]),
        reverse("clinic:my_homework"),
        reverse("clinic:homework", args=[world.homework.pk]),
        reverse("clinic:completion", args=[world.done.pk]),
    ]
    for url in pages:
        with CaptureQueriesContext(connection) as ctx:
            assert alex.get(url).status_code == 200
        assert len(ctx.captured_queries) <= 12, (url, len(ctx.captured_queries))
