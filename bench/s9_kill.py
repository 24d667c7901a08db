"""S9 drill — crash consistency (QUALITY S9, security.md R46/R48).

For SQLite (a fresh file) and then PostgreSQL (a fresh database `trellis_drill_s9`): start the
production server as `./run serve` does (gunicorn, workers = cores, loopback, a free port); a client
with several threads makes acknowledged writes (journal POSTs through the API with a bearer token
and an Idempotency-Key); at a random moment `kill -9` the gunicorn master and every worker (the
whole process group, one signal); restart; retry every request that was in flight with the same
key and payload; repeat for --rounds rounds. Then, through the ORM: every acknowledged write is
present by id with the right decrypted text, no key produced two entries, every entry has its
idempotency key and its audit row (no half-applied transaction), and the database passes its
integrity check (`PRAGMA integrity_check` on SQLite; consistency counts on PostgreSQL).

    uv run python bench/s9_kill.py [--rounds 20] [--threads 4] [--backends sqlite,postgresql]

Prints `S9 (SQLite): …` and `S9 (PostgreSQL): …` lines ending PASS or FAIL; exits 1 on a FAIL.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PG_HOST = os.environ.get("BENCH_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("BENCH_PG_PORT", "5432"))
PG_USER = os.environ.get("BENCH_PG_USER", "postgres")
PG_DB = "trellis_drill_s9"
BAR = "every acknowledged write present after ≥ 20 kill -9 rounds, 0 duplicated, integrity ok"
USERS = 2


# --- inside Django (run as a subprocess against one database) ----------------------------------


def _django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "trellis.settings")
    import django

    django.setup()


def inner_setup() -> None:
    """Migrate a fresh database, create the drill's people and their API tokens."""
    _django()
    from django.core.management import call_command

    from trellis.accounts.models import User
    from trellis.accounts.services import api_token_create

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    people = []
    for i in range(USERS):
        user = User.objects.create_user(
            f"s9-writer-{i}@drill.test", "s9 drill password 1234", display_name=f"Writer {i}"
        )
        _, raw = api_token_create(user=user, name="s9 drill")
        people.append({"user_id": str(user.pk), "token": raw})
    print(json.dumps(people))


def inner_verify(acks_file: str) -> None:
    """Check the acknowledged writes against the database; print one JSON object."""
    _django()
    from django.db import connection
    from django.db.models import Count

    from trellis.journal.models import IdempotencyKey, JournalEntry
    from trellis.sharing.models import AuditEvent

    acks: list[dict[str, Any]] = json.loads(Path(acks_file).read_text())
    users = sorted({a["user_id"] for a in acks})
    entries = {str(e.pk): e for e in JournalEntry.objects.filter(author_id__in=users)}
    lost = [a for a in acks if a["id"] not in entries]
    wrong = [
        a
        for a in acks
        if a["id"] in entries
        and (entries[a["id"]].body != a["body"] or str(entries[a["id"]].author_id) != a["user_id"])
    ]
    ids_per_key: dict[tuple[str, str], set[str]] = {}
    for a in acks:
        ids_per_key.setdefault((a["user_id"], a["key"]), set()).add(a["id"])
    keys_with_two_ids = sum(1 for ids in ids_per_key.values() if len(ids) > 1)
    bodies: dict[str, int] = {}
    for e in entries.values():
        bodies[e.body] = bodies.get(e.body, 0) + 1
    duplicated = sum(n - 1 for n in bodies.values() if n > 1) + keys_with_two_ids
    n_keys = IdempotencyKey.objects.filter(owner_id__in=users).count()
    keyless = JournalEntry.objects.filter(author_id__in=users).exclude(
        pk__in=IdempotencyKey.objects.filter(owner_id__in=users).values("entry_id")
    )
    audit_rows = (
        AuditEvent.objects.filter(
            owner_id__in=users, action=AuditEvent.Action.CREATED, entry_id__isnull=False
        )
        .values("entry_id")
        .annotate(n=Count("id"))
    )
    audited = {str(r["entry_id"]): r["n"] for r in audit_rows}
    unaudited = sum(1 for pk in entries if audited.get(pk) != 1)
    with connection.cursor() as cur:
        if connection.vendor == "sqlite":
            cur.execute("PRAGMA integrity_check")
            integrity = ",".join(str(r[0]) for r in cur.fetchall())
            cur.execute("PRAGMA foreign_key_check")
            if cur.fetchall():
                integrity += "; foreign key violations"
        else:
            # No integrity_check in PostgreSQL: dangling references and per-table counts instead.
            cur.execute(
                f"SELECT count(*) FROM {IdempotencyKey._meta.db_table} k LEFT JOIN "
                f"{JournalEntry._meta.db_table} e ON e.id = k.entry_id WHERE e.id IS NULL"
            )
            dangling = cur.fetchone()[0]
            integrity = "ok" if dangling == 0 else f"{dangling} keys without their entry"
    print(
        json.dumps(
            {
                "acked": len(acks),
                "entries": len(entries),
                "keys": n_keys,
                "lost": len(lost),
                "wrong_text": len(wrong),
                "duplicated": duplicated,
                "keyless": keyless.count(),
                "unaudited": unaudited,
                "integrity": integrity,
                "lost_sample": lost[:3],
            }
        )
    )


