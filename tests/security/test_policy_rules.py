"""Named rules of the sharing policy that the generated matrix exercises only in passing."""

from __future__ import annotations

from django.urls import reverse

from tests.oracle import Entry, World
from trellis.journal.models import JournalEntry
from trellis.sharing.policy import visible_to


def test_a_therapist_of_a_later_couple_never_inherits_an_earlier_couples_entries(
    people, client_for
):
    # Alex wrote this for "my partner and our therapist" while in the couple with Pat.
    old = JournalEntry.objects.create(
        author=people.alex, couple=people.old_couple, audience="partner_therapist", body="Earlier."
    )
    # Dr. Lee holds Alex's journal consent, but through the link to Alex's *current* couple.
    assert old not in visible_to(people.lee, JournalEntry)
    assert client_for(people.lee).get(reverse("journal:detail", args=[old.pk])).status_code == 404
    assert not World.load().may_read(people.lee.pk, Entry.of(old))

    # Choosing the audience again is an explicit act: it re-anchors the entry to today's couple.
    from trellis.sharing.services import entry_audience_set

    entry_audience_set(actor=people.alex, entry=old, audience="partner_therapist", channel="page")
    assert old in visible_to(people.lee, JournalEntry)
    assert old in visible_to(people.sam, JournalEntry)
    assert World.load().may_read(people.lee.pk, Entry.of(JournalEntry.objects.get(pk=old.pk)))


def test_therapist_only_is_offered_only_when_someone_could_read_it(people):
    from trellis.couples.services import couple_leave
    from trellis.sharing.services import allowed_audiences

    # Dr. Lee: Alex's consent for the journal, current couple, accepts confidences.
    assert "therapist" in allowed_audiences(people.alex, "journal")
    # A type the consent does not cover would leave such an entry readable by nobody.
    assert "therapist" not in allowed_audiences(people.alex, "not-a-covered-type")
    # Sam has given no consent at all.
    assert "therapist" not in allowed_audiences(people.sam, "journal")
    # Once the couple space ends, its therapist link and consents end with it.
    couple_leave(user=people.sam)
    assert "therapist" not in allowed_audiences(people.alex, "journal")
