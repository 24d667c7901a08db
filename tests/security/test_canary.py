"""S4 / security.md R37: a canary written through the real forms and API never leaks.

A unique string goes into a journal entry's title and body (web form and API, plus an edit and a
failed validation), into a recovery track's "in your own words" (settings form), into the daily
check-in's gratitude line and note (form, a same-day edit that keeps the old values as a
revision, a failed validation, the API), into a trust moment's intention and the partner's
word of support, and into both partners' weekly meeting answers and conversation notes (an
I-statement held back by the blame hint, then kept; a reflection over the API). It must never
appear in: the database as stored (every column of every table, decoded sessions and cache rows,
and for SQLite the database file's bytes), any log record at DEBUG or what the JSON formatter
writes, any email (password reset, invitation flow), the 404 and 500 pages (a 500 raised with the
canary in its message, DEBUG off), or any page's <title>.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import logging
import re
import sqlite3
import uuid
from pathlib import Path

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.core import mail
from django.db import connection
from django.test import Client, override_settings

from tests.personas import PASSWORD, build_people, make_user
from trellis.checkins.models import CheckinRevision, DailyCheckin, TrustMoment
from trellis.core.logging import JsonFormatter
from trellis.journal.models import JournalEntry
from trellis.meetings.models import Meeting, MeetingAnswer, MeetingNote
from trellis.recovery.models import RecoveryTrack

TITLE_RE = re.compile(rb"<title>(.*?)</title>", re.S | re.I)


def new_canary() -> str:
    return f"cnry{uuid.uuid4().hex[:20]}"


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def all_logs():
    """Every record of every logger at DEBUG, including loggers that don't propagate
    (django.request, django.security) and so never reach caplog's root handler."""
    handler = Collect()
    manager = logging.Logger.manager
    loggers = [logging.getLogger()] + [
        lg for lg in manager.loggerDict.values() if isinstance(lg, logging.Logger)
    ]
    saved = [(lg, lg.level) for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.DEBUG)
        if lg is logging.getLogger() or not lg.propagate:
            lg.addHandler(handler)
    yield handler
    for lg, level in saved:
        lg.setLevel(level)
        lg.removeHandler(handler)


def assert_logs_clean(handler: Collect, canary: str) -> int:
    fmt = JsonFormatter()
    for record in handler.records:
        assert canary not in record.getMessage(), record.name
        assert canary not in fmt.format(record), record.name
    return len(handler.records)


def _maybe_b64(value: str) -> bytes:
    if len(value) < 16 or not re.fullmatch(r"[A-Za-z0-9+/=_\-:.\s]+", value):
        return b""
    out = b""
    for part in re.split(r"[:.]", value):
        try:
            out += base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
        except (binascii.Error, ValueError):
            continue
    return out


def raw_database_hits(canary: str) -> list[str]:
    """Every column of every table, read with a plain cursor (no model, no decryption)."""
    hits = []
    needle = canary.encode()
    with connection.cursor() as cur:
        for table in connection.introspection.table_names(cur):
            cur.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            cols = [c[0] for c in cur.description]
            for row in cur.fetchall():
                for col, value in zip(cols, row, strict=True):
                    if value is None:
                        continue
                    raw = value if isinstance(value, bytes | memoryview) else str(value).encode()
                    raw = bytes(raw)
                    if needle in raw or needle in _maybe_b64(raw.decode("latin-1")):
                        hits.append(f"{table}.{col}")
    return hits


def encrypted_columns_are_tokens() -> int:
    checked = 0
    with connection.cursor() as cur:
        for table, cols in (
            (JournalEntry._meta.db_table, ("title", "body")),
            (RecoveryTrack._meta.db_table, ("what",)),
            (DailyCheckin._meta.db_table, ("gratitude", "note")),
            (CheckinRevision._meta.db_table, ("data",)),
            (TrustMoment._meta.db_table, ("intention", "response")),
            (MeetingAnswer._meta.db_table, ("answers",)),
            (MeetingNote._meta.db_table, ("text",)),
        ):
            cur.execute(f"SELECT {', '.join(cols)} FROM {table}")
            for row in cur.fetchall():
                for value in row:
                    assert str(value).startswith("fernet:"), f"{table} holds clear text"
                    checked += 1
    return checked