# --- the drill -----------------------------------------------------------------------------------


def die_with_parent() -> None:
    """Runs in a server's process before exec: if the drill itself is killed, the kernel kills
    the gunicorn master too (its workers then exit on their own), so no server outlives it."""
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pg_available() -> bool:
    with contextlib.suppress(OSError), socket.create_connection((PG_HOST, PG_PORT), timeout=2):
        return True
    return False


def pg_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(
        host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres", autocommit=True
    ) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


def run_inner(env: dict[str, str], *args: str) -> Any:
    done = subprocess.run(
        [sys.executable, __file__, *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{args[0]} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


class Server:
    """gunicorn as `./run serve` starts it, in its own process group so that one SIGKILL reaches
    the master and every worker at the same instant."""

    def __init__(self, env: dict[str, str], log: Path, workers: int):
        self.env, self.log, self.workers = env, log, workers
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60) -> float:
        self.port = free_port()
        started = time.monotonic()
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "trellis.wsgi:application",
                    "--bind",
                    f"127.0.0.1:{self.port}",
                    "--workers",
                    str(self.workers),
                    "--log-level",
                    "warning",
                    # gunicorn ≥ 27 opens a control socket at one fixed path per user; drills and
                    # benchmarks running side by side must not share it.
                    "--no-control-socket",
                ],
                env=self.env,
                cwd=ROOT,
                stdout=log,
                stderr=log,
                start_new_session=True,
                preexec_fn=die_with_parent,
            )
        while time.monotonic() - started < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited; log:\n{self.log.read_text()[-3000:]}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    return time.monotonic() - started
            time.sleep(0.05)
        raise RuntimeError(
            f"gunicorn did not answer /healthz; log:\n{self.log.read_text()[-3000:]}"
        )

    def group_pids(self) -> list[int]:
        assert self.proc is not None
        pgid = self.proc.pid
        pids = []
        for d in Path("/proc").iterdir():
            if not d.name.isdigit():
                continue
            with contextlib.suppress(OSError, IndexError, ValueError):
                stat = (d / "stat").read_text()
                fields = stat[stat.rindex(")") + 2 :].split()
                if int(fields[2]) == pgid and fields[0] != "Z":
                    pids.append(int(d.name))
        return pids

    def kill9(self) -> int:
        """SIGKILL the whole group (master + workers); wait until none of them runs."""
        assert self.proc is not None
        victims = self.group_pids()
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        deadline = time.monotonic() + 30
        while self.group_pids() and time.monotonic() < deadline:
            time.sleep(0.02)
        if self.group_pids():
            raise RuntimeError("gunicorn processes survived SIGKILL")
        return len(victims)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)


@dataclass
class Write:
    user_id: str
    token: str
    key: str
    body: str


