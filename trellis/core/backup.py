"""Backups and restores of the database (QUALITY S10, security.md R47).

SQLite: the online backup API (`sqlite3.Connection.backup`) copies every page in one step inside
one read transaction, so the copy is the database as it was at one instant even while other
processes keep writing (WAL readers never block writers). Never a plain file copy: a copy of the
main file without its `-wal` misses recent commits, and a copy taken mid-checkpoint can be torn.
PostgreSQL: `pg_dump --format=custom` (one MVCC snapshot) and `pg_restore`.

Every backup is written to a temporary file beside its destination, checked, fsynced and renamed
into place, so a crash never leaves a half-written file under the final name; its sha256 goes
into `<file>.sha256` (the format `sha256sum -c` reads). The encryption keys are never part of a
backup (they live in settings, not in the database): a backup is unreadable without them.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import sqlite3
import subprocess
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.db import connections
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"
SUFFIX = {"sqlite": ".sqlite3", "postgresql": ".pgdump"}
NAME_RE = re.compile(r"^trellis-\d{8}T\d{6}(?:\d{6})?Z\.(?:sqlite3|pgdump)$")
# libpq connection keywords dj-database-url may put into OPTIONS; psycopg-only options are not.
LIBPQ_OPTIONS = {
    "sslmode",
    "sslrootcert",
    "sslcert",
    "sslkey",
    "sslpassword",
    "connect_timeout",
    "application_name",
    "options",
    "target_session_attrs",
    "passfile",
    "service",
    "gssencmode",
    "channel_binding",
}


class BackupError(Exception):
    """Something an operator must see; the message says what to do."""


@dataclass
class BackupResult:
    path: Path
    vendor: str
    size: int
    sha256: str
    seconds: float


@dataclass
class RestoreResult:
    source: Path
    vendor: str
    target: str
    seconds: float
    sha256: str
    checksum_verified: bool
    integrity: str
    unapplied_migrations: list[str] = field(default_factory=list)
    users: int = 0
    safety_copy: Path | None = None


# --- helpers --------------------------------------------------------------------------------


def vendor(using: str = "default") -> str:
    v = connections[using].vendor
    if v not in SUFFIX:
        raise BackupError(f"Backups support SQLite and PostgreSQL, not {v}.")
    return v


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def checksum_path(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def file_kind(path: Path) -> str | None:
    """'sqlite', 'postgresql' (a pg_dump custom archive) or None, from the file's first bytes."""
    with path.open("rb") as fh:
        head = fh.read(16)
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PGDUMP_MAGIC):
        return "postgresql"
    return None


