"""Search: by word in body and title, any case, and never past the sharing policy."""

from __future__ import annotations

import pytest
from django.urls import reverse

from trellis.journal.selectors import journal_search_for_reader
from trellis.journal.services import journal_entry_create


@pytest.fixture
def entries(people):
    def make(author, body, audience, title=""):
        entry, _ = journal_entry_create(author=author, body=body, title=title, audience=audience)
        return entry

    return {
        "alex_own": make(people.alex, "We walked by the River at dusk.", "me", title="Sunday"),
        "sam_shared": make(people.sam, "The river was loud today.", "partner"),
        "sam_private": make(people.sam, "A river of worries, just for me.", "me"),
        "sam_for_lee": make(people.sam, "river thoughts", "partner_therapist"),
        "casey_shared": make(people.casey, "Riverside picnic with Riley.", "partner"),
        "pat_old": make(people.pat, "river in the old days", "partner"),
        "alex_other": make(people.alex, "Nothing about water here.", "partner"),
    }


def _found(client, q) -> set:
    response = client.get(reverse("journal:search"), {"q": q})
    assert response.status_code == 200
    return {e.pk for e in response.context["entries"]}


def test_search_finds_words_in_body_any_case(people, entries, client_for):
    alex = client_for(people.alex)
    expected = {entries["alex_own"].pk, entries["sam_shared"].pk, entries["sam_for_lee"].pk}
    assert _found(alex, "RIVER") == expected
    assert _found(alex, "river") == expected
    assert _found(alex, "  River ") == expected


def test_search_finds_words_in_the_title(people, entries, client_for):
    assert _found(client_for(people.alex), "sunday") == {entries["alex_own"].pk}


def test_search_never_returns_what_the_reader_cannot_see(people, entries, client_for):
    for who in (people.alex, people.sam, people.casey, people.pat, people.lee, people.morgan):
        found = _found(client_for(who), "river")
        for key, entry in entries.items():
            visible = client_for(who).get(reverse("journal:detail", args=[entry.pk]))
            if entry.pk in found:
                assert visible.status_code == 200, (who, key)
    # Spot checks of the policy through search.
    assert _found(client_for(people.casey), "river") == {entries["casey_shared"].pk}
    assert _found(client_for(people.pat), "river") == {entries["pat_old"].pk}
    assert _found(client_for(people.morgan), "river") == set()
    assert entries["sam_private"].pk not in _found(client_for(people.alex), "worries")


def test_an_empty_query_finds_nothing(people, entries, client_for):
    assert _found(client_for(people.alex), "") == set()
    assert _found(client_for(people.alex), "   ") == set()
    assert journal_search_for_reader(people.alex, "") == []


def test_a_very_long_query_is_not_a_crash(people, entries, client_for):
    assert _found(client_for(people.alex), "river" * 500) == set()


def test_search_through_the_api_follows_the_same_rules(people, entries, api_for):
    response = api_for(people.alex).get("/api/journal/entries", {"q": "river"})
    assert response.status_code == 200
    ids = {item["id"] for item in response.json()["items"]}
    assert ids == {
        str(entries["alex_own"].pk),
        str(entries["sam_shared"].pk),
        str(entries["sam_for_lee"].pk),
    }
    assert response.json()["count"] == 3
