"""Shared helpers of the benchmark scripts (QUALITY P2–P8): a throw-away database (a SQLite file
in a temporary directory, or a PostgreSQL database named `trellis_bench_*` on 127.0.0.1), Django
set up against it, side-by-side timing, result lines and a production server on a free loopback
port. Nothing here is imported by the application or the tests."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PG_HOST = os.environ.get("BENCH_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("BENCH_PG_PORT", "5432"))
PG_USER = os.environ.get("BENCH_PG_USER", "postgres")


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def line(bar: str, figures: str, target: str, ok: bool) -> str:
    """One result line, the form bench/run_all.py collects: `P4 (sqlite): … (bar: …) PASS`."""
    text = f"{bar}: {figures} (bar: {target}) {verdict(ok)}"
    print(text, flush=True)
    return text


def note(*parts: Any) -> None:
    print(*parts, flush=True)


# --- databases --------------------------------------------------------------------------------


def pg_available() -> bool:
    with contextlib.suppress(OSError), socket.create_connection((PG_HOST, PG_PORT), timeout=2):
        return True
    return False


def _pg_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(
        host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres", autocommit=True
    ) as conn:
        conn.execute(sql)


def pg_create(name: str) -> str:
    assert name.startswith("trellis_bench_") and name.replace("_", "").isalnum(), name
    _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _pg_admin(f'CREATE DATABASE "{name}"')
    return f"postgres://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"


def pg_drop(name: str) -> None:
    assert name.startswith("trellis_bench_"), name
    with contextlib.suppress(Exception):
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class BenchDB:
    """Environment for one throw-away Trellis instance (set it before Django starts)."""

    engine: str  # "sqlite" | "postgres"
    name: str
    var_dir: Path
    env: dict[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return "SQLite" if self.engine == "sqlite" else "PostgreSQL"

    def cleanup(self) -> None:
        if self.engine == "postgres":
            # Close this process's connections first, or DROP waits for them.
            with contextlib.suppress(Exception):
                from django.db import connections

                connections.close_all()
            pg_drop(self.name)
        shutil.rmtree(self.var_dir, ignore_errors=True)


def bench_db(engine: str, name: str) -> BenchDB:
    var_dir = Path(tempfile.mkdtemp(prefix=f"trellis-{name}-"))
    env = {"TRELLIS_VAR_DIR": str(var_dir), "TRELLIS_ENV": "local", "TRELLIS_DEBUG": "false"}
    env["TRELLIS_LOG_LEVEL"] = "WARNING"
    dbname = f"trellis_bench_{name}"
    if engine == "postgres":
        env["DATABASE_URL"] = pg_create(dbname)
    else:
        env["TRELLIS_SQLITE_PATH"] = str(var_dir / "trellis.sqlite3")
    return BenchDB(engine, dbname, var_dir, env)


@contextlib.contextmanager
def django_on(engine: str, name: str, *, migrate: bool = True) -> Iterator[BenchDB]:
    """Set up Django in this process on a fresh database; drop it afterwards."""
    db = bench_db(engine, name)
    os.environ.update(db.env)
    if engine == "sqlite":
        os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "trellis.settings")
    try:
        import django

        django.setup()
        if migrate:
            from django.core.management import call_command

            call_command("migrate", verbosity=0, interactive=False)
            call_command("createcachetable", verbosity=0)
        ensure_static()
        yield db
    finally:
        db.cleanup()


def ensure_static() -> None:
    """collectstatic (as `./run serve` does) when static/ changed since the last collection:
    production settings serve hashed, compressed files from staticfiles/."""
    import json

    manifest = ROOT / "staticfiles" / "staticfiles.json"
    static = ROOT / "static"
    files = {p.relative_to(static).as_posix(): p for p in static.rglob("*") if p.is_file()}
    if manifest.exists():
        known = json.loads(manifest.read_text()).get("paths", {})
        newest = max((p.stat().st_mtime for p in files.values()), default=0)
        if set(files) <= set(known) and manifest.stat().st_mtime >= newest:
            return
    env = {k: v for k, v in os.environ.items() if k.startswith(("TRELLIS_", "DATABASE_URL"))}
    manage(env, "collectstatic", "--noinput", "-v", "0")


def db_version() -> str:
    from django.db import connection

    with connection.cursor() as cur:
        if connection.vendor == "sqlite":
            cur.execute("select sqlite_version()")
            return f"SQLite {cur.fetchone()[0]}"
        cur.execute("show server_version")
        return f"PostgreSQL {cur.fetchone()[0].split()[0]}"


@contextlib.contextmanager
def count_queries() -> Iterator[list[int]]:
    """Count the SQL statements run inside the block (box[0]); works outside DEBUG too."""
    from django.db import connection

    box = [0]

    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        box[0] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield box


@contextlib.contextmanager
def timed_queries() -> Iterator[list[tuple[float, str]]]:
    """(seconds, SQL) of every statement run inside the block, to find the slow one."""
    from django.db import connection

    out: list[tuple[float, str]] = []

    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            out.append((time.perf_counter() - t0, sql))

    with connection.execute_wrapper(wrapper):
        yield out


def print_slowest(queries: list[tuple[float, str]], n: int = 5, width: int = 600) -> None:
    for seconds, sql in sorted(queries, reverse=True)[:n]:
        note(f"  {seconds * 1000:8.1f} ms  {sql[:width]}")


def profile(fn: Callable[[], Any], times: int = 5, top: int = 30) -> None:
    """cProfile `fn` and print the top functions by cumulative and own time."""
    import cProfile
    import io
    import pstats

    prof = cProfile.Profile()
    prof.enable()
    for _ in range(times):
        fn()
    prof.disable()
    for order in ("cumulative", "tottime"):
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats(order).print_stats(top)
        note(out.getvalue())


# --- timing -----------------------------------------------------------------------------------


def interleaved(
    fns: dict[str, Callable[[], Any]], samples: int, *, warmup: int = 2
) -> dict[str, list[float]]:
    """Time each function `samples` times, round-robin (a, b, c, a, b, c, …), so a noisy
    neighbour slows every candidate alike. Seconds per call."""
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    out: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(samples):
        for key, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            out[key].append(time.perf_counter() - t0)
    return out


def median_ms(xs: list[float]) -> float:
    return statistics.median(xs) * 1000


def percentile(xs: list[float], p: float) -> float:
    if not xs:
        return float("nan")
    s = sorted(xs)
    k = min(len(s) - 1, max(0, round(p / 100 * (len(s) - 1))))
    return s[k]


# --- a production server ----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.2)
    return False


def uv() -> str:
    found = shutil.which("uv") or str(Path.home() / ".local/bin/uv")
    return found


def manage(env: dict[str, str], *args: str, timeout: float = 600) -> str:
    """Run `manage.py` in a child process with the bench instance's environment."""
    full = {**os.environ, **env, "DJANGO_SETTINGS_MODULE": "trellis.settings"}
    if "DATABASE_URL" not in env:
        full.pop("DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=full,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


def gunicorn(env: dict[str, str], log: Path, *, workers: int | None = None) -> Server:
    """gunicorn as `./run serve` starts it (workers = cores), on a free loopback port."""
    port = free_port()
    full = {**os.environ, **env, "DJANGO_SETTINGS_MODULE": "trellis.settings"}
    if "DATABASE_URL" not in env:
        full.pop("DATABASE_URL", None)
    fh = open(log, "wb")  # noqa: SIM115 - the server's whole life
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "trellis.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers or os.cpu_count() or 1),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=full,
        stdout=fh,
        stderr=subprocess.STDOUT,
    )
    server = Server(proc, port, log)
    if not wait_http(server.base + "/healthz", 60):
        server.stop()
        raise RuntimeError(f"gunicorn did not answer; log:\n{log.read_text()[-3000:]}")
    return server


def git_sha() -> str:
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    )
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
