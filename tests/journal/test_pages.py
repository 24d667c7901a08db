"""Journal pages: create, validate, edit with conflicts, delete, audience, reads (S7, S8)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.urls import get_resolver, reverse

from trellis.journal.models import JournalEntry
from trellis.journal.services import journal_entry_create, journal_entry_update
from trellis.lib.crypto import decrypt
from trellis.sharing.models import AuditEvent

NEW = reverse("journal:new")


def _entry(author, body="We walked by the river.", audience="partner", **kw) -> JournalEntry:
    entry, _ = journal_entry_create(author=author, body=body, audience=audience, **kw)
    return entry


def _raw_columns(entry: JournalEntry) -> tuple[str, str]:
    """The stored column values, read past the ORM (no from_db_value)."""
    pk = JournalEntry._meta.pk.get_db_prep_value(entry.pk, connection)
    with connection.cursor() as cur:
        table = connection.ops.quote_name(JournalEntry._meta.db_table)
        cur.execute(f"SELECT body, title FROM {table} WHERE id = %s", [pk])
        return cur.fetchone()


# --- Create ------------------------------------------------------------------------------------


def test_creating_an_entry_on_the_page_stores_it_encrypted(people, client_for):
    response = client_for(people.alex).post(
        NEW,
        {
            "kind": "journal",
            "title": "Sunday",
            "body": "CANARY-4411 we walked by the river",
            "audience": "partner",
        },
    )
    entry = JournalEntry.objects.get(author=people.alex)
    assert response.status_code == 302
    assert response["Location"] == reverse("journal:detail", args=[entry.pk])
    assert (entry.body, entry.title, entry.audience) == (
        "CANARY-4411 we walked by the river",
        "Sunday",
        "partner",
    )
    assert entry.couple == people.couple
    body, title = _raw_columns(entry)
    assert body.startswith("fernet:") and title.startswith("fernet:")
    assert "CANARY" not in body and "Sunday" not in title
    assert AuditEvent.objects.filter(
        owner=people.alex, action=AuditEvent.Action.CREATED, entry_id=entry.pk
    ).exists()


def test_an_empty_body_is_refused_on_the_body_field(people, client_for):
    response = client_for(people.alex).post(NEW, {"kind": "journal", "body": "", "audience": "me"})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == ["body"]
    assert errors["body"] == ["Write something before saving."]
    assert not JournalEntry.objects.filter(author=people.alex).exists()


def test_a_body_of_only_spaces_is_refused_on_the_body_field(people, client_for):
    response = client_for(people.alex).post(
        NEW, {"kind": "journal", "body": "   \n  ", "audience": "me"}
    )
    assert response.status_code == 200
    assert "body" in response.context["form"].errors
    assert not JournalEntry.objects.filter(author=people.alex).exists()


@pytest.mark.parametrize("audience", ["everyone", "", "PARTNER", "me "])
def test_an_unknown_audience_is_refused_on_the_audience_field(people, client_for, audience):
    response = client_for(people.alex).post(
        NEW, {"kind": "journal", "body": "Hello", "audience": audience}
    )
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["audience"]
    assert not JournalEntry.objects.filter(author=people.alex).exists()


def test_therapist_only_needs_a_consented_therapist_who_accepts_confidences(people, client_for):
    # Sam has given no therapist consent: "my therapist only" is not offered and is refused.
    sam = client_for(people.sam)
    offered = [v for v, _ in sam.get(NEW).context["form"].fields["audience"].choices]
    assert "therapist" not in offered
    response = sam.post(NEW, {"kind": "journal", "body": "Private", "audience": "therapist"})
    assert response.status_code == 200
    assert "audience" in response.context["form"].errors
    assert not JournalEntry.objects.filter(author=people.sam).exists()

    # Alex consented to Dr. Lee, who accepts confidences: allowed.
    alex = client_for(people.alex)
    assert "therapist" in [v for v, _ in alex.get(NEW).context["form"].fields["audience"].choices]
    assert (
        alex.post(NEW, {"kind": "journal", "body": "Private", "audience": "therapist"}).status_code
        == 302
    )


def test_other_bad_fields_are_named(people, client_for):
    response = client_for(people.alex).post(
        NEW,
        {
            "kind": "poem",
            "title": "t" * 201,
            "body": "b" * 20_001,
            "audience": "me",
            "prompt_key": "no-such-prompt",
        },
    )
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"kind", "title", "body", "prompt_key"}


def test_a_prompt_link_preselects_the_prompt(people, client_for):
    response = client_for(people.alex).get(NEW, {"prompt": "gratitude-3"})
    form = response.context["form"]
    assert form["prompt_key"].value() == "gratitude-3"
    assert form["kind"].value() == "gratitude"
    assert response.context["prompt"].key == "gratitude-3"


def test_the_same_form_posted_twice_makes_one_entry(people, client_for):
    alex = client_for(people.alex)
    data = {"kind": "journal", "body": "Once", "audience": "me", "idempotency_key": "form-123"}
    first = alex.post(NEW, data)
    second = alex.post(NEW, data)
    assert first["Location"] == second["Location"]
    assert JournalEntry.objects.filter(author=people.alex).count() == 1


# --- Methods and outsiders ---------------------------------------------------------------------

ALLOWED = {
    "list": {"GET"},
    "new": {"GET", "POST"},
    "search": {"GET"},
    "detail": {"GET"},
    "card": {"GET"},
    "edit": {"GET", "POST"},
    "delete": {"GET", "POST"},
    "audience": {"GET", "POST"},
    "readers": {"GET"},
}
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _journal_names() -> set[str]:
    _, journal = get_resolver().namespace_dict["journal"]
    return {name for name in journal.reverse_dict if isinstance(name, str)}


def test_the_method_table_covers_every_journal_page():
    assert _journal_names() == set(ALLOWED)


def test_every_journal_page_answers_405_to_a_wrong_method(people, client_for):
    entry = _entry(people.alex, audience="me")
    alex = client_for(people.alex)
    for name, allowed in ALLOWED.items():
        args = [entry.pk] if name not in {"list", "new", "search"} else []
        url = reverse(f"journal:{name}", args=args)
        for method in METHODS:
            if method in allowed:
                continue
            response = getattr(alex, method.lower())(url)
            assert response.status_code == 405, (name, method)
            assert set(response["Allow"].split(", ")) == allowed, name
    assert JournalEntry.objects.filter(pk=entry.pk).exists()


@pytest.mark.parametrize("name", ["detail", "card", "edit", "delete", "audience", "readers"])
def test_outsiders_get_the_same_404(people, client_for, name):
    entry = _entry(people.alex, audience="partner")
    url = reverse(f"journal:{name}", args=[entry.pk])
    missing = reverse(f"journal:{name}", args=["00000000-0000-4000-8000-000000000000"])
    casey = client_for(people.casey)
    denied, absent = casey.get(url), casey.get(missing)
    assert denied.status_code == absent.status_code == 404
    assert denied.content == absent.content
    for who in (people.pat, people.noor, people.morgan):
        assert client_for(who).get(url).status_code == 404


@pytest.mark.parametrize("name", ["edit", "delete", "audience", "readers"])
def test_the_partner_reads_but_cannot_change(people, client_for, name):
    entry = _entry(people.alex, audience="partner")
    sam = client_for(people.sam)
    assert sam.get(reverse("journal:detail", args=[entry.pk])).status_code == 200
    assert sam.get(reverse(f"journal:{name}", args=[entry.pk])).status_code == 404
    if "POST" in ALLOWED[name]:
        assert sam.post(reverse(f"journal:{name}", args=[entry.pk]), {}).status_code == 404
    entry.refresh_from_db()
    assert entry.version == 1 and entry.audience == "partner"


def test_anonymous_visitors_are_sent_to_sign_in(people, client):
    entry = _entry(people.alex)
    response = client.get(reverse("journal:detail", args=[entry.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


# --- Edit, delete ------------------------------------------------------------------------------


def test_editing_saves_and_bumps_the_version(people, client_for):
    entry = _entry(people.alex)
    url = reverse("journal:edit", args=[entry.pk])
    alex = client_for(people.alex)
    assert alex.get(url).context["form"]["version"].value() == 1
    response = alex.post(url, {"title": "New", "body": "Changed", "version": "1"})
    assert response.status_code == 302
    entry.refresh_from_db()
    assert (entry.body, entry.title, entry.version) == ("Changed", "New", 2)
    # Encrypted exactly once: the stored token decrypts to the clear text, not to another token.
    body, title = _raw_columns(entry)
    assert (decrypt(body), decrypt(title)) == ("Changed", "New")


def test_a_stale_edit_shows_a_conflict_and_keeps_my_text(people, client_for):
    entry = _entry(people.alex, body="First words.")
    url = reverse("journal:edit", args=[entry.pk])
    laptop = client_for(people.alex)
    assert laptop.get(url).context["form"]["version"].value() == 1
    # Meanwhile, on the phone, the entry is saved again.
    journal_entry_update(author=people.alex, entry=entry, body="Phone words.", expected_version=1)

    response = laptop.post(url, {"title": "", "body": "Laptop words.", "version": "1"})
    assert response.status_code == 409
    html = response.content.decode()
    assert "changed in another window" in " ".join(response.context["form"].non_field_errors())
    assert "Laptop words." in html  # my text is still in the form
    assert "Phone words." in html  # and the saved version is shown
    assert response.context["form"]["version"].value() == "2"
    entry.refresh_from_db()
    assert (entry.body, entry.version) == ("Phone words.", 2)

    # Saving again from the conflict page (now at version 2) works.
    again = laptop.post(url, {"title": "", "body": "Laptop words.", "version": "2"})
    assert again.status_code == 302
    entry.refresh_from_db()
    assert (entry.body, entry.version) == ("Laptop words.", 3)


def test_an_edit_with_an_empty_body_names_the_field(people, client_for):
    entry = _entry(people.alex)
    response = client_for(people.alex).post(
        reverse("journal:edit", args=[entry.pk]), {"body": "", "version": "1"}
    )
    assert response.status_code == 200
    assert "body" in response.context["form"].errors
    entry.refresh_from_db()
    assert entry.version == 1


def test_the_author_deletes_and_it_is_audited(people, client_for):
    entry = _entry(people.alex)
    alex = client_for(people.alex)
    confirm = alex.get(reverse("journal:delete", args=[entry.pk]))
    assert confirm.status_code == 200
    assert JournalEntry.objects.filter(pk=entry.pk).exists()  # GET only asks

    response = alex.post(reverse("journal:delete", args=[entry.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("journal:list")
    assert not JournalEntry.objects.filter(pk=entry.pk).exists()
    event = AuditEvent.objects.get(action=AuditEvent.Action.DELETED, entry_id=entry.pk)
    assert event.owner == people.alex and event.actor == people.alex
    assert client_for(people.sam).get(reverse("journal:detail", args=[entry.pk])).status_code == 404


# --- Audience --------------------------------------------------------------------------------


def test_the_audience_picker_is_a_fragment_for_htmx(people, client_for):
    entry = _entry(people.alex, audience="me")
    url = reverse("journal:audience", args=[entry.pk])
    alex = client_for(people.alex)

    fragment = alex.get(url, HTTP_HX_REQUEST="true")
    assert fragment.status_code == 200
    assert fragment.templates[0].name == "sharing/audience_box.html"
    assert "<html" not in fragment.content.decode()

    page = alex.get(url)
    assert page.templates[0].name == "sharing/audience_page.html"
    assert "<html" in page.content.decode()

    saved = alex.post(url, {"audience": "partner"}, HTTP_HX_REQUEST="true")
    assert saved.status_code == 200
    assert saved.context["saved"] is True
    assert saved.templates[0].name == "sharing/audience_box.html"
    entry.refresh_from_db()
    assert entry.audience == "partner"
    event = AuditEvent.objects.get(action=AuditEvent.Action.AUDIENCE_CHANGED, entry_id=entry.pk)
    assert event.detail == {"from": "me", "to": "partner"} and event.channel == "fragment"


def test_an_unknown_audience_in_the_picker_names_the_field(people, client_for):
    entry = _entry(people.alex, audience="me")
    response = client_for(people.alex).post(
        reverse("journal:audience", args=[entry.pk]), {"audience": "everyone"}
    )
    assert response.status_code == 200
    assert "audience" in response.context["form"].errors
    entry.refresh_from_db()
    assert entry.audience == "me"


def test_narrowing_the_audience_hides_the_entry_at_once(people, client_for):
    entry = _entry(people.alex, audience="partner")
    sam = client_for(people.sam)
    url = reverse("journal:detail", args=[entry.pk])
    assert sam.get(url).status_code == 200
    client_for(people.alex).post(reverse("journal:audience", args=[entry.pk]), {"audience": "me"})
    assert sam.get(url).status_code == 404


# --- Reads ------------------------------------------------------------------------------------


def _reads(entry) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=AuditEvent.Action.READ, entry_id=entry.pk))


def test_a_partner_read_is_recorded_once_a_day(people, client_for):
    entry = _entry(people.alex, audience="partner")
    with time_machine.travel(datetime(2026, 5, 4, 10, 0, tzinfo=UTC), tick=False) as clock:
        sam = client_for(people.sam)
        for _ in range(3):
            assert sam.get(reverse("journal:detail", args=[entry.pk])).status_code == 200
        sam.get(reverse("journal:list"))
        sam.get(reverse("journal:card", args=[entry.pk]))
        (read,) = _reads(entry)
        assert (read.owner, read.actor, read.actor_role) == (people.alex, people.sam, "partner")

        clock.shift(timedelta(days=1))
        # (A day later the old session has timed out: Sam signs in again.)
        assert (
            client_for(people.sam).get(reverse("journal:detail", args=[entry.pk])).status_code
            == 200
        )
        assert len(_reads(entry)) == 2


def test_the_authors_own_reads_are_not_recorded(people, client_for):
    entry = _entry(people.alex, audience="partner")
    alex = client_for(people.alex)
    alex.get(reverse("journal:detail", args=[entry.pk]))
    alex.get(reverse("journal:list"))
    alex.get(reverse("journal:search"), {"q": "river"})
    assert _reads(entry) == []


def test_who_has_seen_this_lists_the_partners_read(people, client_for):
    entry = _entry(people.alex, audience="partner_therapist")
    client_for(people.sam).get(reverse("journal:detail", args=[entry.pk]))
    client_for(people.lee).get(reverse("journal:detail", args=[entry.pk]))
    page = client_for(people.alex).get(reverse("journal:readers", args=[entry.pk]))
    assert page.status_code == 200
    actors = {e.actor for e in page.context["events"]}
    assert actors == {people.sam, people.lee}
    html = page.content.decode()
    assert "Sam" in html and "Dr. Lee" in html


def test_who_has_seen_this_is_empty_before_anyone_reads(people, client_for):
    entry = _entry(people.alex, audience="partner")
    page = client_for(people.alex).get(reverse("journal:readers", args=[entry.pk]))
    assert list(page.context["events"]) == []
    assert "Nobody else has opened this entry." in page.content.decode()