def sqlite_file_bytes(tmp_path: Path) -> bytes:
    """The database as bytes on disk: the file and its WAL, or a page-for-page copy of an
    in-memory test database (sqlite3's backup copies pages, free ones included)."""
    connection.ensure_connection()
    if connection.is_in_memory_db():
        target = tmp_path / "copy.sqlite3"
        dst = sqlite3.connect(target)
        connection.connection.backup(dst)
        dst.close()
        return target.read_bytes()
    name = Path(connection.settings_dict["NAME"])
    data = name.read_bytes()
    for suffix in ("-wal", "-journal"):
        extra = name.with_name(name.name + suffix)
        if extra.exists():
            data += extra.read_bytes()
    return data


def titles(resp) -> list[bytes]:
    return TITLE_RE.findall(resp.content)


def write_canary_everywhere(people, canary: str) -> dict[str, object]:
    alex = Client()
    alex.force_login(people.alex)
    # 1. The journal form, as a person types it.
    resp = alex.post(
        "/journal/new/",
        {
            "title": f"Title {canary}",
            "body": f"Tonight I wrote {canary} in my journal.",
            "audience": "partner",
            "kind": "journal",
            "prompt_key": "",
        },
    )
    assert resp.status_code == 302, resp.content[:500]
    page_entry = JournalEntry.objects.filter(author=people.alex).order_by("-created_at").first()
    assert page_entry is not None and canary in page_entry.body
    # 2. A failed validation that carries the canary (title far too long).
    resp = alex.post(
        "/journal/new/",
        {"title": canary * 40, "body": canary, "audience": "partner", "kind": "journal"},
    )
    assert resp.status_code == 200  # the form again, with the person's own text
    # 3. The API, create and edit.
    resp = alex.post(
        "/api/journal/entries",
        data={"title": f"API {canary}", "body": f"Said {canary} aloud.", "audience": "me"},
        content_type="application/json",
    )
    assert resp.status_code == 201, resp.content
    api_id = resp.json()["id"]
    resp = alex.patch(
        f"/api/journal/entries/{api_id}",
        data={"title": f"Edited {canary}", "body": f"Edited {canary} body."},
        content_type="application/json",
        headers={"If-Match": '"1"'},
    )
    assert resp.status_code == 200, resp.content
    resp = alex.post(
        "/api/journal/entries",
        data={"title": "x" * 500, "body": canary, "audience": "me"},
        content_type="application/json",
    )
    assert resp.status_code == 422
    # 4. A recovery track, in the person's own words, through the settings form.
    resp = alex.post(
        "/settings/",
        {
            "form": "track",
            "t-kind": "behaviour",
            "t-what": canary,
            "t-since": (datetime.date.today() - datetime.timedelta(days=40)).isoformat(),
        },
    )
    assert resp.status_code == 302, resp.content[:500]
    assert RecoveryTrack.objects.filter(author=people.alex).count() == 1
    # 5. Reads and searches of it, which must not echo it into logs either.
    for url in ("/journal/", f"/journal/{page_entry.pk}/", "/journal/search/?q=" + canary):
        assert alex.get(url).status_code == 200
    assert alex.get("/api/journal/entries", {"q": canary}).json()["count"] == 2
    made = {"client": alex, "page_entry": page_entry, "api_id": api_id}
    made.update(write_canary_in_checkins_and_meetings(people, canary, alex))
    return made


CHECKIN = {
    "mood": "4",
    "stress": "2",
    "sleep": "3",
    "closeness": "4",
    "safety": "5",
    "desire": "",
    "arousal": "",
    "fatigue": "",
    "craving": "3",
    "recovery": "kept",
    "audience": "partner",
}