@dataclass
class Tally:
    acks: list[dict[str, Any]] = field(default_factory=list)
    in_flight: list[Write] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    committed_not_acked: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def post(port: int, w: Write) -> tuple[int, dict[str, Any]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(
            "POST",
            "/api/journal/entries",
            body=json.dumps({"body": w.body, "title": w.key, "audience": "me"}),
            headers={
                "Authorization": f"Bearer {w.token}",
                "Idempotency-Key": w.key,
                "Content-Type": "application/json",
            },
        )
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, (json.loads(data) if data else {})
    finally:
        conn.close()


def client(
    port: int, person: dict[str, Any], prefix: str, stop: threading.Event, tally: Tally
) -> None:
    n = 0
    rng = random.Random(prefix)
    while not stop.is_set():
        key = f"{prefix}-{n}"
        w = Write(person["user_id"], person["token"], key, f"s9 {key} {rng.getrandbits(64):x}")
        n += 1
        try:
            status, data = post(port, w)
        except (OSError, http.client.HTTPException):
            with tally.lock:  # the server died with this request in flight
                tally.in_flight.append(w)
            return
        with tally.lock:
            if status == 201:
                tally.acks.append({**w.__dict__, "id": data["id"]})
                del tally.acks[-1]["token"]
            else:
                tally.errors.append(f"{status} {str(data)[:200]}")
                tally.in_flight.append(w)  # not acknowledged: retried after the restart
                return


def retry_in_flight(port: int, tally: Tally) -> None:
    """After a restart, send every unacknowledged request again with the same key and payload:
    201 = it had not been committed; 200 = it had (committed, acknowledgement lost)."""
    pending, tally.in_flight = tally.in_flight, []
    for w in pending:
        try:
            status, data = post(port, w)
        except (OSError, http.client.HTTPException):
            tally.in_flight.append(w)
            continue
        if status in (200, 201):
            tally.acks.append({**w.__dict__, "id": data["id"], "retried": True})
            del tally.acks[-1]["token"]
            if status == 200:
                tally.committed_not_acked += 1
        else:
            tally.errors.append(f"retry {status} {str(data)[:200]}")
            tally.in_flight.append(w)


def sqlite_integrity(path: Path) -> str:
    conn = sqlite3.connect(path, timeout=20)
    try:
        return ",".join(str(r[0]) for r in conn.execute("PRAGMA integrity_check").fetchall())
    finally:
        conn.close()


def drill(label: str, env: dict[str, str], tmp: Path, args: argparse.Namespace) -> bool:
    rng = random.Random(args.seed)
    t0 = time.monotonic()
    people = run_inner(env, "_setup")
    setup_s = time.monotonic() - t0
    server = Server(env, tmp / f"gunicorn-{label}.log", args.workers)
    tally = Tally()
    boots: list[float] = []
    killed = 0
    round_integrity: list[str] = []
    sqlite_path = Path(env["TRELLIS_SQLITE_PATH"]) if "DATABASE_URL" not in env else None
    try:
        for r in range(args.rounds):
            boots.append(server.start())
            retry_in_flight(server.port, tally)
            stop = threading.Event()
            threads = [
                threading.Thread(
                    target=client,
                    args=(server.port, people[i % len(people)], f"r{r}t{i}", stop, tally),
                    daemon=True,
                )
                for i in range(args.threads)
            ]
            for t in threads:
                t.start()
            time.sleep(rng.uniform(args.min_window, args.max_window))
            killed += server.kill9()
            stop.set()
            for t in threads:
                t.join(timeout=60)
            if sqlite_path is not None:
                round_integrity.append(sqlite_integrity(sqlite_path))
        boots.append(server.start())
        retry_in_flight(server.port, tally)
    finally:
        server.stop()
    acks_file = tmp / f"acks-{label}.json"
    acks_file.write_text(json.dumps(tally.acks))
    result = run_inner(env, "_verify", str(acks_file))
    bad_rounds = sum(1 for i in round_integrity if i != "ok")
    ok = (
        result["lost"] == 0
        and result["wrong_text"] == 0
        and result["duplicated"] == 0
        and result["keyless"] == 0
        and result["unaudited"] == 0
        and result["integrity"] == "ok"
        and bad_rounds == 0
        and not tally.in_flight
        and not tally.errors
        and args.rounds >= 20
        and result["acked"] > 0
    )
    integrity = result["integrity"]
    if sqlite_path is not None:
        integrity += (
            f" (after every round: {len(round_integrity) - bad_rounds}/{len(round_integrity)} ok)"
        )
    figures = (
        f"{args.rounds} rounds, {result['acked']} acknowledged, {result['lost']} lost, "
        f"{result['duplicated']} duplicated, {result['wrong_text']} wrong text, "
        f"{result['keyless'] + result['unaudited']} half-written, "
        f"{tally.committed_not_acked} committed-but-unacknowledged recovered by retry, "
        f"{killed} processes killed, integrity {integrity}"
    )
    name = "SQLite" if sqlite_path is not None else "PostgreSQL"
    print(
        f"  {name}: setup {setup_s:.1f} s, boot median {sorted(boots)[len(boots) // 2]:.2f} s, "
        f"(max {max(boots):.2f} s), {len(tally.errors)} non-2xx answers, {len(tally.in_flight)} never acknowledged",
        flush=True,
    )
    for e in tally.errors[:5]:
        print(f"  non-2xx: {e}", flush=True)
    if result["lost_sample"]:
        print(f"  lost, e.g.: {result['lost_sample']}", flush=True)
    print(f"S9 ({name}): {figures} (bar: {BAR}) {'PASS' if ok else 'FAIL'}", flush=True)
    return ok


def base_env(tmp: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TRELLIS_", "DATABASE_URL", "REDIS_URL", "DJANGO_"))
        and k != "PYTHONDONTWRITEBYTECODE"
    }
    env.update(
        TRELLIS_VAR_DIR=str(tmp / "var"),
        TRELLIS_ENV="local",
        TRELLIS_LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
        # Every restart imports Django afresh: compiled bytecode (kept in the drill's temporary
        # directory, never in the repository) makes a worker boot about 2.5x faster.
        PYTHONPYCACHEPREFIX=str(tmp / "pycache"),
    )
    return env


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--min-window", type=float, default=0.3, help="seconds of writes, min")
    parser.add_argument("--max-window", type=float, default=1.2, help="seconds of writes, max")
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--keep-files", action="store_true")
    args = parser.parse_args()
    # A runner's SIGTERM ends the drill through its `finally` blocks: servers stopped, drill
    # databases dropped, temporary files removed.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(143))
    print(f"S9 drill: seed {args.seed}, {args.threads} client threads, {args.workers} workers")
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    all_ok = True
    tmp = Path(tempfile.mkdtemp(prefix="trellis-s9-"))
    try:
        if "sqlite" in backends:
            env = base_env(tmp)
            env["TRELLIS_SQLITE_PATH"] = str(tmp / "s9.sqlite3")
            all_ok &= drill("sqlite", env, tmp, args)
        if "postgresql" in backends:
            if not pg_available():
                print(
                    f"S9 (PostgreSQL): not run, no server at {PG_HOST}:{PG_PORT} (bar: {BAR}) FAIL"
                )
                all_ok = False
            else:
                pg_admin(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
                pg_admin(f"CREATE DATABASE {PG_DB}")
                try:
                    env = base_env(tmp)
                    env["DATABASE_URL"] = f"postgres://{PG_USER}@{PG_HOST}:{PG_PORT}/{PG_DB}"
                    all_ok &= drill("postgresql", env, tmp, args)
                finally:
                    pg_admin(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
    finally:
        if args.keep_files or not all_ok:
            print(f"  files kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0 if all_ok else 1


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_setup":
        inner_setup()
    elif len(sys.argv) > 2 and sys.argv[1] == "_verify":
        inner_verify(sys.argv[2])
    else:
        sys.exit(main())
