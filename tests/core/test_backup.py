"""Backup and restore (QUALITY S10, security.md R47): `manage.py backup` taken while another
thread keeps writing journal entries is one point in time, and `manage.py restore` brings back
exactly the rows that backup holds. Runs on SQLite (the test database is in-memory with a shared
cache, so the writer retries "table is locked" as the file database's busy timeout would) and on
PostgreSQL (pg_dump / pg_restore) when DATABASE_URL points there."""

from __future__ import annotations

import base64
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import OperationalError, connection, connections

from tests.concurrency import shared_cache_lock
from trellis.accounts.models import User
from trellis.core import backup as bk
from trellis.journal.models import IdempotencyKey, JournalEntry
from trellis.journal.services import journal_entry_create
from trellis.sharing.models import AuditEvent

pytestmark = pytest.mark.django_db(transaction=True)

SUFFIX = ".sqlite3" if connection.vendor == "sqlite" else ".pgdump"


def body(i: int) -> str:
    return f"backup drill entry {i:05d} — the words only the author wrote"


def make_user(email: str = "writer@example.test") -> User:
    return User.objects.create_user(email, "a long enough password 1", display_name="Writer")


def write(user: User, i: int) -> None:
    """One journal entry = one transaction writing three rows: the entry, its idempotency key and
    its audit event."""
    while True:
        try:
            journal_entry_create(
                author=user, body=body(i), audience="me", idempotency_key=f"k{i}", channel="api"
            )
            return
        except OperationalError as exc:
            if not shared_cache_lock(exc):
                raise
            time.sleep(0.001)


class Writer(threading.Thread):
    """Keeps writing entries 0, 1, 2, … in order, recording when each was acknowledged."""

    def __init__(self, user: User):
        super().__init__(daemon=True)
        self.user = user
        self.acked: list[float] = []  # acked[i] = when entry i's transaction committed
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            i = 0
            while not self.stop.is_set():
                write(self.user, i)
                self.acked.append(time.monotonic())
                i += 1
        except BaseException as exc:
            self.error = exc
        finally:
            connections.close_all()

    def wait_for(self, n: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while len(self.acked) < n:
            assert self.error is None, self.error
            assert time.monotonic() < deadline, f"writer stalled at {len(self.acked)}"
            time.sleep(0.005)


def restored_state(user: User) -> tuple[list[int], int, int, int]:
    """(entry numbers, entries, idempotency keys, 'created' audit events) in the live database."""
    numbers = sorted(int(e.body.split()[3]) for e in JournalEntry.objects.filter(author=user))
    return (
        numbers,
        JournalEntry.objects.filter(author=user).count(),
        IdempotencyKey.objects.filter(owner=user).count(),
        AuditEvent.objects.filter(
            owner=user, action=AuditEvent.Action.CREATED, entry_id__isnull=False
        ).count(),
    )


def test_backup_while_writing_is_one_point_in_time_and_restore_brings_it_back(tmp_path, capsys):
    user = make_user()
    writer = Writer(user)
    writer.start()
    try:
        writer.wait_for(20)
        acked_before = len(writer.acked)
        call_command("backup", out=tmp_path / f"mid-writes{SUFFIX}")
        started_after = len(writer.acked)
        writer.wait_for(started_after + 20)  # the live database moves on past the backup
    finally:
        writer.stop.set()
        writer.join(timeout=60)
    assert writer.error is None, writer.error
    written = len(writer.acked)
    out = capsys.readouterr().out
    path = tmp_path / f"mid-writes{SUFFIX}"
    assert f"sha256 {bk.sha256_file(path)}" in out
    assert bk.checksum_path(path).read_text().split()[0] == bk.sha256_file(path)

    if connection.vendor == "sqlite":
        # The file itself: intact, self-contained, and every transaction whole.
        src = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
        try:
            assert src.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            assert src.execute("PRAGMA journal_mode").fetchone() == ("delete",)
            in_file = src.execute(f"SELECT count(*) FROM {JournalEntry._meta.db_table}").fetchone()[
                0
            ]
        finally:
            src.close()

    call_command("restore", source=path, yes=True, no_safety_copy=True)
    numbers, entries, keys, audits = restored_state(user)
    # A point in time: entries 0..n-1 exactly, each with its key and audit row (nothing half-done).
    assert numbers == list(range(len(numbers)))
    assert entries == keys == audits == len(numbers)
    # Everything acknowledged before the backup began is there; nothing from after it ended.
    assert acked_before <= len(numbers) <= started_after + 1
    assert len(numbers) < written
    if connection.vendor == "sqlite":
        assert in_file == len(numbers)
    # The text decrypts to what was written.
    n = len(numbers) - 1
    key = IdempotencyKey.objects.get(owner=user, key=f"k{n}")
    assert JournalEntry.objects.get(pk=key.entry_id).body == body(n)


def test_restore_refuses_without_yes_and_changes_nothing(tmp_path):
    user = make_user()
    write(user, 0)
    path = tmp_path / f"one{SUFFIX}"
    call_command("backup", out=path)
    write(user, 1)
    with pytest.raises(CommandError, match="--yes"):
        call_command("restore", source=path)
    assert restored_state(user)[0] == [0, 1]
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name, path.name + ".sha256"]
    call_command("restore", source=path, yes=True, no_safety_copy=True)
    assert restored_state(user)[0] == [0]


