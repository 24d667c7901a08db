"""S10 drill — backup while writing, restore on a fresh instance (QUALITY S10, security.md R47).

For SQLite (a fresh file) and then PostgreSQL (fresh databases `trellis_drill_s10_live` and
`trellis_drill_s10_restored`):

1. migrate and create the demo data; a writer process keeps creating journal entries for the demo
   couple through the ORM services (one transaction each), logging every acknowledged write;
2. `manage.py backup` mid-writes; the writer carries on, then the live instance "fails";
3. `manage.py restore --yes` into a fresh location (its own var/ directory, the encryption keys
   handed over separately as in production), then gunicorn on it until `/healthz` answers;
4. the app's own JSON export (trellis/accounts/export.py) of every user of the live database at
   the backup point is compared with the export of every user after the restore, ignoring only
   the export timestamps. "At the backup point" = the live database after the failure without
   the writes that came after the backup's cut; the cut must be one point in time (the restored
   writes are exactly writes 0..k-1) and must hold every write acknowledged before the backup
   began.

Reports RPO (writes after the backup point the restore doesn't have, and the time between the last
backed-up write and the failure) and RTO (seconds to restore and answer /healthz).

    uv run python bench/s10_backup.py [--backends sqlite,postgresql] [--before 1.5] [--after 1.0]

Prints `S10 (SQLite): …` and `S10 (PostgreSQL): …` lines ending PASS or FAIL; exits 1 on a FAIL.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PG_HOST = os.environ.get("BENCH_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("BENCH_PG_PORT", "5432"))
PG_USER = os.environ.get("BENCH_PG_USER", "postgres")
PG_LIVE = "trellis_drill_s10_live"
PG_RESTORED = "trellis_drill_s10_restored"
MARK = "s10 drill write "
BAR = "export before == export after for every user; RPO and RTO reported (RTO ≤ 72 h)"


# --- inside Django (subprocesses, one database each) -------------------------------------------


def _django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "trellis.settings")
    import django

    django.setup()


def inner_seed() -> None:
    _django()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    call_command("seed_demo", quiet_signins=True, verbosity=0)
    print("{}")


def inner_writer(log_path: str) -> None:
    """Create journal entries 0, 1, 2, … for the demo couple until SIGTERM; after each commit,
    log `number monotonic-time` (so a logged write is an acknowledged one)."""
    _django()
    from trellis.accounts.models import User
    from trellis.demo.seed import DEMO_DOMAIN
    from trellis.journal.services import journal_entry_create

    stop = False

    def on_term(signum: int, frame: Any) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_term)
    people = [User.objects.get(email=f"{n}@{DEMO_DOMAIN}") for n in ("alex", "sam")]
    with open(log_path, "a", buffering=1) as log:
        i = 0
        while not stop:
            journal_entry_create(
                author=people[i % 2],
                body=f"{MARK}{i:06d}",
                title=f"drill {i}",
                audience="partner" if i % 3 else "me",
                idempotency_key=f"s10-{i}",
                channel="api",
            )
            log.write(f"{i} {time.monotonic():.6f}\n")
            i += 1
            time.sleep(0.005)


def inner_export(out_path: str) -> None:
    """Every user's export (the app's own), without the export timestamp, plus an integrity
    figure for the database."""
    _django()
    from django.db import connection

    from trellis.accounts.export import export_for
    from trellis.accounts.models import User

    exports: dict[str, Any] = {}
    for user in User.objects.order_by("email"):
        data = export_for(user, channel="drill")
        data.pop("exported_at", None)
        for rows in data["entries"].values():
            rows.sort(key=lambda r: (str(r.get("created_at")), str(r.get("id"))))
        exports[user.email] = data
    with connection.cursor() as cur:
        if connection.vendor == "sqlite":
            cur.execute("PRAGMA integrity_check")
            integrity = ",".join(str(r[0]) for r in cur.fetchall())
        else:
            cur.execute("SELECT count(*) FROM django_migrations")
            integrity = "ok" if cur.fetchone()[0] > 0 else "no migrations table"
    Path(out_path).write_text(json.dumps({"exports": exports, "integrity": integrity}, default=str))
    print("{}")


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


def run(env: dict[str, str], *args: str, timeout: float = 300) -> str:
    done = subprocess.run(
        [sys.executable, *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(args[:3])} failed:\n{done.stdout[-2000:]}{done.stderr[-3000:]}"
        )
    return done.stdout


def read_log(path: Path) -> list[float]:
    acked: list[float] = []
    if path.exists():
        for line in path.read_text().splitlines():
            parts = line.split()
            if len(parts) == 2:
                assert int(parts[0]) == len(acked), "writer log out of order"
                acked.append(float(parts[1]))
    return acked


def wait_writes(path: Path, n: int, proc: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while len(read_log(path)) < n:
        if proc.poll() is not None:
            raise RuntimeError("the writer stopped")
        if time.monotonic() > deadline:
            raise RuntimeError("the writer is too slow")
        time.sleep(0.05)


def boot_and_health(env: dict[str, str], log: Path) -> float:
    """gunicorn as `./run serve` starts it, on the restored database: seconds until /healthz is
    200. Stopped again afterwards."""
    port = free_port()
    started = time.monotonic()
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "trellis.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(os.cpu_count() or 2),
                "--log-level",
                "warning",
                "--no-control-socket",
            ],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=out,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
    try:
        while time.monotonic() - started < 120:
            if proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited; log:\n{log.read_text()[-3000:]}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/healthz")
                resp = conn.getresponse()
                if resp.status == 200 and json.loads(resp.read())["status"] == "ok":
                    return time.monotonic() - started
            time.sleep(0.05)
        raise RuntimeError("the restored instance never answered /healthz")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)


def drill_numbers(export: dict[str, Any]) -> list[int]:
    return sorted(
        int(row["body"][len(MARK) :])
        for data in export.values()
        for row in data["entries"].get("journal", [])
        if str(row.get("body", "")).startswith(MARK)
    )


def without_writes_from(export: dict[str, Any], cut: int) -> dict[str, Any]:
    """The export with the drill's writes number ≥ cut taken out: the state at the backup point."""
    out = json.loads(json.dumps(export))
    for data in out.values():
        rows = data["entries"].get("journal", [])
        data["entries"]["journal"] = [
            r
            for r in rows
            if not (str(r.get("body", "")).startswith(MARK) and int(r["body"][len(MARK) :]) >= cut)
        ]
    return out


