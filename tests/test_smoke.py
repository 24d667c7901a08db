from __future__ import annotations

from django.urls import reverse

from trellis.journal.models import JournalEntry
from trellis.journal.services import journal_entry_create


def test_partner_sees_shared_entry_and_stranger_does_not(people, client_for):
    entry, _ = journal_entry_create(
        author=people.alex, body="We walked by the river.", audience="partner"
    )
    url = reverse("journal:detail", args=[entry.pk])
    assert client_for(people.sam).get(url).status_code == 200
    assert client_for(people.casey).get(url).status_code == 404
    assert client_for(people.pat).get(url).status_code == 404
    assert JournalEntry.objects.count() == 1


def test_therapist_with_consent_reads_partner_therapist_entry(people, client_for):
    entry, _ = journal_entry_create(
        author=people.alex, body="For our session.", audience="partner_therapist"
    )
    url = reverse("journal:detail", args=[entry.pk])
    assert client_for(people.lee).get(url).status_code == 200
    for who in (people.noor, people.ortiz, people.quinn, people.reyes, people.morgan):
        assert client_for(who).get(url).status_code == 404