def test_restore_keeps_a_safety_copy_of_what_it_replaces(tmp_path):
    user = make_user()
    write(user, 0)
    path = tmp_path / f"one{SUFFIX}"
    call_command("backup", out=path)
    write(user, 1)
    call_command("restore", source=path, yes=True, safety_dir=tmp_path / "safety")
    assert restored_state(user)[0] == [0]
    (safety,) = [p for p in (tmp_path / "safety").iterdir() if p.name.endswith(SUFFIX)]
    call_command("restore", source=safety, yes=True, no_safety_copy=True)
    assert restored_state(user)[0] == [0, 1]


def test_restore_refuses_a_damaged_or_foreign_file(tmp_path):
    user = make_user()
    write(user, 0)
    path = tmp_path / f"one{SUFFIX}"
    call_command("backup", out=path)
    write(user, 1)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(CommandError, match="does not match"):
        call_command("restore", source=path, yes=True, no_safety_copy=True)
    other = tmp_path / "other.bin"
    other.write_bytes(bk.PGDUMP_MAGIC if connection.vendor == "sqlite" else bk.SQLITE_MAGIC)
    with pytest.raises(CommandError, match="backup but the configured database"):
        call_command("restore", source=other, yes=True, no_safety_copy=True)
    junk = tmp_path / "junk.txt"
    junk.write_text("not a backup")
    with pytest.raises(CommandError, match="neither"):
        call_command("restore", source=junk, yes=True, no_safety_copy=True)
    assert restored_state(user)[0] == [0, 1]


def test_backup_never_overwrites_and_rotates_a_directory(tmp_path, capsys):
    make_user()
    taken = tmp_path / f"taken{SUFFIX}"
    taken.write_text("an older backup")
    with pytest.raises(CommandError, match="never overwrites"):
        call_command("backup", out=taken)
    assert taken.read_text() == "an older backup"
    with pytest.raises(CommandError, match="directory"):
        call_command("backup", out=tmp_path / f"new{SUFFIX}", keep=2)

    folder = tmp_path / "daily"
    for _ in range(3):  # a path ending in "/" is a directory, created on first use
        call_command("backup", out=f"{folder}/", keep=2)
    kept = sorted(p.name for p in folder.iterdir() if p.name.endswith(SUFFIX))
    assert len(kept) == 2
    for name in kept:
        assert bk.NAME_RE.match(name)
        p = folder / name
        assert bk.checksum_path(p).read_text() == f"{bk.sha256_file(p)}  {name}\n"
        assert p.stat().st_mode & 0o077 == 0  # owner-only: a backup holds personal data
    assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]
    assert "Removed old backup" in capsys.readouterr().out