def first_difference(a: Any, b: Any, path: str = "") -> str:
    if type(a) is not type(b):
        return f"{path}: {type(a).__name__} vs {type(b).__name__}"
    if isinstance(a, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                return f"{path}/{k}: only on one side"
            d = first_difference(a[k], b[k], f"{path}/{k}")
            if d:
                return d
        return ""
    if isinstance(a, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} vs {len(b)} items"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            d = first_difference(x, y, f"{path}[{i}]")
            if d:
                return d
        return ""
    return "" if a == b else f"{path}: {str(a)[:60]!r} vs {str(b)[:60]!r}"


def drill(
    name: str,
    live_env: dict[str, str],
    restored_env: dict[str, str],
    tmp: Path,
    args: argparse.Namespace,
) -> bool:
    manage = str(ROOT / "manage.py")
    t0 = time.monotonic()
    run(live_env, __file__, "_seed")
    seed_s = time.monotonic() - t0
    log = tmp / f"writes-{name}.log"
    with (tmp / f"writer-{name}.err").open("ab") as err:
        writer = subprocess.Popen(
            [sys.executable, __file__, "_writer", str(log)],
            env=live_env,
            cwd=ROOT,
            stderr=err,
        )
    try:
        wait_writes(log, 1, writer)
        time.sleep(args.before)
        backups = tmp / f"backups-{name}"
        backups.mkdir()
        acked_before_backup = len(read_log(log))
        t_backup0 = time.monotonic()
        backup_out = run(live_env, manage, "backup", "--out", f"{backups}/")
        t_backup1 = time.monotonic()
        acked_after_backup = len(read_log(log))
        time.sleep(args.after)  # the live instance keeps taking writes, then fails
        writer.send_signal(signal.SIGTERM)
        writer.wait(timeout=60)
        t_fail = time.monotonic()
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait()
    acked = read_log(log)
    if writer.returncode not in (0, -signal.SIGTERM):
        raise RuntimeError(
            f"the writer failed:\n{(tmp / f'writer-{name}.err').read_text()[-3000:]}"
        )
    (backup_file,) = [p for p in backups.iterdir() if p.suffix in (".sqlite3", ".pgdump")]
    size = backup_file.stat().st_size
    sha = backup_file.with_name(backup_file.name + ".sha256").read_text().split()[0]

    # Restore on a fresh instance, then boot it until /healthz answers: the RTO.
    t_r0 = time.monotonic()
    restore_out = run(restored_env, manage, "restore", "--from", str(backup_file), "--yes")
    restore_s = time.monotonic() - t_r0
    boot_s = boot_and_health(restored_env, tmp / f"gunicorn-{name}.log")
    rto = restore_s + boot_s

    run(live_env, __file__, "_export", str(tmp / f"live-{name}.json"))
    run(restored_env, __file__, "_export", str(tmp / f"restored-{name}.json"))
    live = json.loads((tmp / f"live-{name}.json").read_text())
    restored = json.loads((tmp / f"restored-{name}.json").read_text())

    got = drill_numbers(restored["exports"])
    cut = len(got)
    in_live = drill_numbers(live["exports"])
    point_in_time = got == list(range(cut))
    holds_acked = cut >= acked_before_backup
    no_future = cut <= acked_after_backup + 1
    live_complete = in_live == list(range(len(acked)))
    expected = without_writes_from(live["exports"], cut)
    diff = first_difference(expected, restored["exports"])
    users = len(restored["exports"])
    rpo_writes = len(acked) - cut
    rpo_s = t_fail - (acked[cut - 1] if cut else t_backup0)
    ok = (
        not diff
        and point_in_time
        and holds_acked
        and no_future
        and live_complete
        and restored["integrity"] == "ok"
        and live["integrity"] == "ok"
        and cut > 0
        and rpo_writes > 0  # the drill really wrote on after the backup
        and "Integrity check: ok" in restore_out
        and rto < 72 * 3600
    )
    label = "SQLite" if name == "sqlite" else "PostgreSQL"
    print(
        f"  {label}: demo data in {seed_s:.1f} s; {len(acked)} writes in all, "
        f"{acked_before_backup} acknowledged before the backup began, {cut} in the backup; "
        f"backup command {t_backup1 - t_backup0:.2f} s; restore {restore_s:.2f} s + boot to "
        f"/healthz {boot_s:.2f} s",
        flush=True,
    )
    for line in backup_out.splitlines()[:1] + restore_out.splitlines()[-3:]:
        print(f"    {line}", flush=True)
    if diff:
        print(f"  first difference: {diff}", flush=True)
    if not (point_in_time and holds_acked and no_future and live_complete):
        print(
            f"  cut check: point-in-time {point_in_time}, holds acknowledged {holds_acked}, "
            f"nothing from after {no_future}, live complete {live_complete}",
            flush=True,
        )
    print(
        f"S10 ({label}): backup mid-writes {size / 1024:,.0f} KB (sha256 {sha[:12]}…), "
        f"exports of {users} users {'equal' if not diff else 'DIFFER'} before/after, "
        f"integrity {restored['integrity']}; RPO {rpo_writes} writes / {rpo_s:.2f} s after the "
        f"backup point; RTO {rto:.1f} s (restore {restore_s:.1f} s + /healthz {boot_s:.1f} s) "
        f"(bar: {BAR}) {'PASS' if ok else 'FAIL'}",
        flush=True,
    )
    return ok


def base_env(tmp: Path, var: str, keys: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TRELLIS_", "DATABASE_URL", "REDIS_URL", "DJANGO_"))
        and k != "PYTHONDONTWRITEBYTECODE"
    }
    env.update(
        TRELLIS_VAR_DIR=str(tmp / var),
        TRELLIS_ENV="local",
        TRELLIS_LOG_LEVEL="WARNING",
        # The keys travel separately from the backup, as docs/operations.md asks.
        TRELLIS_FIELD_KEYS=keys,
        PYTHONUNBUFFERED="1",
        PYTHONPYCACHEPREFIX=str(tmp / "pycache"),
    )
    return env


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--before", type=float, default=1.5, help="seconds of writes before")
    parser.add_argument("--after", type=float, default=1.0, help="seconds of writes after")
    parser.add_argument("--keep-files", action="store_true")
    args = parser.parse_args()
    # A runner's SIGTERM ends the drill through its `finally` blocks: servers stopped, drill
    # databases dropped, temporary files removed.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(143))
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    keys = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    all_ok = True
    tmp = Path(tempfile.mkdtemp(prefix="trellis-s10-"))
    try:
        if "sqlite" in backends:
            live = base_env(tmp, "live", keys)
            live["TRELLIS_SQLITE_PATH"] = str(tmp / "live" / "trellis.sqlite3")
            fresh = base_env(tmp, "restored", keys)
            fresh["TRELLIS_SQLITE_PATH"] = str(tmp / "restored" / "trellis.sqlite3")
            (tmp / "restored").mkdir()
            all_ok &= drill("sqlite", live, fresh, tmp, args)
        if "postgresql" in backends:
            if not pg_available():
                print(
                    f"S10 (PostgreSQL): not run, no server at {PG_HOST}:{PG_PORT} (bar: {BAR}) FAIL"
                )
                all_ok = False
            else:
                for db in (PG_LIVE, PG_RESTORED):
                    pg_admin(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
                    pg_admin(f"CREATE DATABASE {db}")
                try:
                    url = f"postgres://{PG_USER}@{PG_HOST}:{PG_PORT}/"
                    live = base_env(tmp, "pg-live", keys)
                    live["DATABASE_URL"] = url + PG_LIVE
                    fresh = base_env(tmp, "pg-restored", keys)
                    fresh["DATABASE_URL"] = url + PG_RESTORED
                    all_ok &= drill("postgresql", live, fresh, tmp, args)
                finally:
                    for db in (PG_LIVE, PG_RESTORED):
                        pg_admin(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
    finally:
        if args.keep_files or not all_ok:
            print(f"  files kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0 if all_ok else 1


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_seed":
        inner_seed()
    elif len(sys.argv) > 2 and sys.argv[1] == "_writer":
        inner_writer(sys.argv[2])
    elif len(sys.argv) > 2 and sys.argv[1] == "_export":
        inner_export(sys.argv[2])
    else:
        sys.exit(main())
