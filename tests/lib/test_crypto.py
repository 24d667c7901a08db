"""Field encryption at rest and key rotation (security.md F; lib/crypto.py)."""

from __future__ import annotations

from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from tests.personas import make_user
from trellis.journal.models import JournalEntry
from trellis.journal.services import journal_entry_create
from trellis.lib import crypto
from trellis.recovery.models import RecoveryTrack

K1 = Fernet.generate_key().decode()
K2 = Fernet.generate_key().decode()


@pytest.fixture(autouse=True)
def _fresh_fernet():
    """The MultiFernet is cached per key tuple; clear it around every key change."""
    crypto._fernet.cache_clear()
    yield
    crypto._fernet.cache_clear()


def _raw(model, pk, column: str) -> str | None:
    db_pk = model._meta.pk.get_db_prep_value(pk, connection)
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT {connection.ops.quote_name(column)} FROM {table} WHERE id = %s", [db_pk]
        )
        return cur.fetchone()[0]


@pytest.fixture
def alex(db):
    return make_user("alex@example.test", "Alex")


def test_round_trip_through_the_database(alex):
    text = "Ünïcødé, emoji 🌱, quotes ' \" and a newline\nsecond line"
    entry, _ = journal_entry_create(author=alex, body=text, title="Tïtle", audience="me")
    fresh = JournalEntry.objects.get(pk=entry.pk)
    assert (fresh.body, fresh.title) == (text, "Tïtle")


def test_the_database_holds_no_clear_text(alex):
    entry, _ = journal_entry_create(author=alex, body="CANARY-9042 body", title="", audience="me")
    raw_body = _raw(JournalEntry, entry.pk, "body")
    raw_title = _raw(JournalEntry, entry.pk, "title")
    assert raw_body.startswith(crypto.PREFIX)
    assert "CANARY" not in raw_body
    # Even the empty title is a token, so its length tells nothing.
    assert raw_title.startswith(crypto.PREFIX)
    assert crypto.decrypt(raw_title) == ""


def test_the_same_text_encrypts_differently_each_time():
    assert crypto.encrypt("same") != crypto.encrypt("same")


def test_other_models_fields_are_encrypted_too(alex):
    from datetime import date

    track = RecoveryTrack.objects.create(
        author=alex, kind="substance", what="CANARY-alcohol", since=date(2025, 1, 1)
    )
    assert "CANARY" not in _raw(RecoveryTrack, track.pk, "what")
    assert RecoveryTrack.objects.get(pk=track.pk).what == "CANARY-alcohol"


@pytest.mark.parametrize(
    "lookup", ["exact", "iexact", "contains", "icontains", "startswith", "in", "gt"]
)
def test_lookups_other_than_isnull_raise(alex, lookup):
    value = ["x"] if lookup == "in" else "x"
    with pytest.raises(NotImplementedError, match=lookup):
        list(JournalEntry.objects.filter(**{f"body__{lookup}": value}))


def test_isnull_is_allowed(alex):
    journal_entry_create(author=alex, body="x", audience="me")
    assert JournalEntry.objects.filter(body__isnull=False).count() == 1


def test_a_plain_value_is_never_shown_as_if_decrypted():
    with pytest.raises(ValueError):
        crypto.decrypt("plain text that was never encrypted")


def test_a_missing_key_fails_loudly(alex):
    with override_settings(FIELD_ENCRYPTION_KEYS=[K2]):
        crypto._fernet.cache_clear()
        entry, _ = journal_entry_create(author=alex, body="secret", audience="me")
    crypto._fernet.cache_clear()
    with override_settings(FIELD_ENCRYPTION_KEYS=[K1]), pytest.raises(ImproperlyConfigured):
        JournalEntry.objects.get(pk=entry.pk)


def test_a_malformed_key_is_a_configuration_error():
    with (
        override_settings(FIELD_ENCRYPTION_KEYS=["not-a-key"]),
        pytest.raises(ImproperlyConfigured),
    ):
        crypto.encrypt("x")
    with override_settings(FIELD_ENCRYPTION_KEYS=[]), pytest.raises(ImproperlyConfigured):
        crypto.encrypt("x")


def test_rotation_re_encrypts_every_row_with_the_newest_key(alex):
    # Rows written while K2 was the only key...
    with override_settings(FIELD_ENCRYPTION_KEYS=[K2]):
        crypto._fernet.cache_clear()
        first, _ = journal_entry_create(author=alex, body="old one", title="T1", audience="me")
        second, _ = journal_entry_create(author=alex, body="old two", audience="me")
        track = RecoveryTrack.objects.create(
            author=alex, kind="behaviour", what="gambling", since="2025-01-01"
        )
    before = _raw(JournalEntry, first.pk, "body")

    # ...then K1 is put first, K2 kept for reading, and the command runs.
    with override_settings(FIELD_ENCRYPTION_KEYS=[K1, K2]):
        crypto._fernet.cache_clear()
        out = StringIO()
        call_command("rotate_field_keys", stdout=out)
    assert "journal.JournalEntry: 2 rows re-encrypted" in out.getvalue()
    assert _raw(JournalEntry, first.pk, "body") != before

    # K2 can now be dropped: everything decrypts with K1 alone.
    with override_settings(FIELD_ENCRYPTION_KEYS=[K1]):
        crypto._fernet.cache_clear()
        assert JournalEntry.objects.get(pk=first.pk).body == "old one"
        assert JournalEntry.objects.get(pk=first.pk).title == "T1"
        assert JournalEntry.objects.get(pk=second.pk).body == "old two"
        assert RecoveryTrack.objects.get(pk=track.pk).what == "gambling"

    # And K2 alone no longer reads them.
    with override_settings(FIELD_ENCRYPTION_KEYS=[K2]):
        crypto._fernet.cache_clear()
        with pytest.raises(ImproperlyConfigured):
            JournalEntry.objects.get(pk=first.pk)


def test_rotation_keeps_null_and_empty_values(alex):
    entry, _ = journal_entry_create(author=alex, body="b", title="", audience="me")
    before = _raw(JournalEntry, entry.pk, "title")
    call_command("rotate_field_keys", stdout=StringIO())
    after = _raw(JournalEntry, entry.pk, "title")
    assert after.startswith(crypto.PREFIX) and after != before
    assert JournalEntry.objects.get(pk=entry.pk).title == ""