def test_the_keys_are_not_in_the_backup_and_the_text_is_encrypted(tmp_path):
    user = make_user()
    canary = "CANARY-backup-7f3a9 the words only the author wrote"
    journal_entry_create(author=user, body=canary, audience="me")
    path = tmp_path / f"keys{SUFFIX}"
    call_command("backup", out=path)
    raw = path.read_bytes()
    if connection.vendor == "postgresql":
        # The custom format compresses table data: look inside it, as pg_restore would write it.
        raw = subprocess.run(
            ["pg_restore", "--file=-", str(path)], capture_output=True, check=True
        ).stdout
    assert b"fernet:" in raw  # the entry is in there, as ciphertext
    assert canary.encode() not in raw
    for key in settings.FIELD_ENCRYPTION_KEYS:
        assert key.encode() not in raw
        assert base64.urlsafe_b64decode(key) not in raw


def test_sqlite_online_copy_of_a_wal_file_under_a_writer_is_consistent(tmp_path):
    """The production shape: a WAL file, another connection committing as fast as it can
    transactions that each add one row to table a and one to table b. Every copy is intact, has
    as many rows in a as in b (one instant, not table by table), and holds every transaction
    committed before the copy began (not a stale main file without its WAL)."""
    live = tmp_path / "live.sqlite3"
    setup = sqlite3.connect(live)
    setup.execute("PRAGMA journal_mode=WAL")
    setup.execute("CREATE TABLE a (id INTEGER PRIMARY KEY, pad BLOB)")
    setup.execute("CREATE TABLE b (id INTEGER PRIMARY KEY, pad BLOB)")
    setup.commit()
    setup.close()
    stop = threading.Event()
    committed = [0]

    def writer() -> None:
        conn = sqlite3.connect(live, timeout=20, isolation_level=None)
        pad = b"x" * 2000
        while not stop.is_set():
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO a (pad) VALUES (?)", (pad,))
            conn.execute("INSERT INTO b (pad) VALUES (?)", (pad,))
            conn.execute("COMMIT")
            committed[0] += 1
        conn.close()

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    counts = []
    try:
        source = sqlite3.connect(live, timeout=20)
        for i in range(5):
            time.sleep(0.1)
            out = tmp_path / f"copy{i}.sqlite3"
            out.touch()
            before = committed[0]
            bk.sqlite_copy(source, out)
            after = committed[0]
            copy = sqlite3.connect(out)
            assert copy.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            (in_a,) = copy.execute("SELECT count(*) FROM a").fetchone()
            (in_b,) = copy.execute("SELECT count(*) FROM b").fetchone()
            copy.close()
            assert in_a == in_b, (in_a, in_b)
            assert before <= in_a <= after + 1, (before, in_a, after)
            counts.append(in_a)
        source.close()
    finally:
        stop.set()
        t.join(timeout=30)
    assert counts == sorted(counts) and counts[-1] > counts[0] > 0


def test_restore_needs_an_existing_file(tmp_path):
    with pytest.raises(CommandError, match="does not exist"):
        call_command("restore", source=tmp_path / "missing.sqlite3", yes=True)


def test_restore_refuses_a_backup_from_newer_code(tmp_path, monkeypatch):
    user = make_user()
    write(user, 0)
    path = tmp_path / f"one{SUFFIX}"
    call_command("backup", out=path)
    write(user, 1)
    real = bk.backup_migrations
    monkeypatch.setattr(
        bk,
        "backup_migrations",
        lambda p, kind: real(p, kind) | {("journal", "9999_from_the_future")},
    )
    with pytest.raises(CommandError, match="newer Trellis"):
        call_command("restore", source=path, yes=True, no_safety_copy=True)
    assert restored_state(user)[0] == [0, 1]


def test_unapplied_migrations_are_reported_after_restore(tmp_path):
    assert bk.unapplied_migrations() == []
    assert Path(bk.timestamped_name("sqlite")).suffix == ".sqlite3"