def write_canary_in_checkins_and_meetings(people, canary: str, alex: Client) -> dict[str, object]:
    sam = Client()
    sam.force_login(people.sam)
    # 6. The daily check-in form (Alex is in recovery now: craving and recovery are asked).
    resp = alex.post(
        "/checkins/",
        {**CHECKIN, "gratitude": f"Grateful {canary}", "note": f"Note {canary}", "version": ""},
    )
    assert resp.status_code == 302, resp.content[:500]
    checkin = DailyCheckin.objects.get(author=people.alex)
    assert canary in checkin.note and checkin.craving == 3
    # A same-day edit: the old values (with the canary) are kept as an encrypted revision.
    resp = alex.post(
        "/checkins/",
        {**CHECKIN, "mood": "3", "gratitude": f"Still {canary}", "note": f"Later {canary}"}
        | {"version": str(checkin.version)},
    )
    assert resp.status_code == 302, resp.content[:500]
    assert CheckinRevision.objects.filter(checkin=checkin).count() == 1
    # A failed validation that carries the canary back into the form.
    resp = alex.post("/checkins/", {**CHECKIN, "mood": "", "note": canary})
    assert resp.status_code == 200 and canary.encode() in resp.content
    # The API, with a gratitude line far too long (422) and then a good one.
    resp = alex.put(
        "/api/checkins/checkins/today",
        data={**_api_checkin(), "gratitude": canary * 200},
        content_type="application/json",
    )
    assert resp.status_code == 422
    resp = alex.put(
        "/api/checkins/checkins/today",
        data={**_api_checkin(), "note": f"API {canary}"},
        content_type="application/json",
    )
    assert resp.status_code == 200, resp.content
    # 7. The trust moment: Alex's intention, Sam's word of support.
    resp = alex.post("/checkins/trust/", {"intention": f"Today I keep {canary}"})
    assert resp.status_code == 302, resp.content[:500]
    moment = TrustMoment.objects.get(author=people.alex)
    resp = sam.post(f"/checkins/trust/{moment.pk}/acknowledge/", {"response": f"Proud {canary}"})
    assert resp.status_code == 302
    moment.refresh_from_db()
    assert canary in moment.response
    # 8. The weekly meeting: both answer in private, the reveal, then the conversation.
    resp = alex.post("/meetings/", {"prompt_set": "weekly"})
    assert resp.status_code == 302, resp.content[:500]
    meeting = Meeting.objects.get(couple=people.couple)
    for client, who in ((alex, "Alex"), (sam, "Sam")):
        resp = client.post(
            f"/meetings/{meeting.pk}/answer/",
            {"action": "submit", "audience": "partner", "answer_p0": f"{who} {canary}"},
        )
        assert resp.status_code == 302, resp.content[:500]
    meeting.refresh_from_db()
    assert meeting.revealed_at is not None
    # After the reveal an answer is final: the refused change comes back with the canary.
    resp = alex.post(
        f"/meetings/{meeting.pk}/answer/",
        {"action": "submit", "audience": "partner", "answer_p0": f"Changed {canary}"},
    )
    assert resp.status_code == 400
    # An I-statement starting with blame: held back with a hint, then kept as written.
    note = {"kind": "i_statement", "text": f"You always {canary}"}
    resp = alex.post(f"/meetings/{meeting.pk}/notes/", note)
    assert resp.status_code == 200 and not MeetingNote.objects.exists()
    resp = alex.post(f"/meetings/{meeting.pk}/notes/", {**note, "keep_wording": "1"})
    assert resp.status_code == 302
    resp = sam.post(
        f"/api/meetings/meetings/{meeting.pk}/notes",
        data={"kind": "reflection", "text": f"I heard {canary}"},
        content_type="application/json",
    )
    assert resp.status_code == 201, resp.content
    answer = MeetingAnswer.objects.get(author=people.alex)
    notes = list(MeetingNote.objects.order_by("created_at"))
    assert len(notes) == 2
    return {
        "sam_client": sam,
        "checkin": checkin,
        "moment": moment,
        "meeting": meeting,
        "answer": answer,
        "notes": notes,
    }