def timestamped_name(kind: str, now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    return f"trellis-{now:%Y%m%dT%H%M%S%f}Z{SUFFIX[kind]}"


def human_size(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:,.1f} TB"  # pragma: no cover


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):  # not every filesystem lets a directory be opened
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _private_tempfile(final: Path) -> Path:
    """An empty file beside `final`, readable by its owner only (a backup holds personal data)."""
    for attempt in range(100):
        tmp = final.with_name(f".{final.name}.{os.getpid()}.{attempt}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        os.close(fd)
        return tmp
    raise BackupError(f"Could not create a temporary file beside {final}.")


def _publish(tmp: Path, final: Path) -> str:
    """fsync, rename into place (atomic on one filesystem), write the checksum file."""
    _fsync_file(tmp)
    digest = sha256_file(tmp)
    os.replace(tmp, final)
    side = checksum_path(final)
    side_tmp = _private_tempfile(side)
    side_tmp.write_text(f"{digest}  {final.name}\n")
    _fsync_file(side_tmp)
    os.replace(side_tmp, side)
    _fsync_dir(final.parent)
    return digest


def rotate(directory: Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` timestamped backups (and their checksum files)."""
    found = sorted(p for p in directory.iterdir() if p.is_file() and NAME_RE.match(p.name))
    removed = found[:-keep] if keep > 0 else []
    for p in removed:
        p.unlink()
        checksum_path(p).unlink(missing_ok=True)
    return removed


def resolve_out(raw: str | Path, kind: str) -> tuple[Path, bool]:
    """(file to write, whether `raw` names a directory of timestamped backups: an existing
    directory, or a path ending in a slash, which is created)."""
    out = Path(raw)
    if out.is_dir() or str(raw).endswith(("/", os.sep)):
        out.mkdir(parents=True, exist_ok=True)
        return out / timestamped_name(kind), True
    if out.exists():
        raise BackupError(f"{out} already exists; a backup never overwrites a file.")
    if not out.parent.is_dir():
        raise BackupError(f"The directory {out.parent} does not exist.")
    return out, False


# --- PostgreSQL connection for the client tools ---------------------------------------------


def pg_conninfo(using: str = "default") -> tuple[str, dict[str, str]]:
    """A libpq conninfo string for pg_dump/pg_restore and the environment holding the password
    (never on the command line, where `ps` would show it)."""
    from psycopg.conninfo import make_conninfo

    sd = connections[using].settings_dict
    params: dict[str, Any] = {"dbname": sd["NAME"]}
    for key, name in (("HOST", "host"), ("PORT", "port"), ("USER", "user")):
        if sd.get(key):
            params[name] = str(sd[key])
    for key, value in (sd.get("OPTIONS") or {}).items():
        if key in LIBPQ_OPTIONS and value not in (None, ""):
            params[key] = str(value)
    env = dict(os.environ)
    if sd.get("PASSWORD"):
        env["PGPASSWORD"] = str(sd["PASSWORD"])
    return make_conninfo(**params), env


def _run(cmd: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    exe = shutil.which(cmd[0])
    if exe is None:
        raise BackupError(f"{cmd[0]} is not installed (Debian: apt-get install postgresql-client).")
    # A fixed client program; its arguments are paths and a conninfo string, never a shell line.
    return subprocess.run(  # noqa: S603
        [exe, *cmd[1:]], env=env, capture_output=True, text=True, check=False
    )


# --- backup ---------------------------------------------------------------------------------


def sqlite_copy(source: sqlite3.Connection, tmp: Path) -> None:
    """Copy `source` into the (empty) file `tmp` with the online backup API, as one snapshot."""
    dst = sqlite3.connect(tmp)
    try:
        # pages=-1: every page in one step, inside one read transaction on the source.
        source.backup(dst, pages=-1)
        # A self-contained file: no -wal/-shm beside it when it is opened later.
        dst.execute("PRAGMA journal_mode=DELETE")
        result = dst.execute("PRAGMA integrity_check").fetchall()
    finally:
        dst.close()
    if [r[0] for r in result] != ["ok"]:
        raise BackupError(f"The copy did not pass its integrity check: {result[:5]}")


def backup(
    out: str | Path, *, using: str = "default", keep: int = 0
) -> tuple[BackupResult, list[Path]]:
    kind = vendor(using)
    final, is_dir = resolve_out(out, kind)
    if keep and not is_dir:
        raise BackupError("--keep needs --out to name a directory of backups.")
    tmp = _private_tempfile(final)
    started = time.perf_counter()
    try:
        if kind == "sqlite":
            conn = connections[using]
            if conn.in_atomic_block:
                raise BackupError("Take a backup outside a transaction.")
            conn.ensure_connection()
            sqlite_copy(conn.connection, tmp)
        else:
            conninfo, env = pg_conninfo(using)
            done = _run(
                ["pg_dump", "--format=custom", "--file", str(tmp), "--dbname", conninfo], env
            )
            if done.returncode != 0:
                raise BackupError(f"pg_dump stopped with an error: {done.stderr.strip()}")
            listed = _run(["pg_restore", "--list", str(tmp)], env)
            if listed.returncode != 0 or "TABLE DATA" not in listed.stdout:
                raise BackupError(f"pg_dump wrote an unreadable archive: {listed.stderr.strip()}")
        digest = _publish(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)
    seconds = time.perf_counter() - started
    removed = rotate(final.parent, keep) if keep else []
    return BackupResult(final, kind, final.stat().st_size, digest, seconds), removed


# --- restore --------------------------------------------------------------------------------


def verify_checksum(path: Path) -> tuple[str, bool]:
    """(sha256 of the file, whether a checksum file vouched for it). A mismatch raises."""
    digest = sha256_file(path)
    side = checksum_path(path)
    if not side.exists():
        return digest, False
    recorded = side.read_text().split()[0:1]
    if recorded != [digest]:
        raise BackupError(
            f"{path.name} does not match {side.name} (sha256 {digest}): the file is damaged or "
            "is not the backup that checksum was written for. Nothing was restored."
        )
    return digest, True


def _sqlite_open_backup(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)


def backup_migrations(path: Path, kind: str) -> set[tuple[str, str]]:
    """The migrations applied in the backed-up database, read from the file itself."""
    if kind == "sqlite":
        src = _sqlite_open_backup(path)
        try:
            return {(a, n) for a, n in src.execute("SELECT app, name FROM django_migrations")}
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{path} is not a Trellis database: {exc}") from None
        finally:
            src.close()
    done = _run(
        ["pg_restore", "--data-only", "--table=django_migrations", "--file=-", str(path)],
        dict(os.environ),
    )
    if done.returncode != 0:
        raise BackupError(f"pg_restore cannot read {path}: {done.stderr.strip()}")
    rows: set[tuple[str, str]] = set()
    copying = False
    for line in done.stdout.splitlines():
        if line.startswith("COPY ") and "django_migrations" in line:
            copying = True
            continue
        if copying:
            if line == "\\.":
                break
            cols = line.split("\t")
            if len(cols) >= 3:
                rows.add((cols[1], cols[2]))
    if not rows:
        raise BackupError(f"{path} holds no django_migrations rows: not a Trellis database.")
    return rows


def unknown_migrations(applied_in_backup: set[tuple[str, str]]) -> list[str]:
    """Migrations applied in the backup that this code doesn't have: a newer Trellis made it."""
    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    return sorted(f"{a}.{n}" for a, n in applied_in_backup - known)


def unapplied_migrations(using: str = "default") -> list[str]:
    """What `migrate --check` reports: migrations of this code not applied in the database."""
    executor = MigrationExecutor(connections[using])
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{m.app_label}.{m.name}" for m, _backwards in plan]


def target_description(using: str = "default") -> str:
    conn = connections[using]
    sd = conn.settings_dict
    if conn.vendor == "sqlite":
        return f"SQLite database {sd['NAME']}"
    return f"PostgreSQL database {sd['NAME']} on {sd.get('HOST') or 'localhost'}:{sd.get('PORT') or 5432}"


def target_is_empty(using: str = "default") -> bool:
    conn = connections[using]
    return "django_migrations" not in conn.introspection.table_names()


def count_users(using: str = "default") -> int:
    from trellis.accounts.models import User

    conn = connections[using]
    if "django_migrations" not in conn.introspection.table_names():
        return 0
    return User.objects.using(using).count()


def restore(
    source: Path, *, using: str = "default", safety_dir: Path | None = None
) -> RestoreResult:
    """Replace the configured database's content with the backup `source`. The caller has
    already asked for confirmation; the app should be stopped (docs/operations.md)."""
    source = Path(source)
    if not source.is_file():
        raise BackupError(f"{source} does not exist.")
    kind = vendor(using)
    found = file_kind(source)
    if found is None:
        raise BackupError(f"{source} is neither a SQLite database nor a pg_dump custom archive.")
    if found != kind:
        raise BackupError(
            f"{source} is a {found} backup but the configured database is {kind}: restore it "
            "into a Trellis configured for the same database."
        )
    digest, verified = verify_checksum(source)
    if kind == "sqlite":
        src = _sqlite_open_backup(source)
        try:
            check = [r[0] for r in src.execute("PRAGMA integrity_check").fetchall()]
        finally:
            src.close()
        if check != ["ok"]:
            raise BackupError(
                f"{source} does not pass its integrity check: {check[:5]}. Nothing restored."
            )
    applied = backup_migrations(source, kind)
    unknown = unknown_migrations(applied)
    if unknown:
        raise BackupError(
            f"{source} was made by a newer Trellis (migrations unknown here: "
            f"{', '.join(unknown[:5])}). Restore it with that version. Nothing restored."
        )

    safety: Path | None = None
    if safety_dir is not None and not target_is_empty(using):
        safety_dir.mkdir(parents=True, exist_ok=True)
        stamp = f"{datetime.now(UTC):%Y%m%dT%H%M%S%f}Z"
        result, _ = backup(safety_dir / f"trellis-pre-restore-{stamp}{SUFFIX[kind]}", using=using)
        safety = result.path

    conn = connections[using]
    started = time.perf_counter()
    if kind == "sqlite":
        if conn.in_atomic_block:
            raise BackupError("Restore outside a transaction.")
        conn.ensure_connection()
        src = _sqlite_open_backup(source)
        try:
            # Online backup API into the live database: one write transaction, so other
            # connections see either the old database or the restored one, never a mix; a
            # crash midway leaves the old one.
            src.backup(conn.connection, pages=-1)
        except sqlite3.OperationalError as exc:
            raise BackupError(
                f"SQLite refused to restore into the live database ({exc}). Stop the app, move "
                f"{conn.settings_dict['NAME']} and its -wal/-shm files aside and restore again."
            ) from None
        finally:
            src.close()
        with conn.cursor() as cur:
            with contextlib.suppress(Exception):
                cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            cur.execute("PRAGMA integrity_check")
            integrity = ",".join(str(r[0]) for r in cur.fetchall())
            cur.execute("PRAGMA foreign_key_check")
            if cur.fetchone() is not None:
                integrity += "; foreign keys point at missing rows"
    else:
        conn.close()
        conninfo, env = pg_conninfo(using)
        done = _run(
            [
                "pg_restore",
                "--clean",
                "--if-exists",
                "--no-owner",
                "--no-privileges",
                "--single-transaction",
                "--exit-on-error",
                "--dbname",
                conninfo,
                str(source),
            ],
            env,
        )
        if done.returncode != 0:
            raise BackupError(
                f"pg_restore stopped with an error and rolled back (the database is as it was): "
                f"{done.stderr.strip()[-2000:]}"
            )
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM django_migrations")
            integrity = "ok" if cur.fetchone()[0] == len(applied) else "django_migrations differ"
    seconds = time.perf_counter() - started
    return RestoreResult(
        source=source,
        vendor=kind,
        target=target_description(using),
        seconds=seconds,
        sha256=digest,
        checksum_verified=verified,
        integrity=integrity,
        unapplied_migrations=unapplied_migrations(using),
        users=count_users(using),
        safety_copy=safety,
    )