def _api_checkin() -> dict[str, object]:
    return {"mood": 3, "stress": 2, "sleep": 3, "closeness": 4, "safety": 4, "audience": "partner"}


@pytest.mark.django_db(transaction=True)
def test_canary_is_encrypted_at_rest(tmp_path, all_logs):
    canary = new_canary()
    people = build_people()
    write_canary_everywhere(people, canary)

    assert raw_database_hits(canary) == []
    # The scan can see clear text: a value stored unencrypted on purpose is found.
    assert "accounts_user.email" in raw_database_hits(people.alex.email)
    # 2 entries x (title, body) + 1 track + check-in (2) + revisions (2 x 1) + trust moment (2)
    # + 2 answers + 2 notes
    assert encrypted_columns_are_tokens() >= 15
    # Sessions are signed base64: decode every one and look inside too.
    with connection.cursor() as cur:
        cur.execute("SELECT session_key FROM django_session")
        for (key,) in cur.fetchall():
            assert canary not in repr(SessionStore(session_key=key).load())
    if connection.vendor == "sqlite":
        data = sqlite_file_bytes(tmp_path)
        assert len(data) > 10_000
        assert canary.encode() not in data
        # The check can see clear text: a value we store unencrypted is in the same bytes.
        assert people.alex.email.encode() in data
    assert_logs_clean(all_logs, canary)


@pytest.mark.django_db
def test_canary_stays_out_of_logs_mail_errors_and_titles(people, all_logs, monkeypatch, capfd):
    canary = new_canary()
    made = write_canary_everywhere(people, canary)
    alex = made["client"]
    page_entry = made["page_entry"]

    # Titles of every page that shows the canary to its author or partner.
    sam = Client()
    sam.force_login(people.sam)
    for client, url in (
        (alex, "/journal/"),
        (alex, f"/journal/{page_entry.pk}/"),
        (alex, f"/journal/{page_entry.pk}/edit/"),
        (alex, f"/journal/{page_entry.pk}/audience/"),
        (alex, f"/journal/{page_entry.pk}/delete/"),
        (alex, f"/journal/{page_entry.pk}/seen/"),
        (alex, "/journal/search/?q=" + canary),
        (alex, "/settings/"),
        (sam, "/home/"),
        (sam, "/journal/"),
        (sam, f"/journal/{page_entry.pk}/"),
    ):
        resp = client.get(url)
        assert resp.status_code == 200, url
        found = titles(resp)
        assert found, f"{url} has no <title>"
        assert all(canary.encode() not in t for t in found), url
    # The canary is on the detail page itself (so the title check looked at the right page).
    assert canary.encode() in sam.get(f"/journal/{page_entry.pk}/").content
    # ...and on the check-in, trust moment and meeting pages, which show it to both partners.
    checkin, moment, meeting = made["checkin"], made["moment"], made["meeting"]
    answer, notes = made["answer"], made["notes"]
    pages = [
        (alex, "/checkins/", False),
        (alex, "/checkins/history/", False),
        (alex, f"/checkins/{checkin.pk}/", True),
        (alex, f"/checkins/{checkin.pk}/audience/", False),
        (alex, f"/checkins/{checkin.pk}/history/", False),
        (alex, "/checkins/trust/", True),
        (alex, f"/checkins/trust/{moment.pk}/", True),
        (alex, "/meetings/", False),
        (alex, f"/meetings/{meeting.pk}/", True),
        (alex, f"/meetings/answers/{answer.pk}/", True),
        (alex, f"/meetings/notes/{notes[0].pk}/", True),
        (alex, f"/meetings/notes/{notes[0].pk}/audience/", False),
        (alex, "/dashboard/", False),
        (sam, f"/checkins/{checkin.pk}/", True),
        (sam, "/checkins/trust/", True),
        (sam, f"/meetings/{meeting.pk}/", True),
        (sam, f"/meetings/answers/{answer.pk}/", True),
        (sam, f"/meetings/notes/{notes[0].pk}/", True),
        (sam, "/home/", False),
        (sam, "/dashboard/", False),
    ]
    for client, url, shows_canary in pages:
        resp = client.get(url)
        assert resp.status_code == 200, url
        found = titles(resp)
        assert found, f"{url} has no <title>"
        assert all(canary.encode() not in t for t in found), url
        if shows_canary:
            assert canary.encode() in resp.content, url
    for url in (
        f"/api/checkins/checkins/{checkin.pk}",
        f"/api/checkins/trust/{moment.pk}",
        f"/api/meetings/meetings/{meeting.pk}",
        f"/api/meetings/answers/{answer.pk}",
        f"/api/meetings/notes/{notes[1].pk}",
    ):
        assert canary.encode() in sam.get(url).content, url

    # 404: someone it is not shared with asks for it.
    casey = Client()
    casey.force_login(people.casey)
    for url in (
        f"/journal/{page_entry.pk}/",
        f"/api/journal/entries/{page_entry.pk}",
        f"/checkins/{checkin.pk}/",
        f"/checkins/trust/{moment.pk}/",
        f"/meetings/{meeting.pk}/",
        f"/meetings/answers/{answer.pk}/",
        f"/meetings/notes/{notes[0].pk}/",
        f"/api/meetings/meetings/{meeting.pk}",
        f"/api/meetings/answers/{answer.pk}",
    ):
        resp = casey.get(url)
        assert resp.status_code == 404
        assert canary.encode() not in resp.content

    # 500: a fault with the canary in the exception's message, DEBUG off.
    from trellis.journal import selectors

    def boom(*args, **kwargs):
        raise RuntimeError(f"database said: {canary}")

    monkeypatch.setattr(selectors, "journal_entry_for_reader", boom)
    failing = Client(raise_request_exception=False)
    failing.force_login(people.alex)
    with override_settings(DEBUG=False, DEBUG_PROPAGATE_EXCEPTIONS=False):
        for url in (f"/journal/{page_entry.pk}/", f"/api/journal/entries/{page_entry.pk}"):
            resp = failing.get(url)
            assert resp.status_code == 500, url
            assert canary.encode() not in resp.content
            assert b"database said" not in resp.content
    errors = [r for r in all_logs.records if r.levelno >= logging.ERROR]
    assert errors, "the 500 was not logged at all"
    assert any(r.exc_info for r in errors)

    # Mail: a password reset, and a whole invitation flow with a shared canary entry.
    mail.outbox.clear()
    anon = Client()
    resp = anon.post("/accounts/password/reset/", {"email": people.alex.email})
    assert resp.status_code == 302
    jo = make_user("jo@example.test", "Jo")
    kim = make_user("kim@example.test", "Kim")
    jo_client, kim_client = Client(), Client()
    jo_client.force_login(jo)
    kim_client.force_login(kim)
    assert jo_client.post("/couple/", {"name": ""}).status_code == 302
    jo_client.post(
        "/journal/new/",
        {"title": canary, "body": f"For Kim: {canary}", "audience": "partner", "kind": "journal"},
    )
    resp = jo_client.post("/couple/invite/")
    assert resp.status_code == 200
    secret = resp.context["code"]
    assert secret.encode() in resp.content
    assert kim_client.post("/couple/join/", {"code": secret}).status_code == 302
    assert canary.encode() in kim_client.get("/journal/").content  # shared now
    # Sign-up sends a confirmation mail too.
    anon.post(
        "/accounts/signup/",
        {
            "email": "lee2@example.test",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "display_name": "Lee",
        },
    )
    assert len(mail.outbox) >= 1, "no mail was sent: the check would be blind"
    for message in mail.outbox:
        parts = [message.subject, message.body]
        parts += [alt[0] for alt in getattr(message, "alternatives", [])]
        assert all(canary not in str(p) for p in parts), message.subject

    # Logs: every record, and what the JSON formatter writes, and what reached the terminal.
    assert assert_logs_clean(all_logs, canary) > 20
    out, err = capfd.readouterr()
    assert canary not in out
    assert canary not in err
