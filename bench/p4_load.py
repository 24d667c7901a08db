"""P4: the production server (gunicorn, workers = cores, as `./run serve` starts it) under 50
concurrent users for 60 s — 70 % page and API reads, 30 % check-in and journal writes — gives
0 errors, 0 "database is locked", p99 ≤ 250 ms, and a throughput ≥ 50 % of the trivial page's
throughput measured in the same run. SQLite and PostgreSQL.

Setup: a fresh database with the demo data plus 25 bench couples (50 partners, each an account
of their own) with D days of journal entries and check-ins; each partner gets a signed-in
session (cookie) and a personal API token. Then gunicorn starts on a free loopback port and three
phases run against it, one after the other, in the same run:

- Load (`--duration`, 60 s): 50 user threads, one per partner, loop: pick a request (70 % reads:
  the partner's pages — home, journal, check-in, check-in history, dashboard, recovery,
  meetings — and API lists; 30 % writes through the API with the bearer token: PUT
  /api/checkins/checkins/today, idempotent, and POST /api/journal/entries with an
  Idempotency-Key), send it, record status and latency, then think for a random 0–2×`--think`
  seconds (default 0–4 s: a brisk person, who reads a page for a moment before the next tap).
  Errors, "database is locked" and p50/p95/p99 come from this phase.
- Trivial (`--trivial-duration`, 20 s): the same 50 users, same think time, on the trivial
  page (/trivial, signed in): the throughput yardstick. Throughput in both is counted after
  the first 2×`--think` seconds, when every user has arrived.
- Capacity (`--capacity`, 8 s each, for information): the same users with no think time at
  all, on the mix and then on the trivial page: what the server can serve flat out.

Errors: any status other than 200/201 or a failed connection. "database is locked": counted in
the server log and in 5xx bodies (the log names exceptions by type only, so OperationalError
lines are reported too).

    uv run python bench/p4_load.py --db sqlite --duration 10 --trivial-duration 8 --capacity 4
    uv run python bench/p4_load.py                                                  # both, 60 s
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common

USERS = 50
P99_BAR_MS = 250.0
THROUGHPUT_BAR = 0.5
READ_SHARE = 0.7
PAGES = [
    "/home/",
    "/journal/",
    "/checkins/",
    "/checkins/history/",
    "/dashboard/",
    "/recovery/",
    "/meetings/",
]
API_READS = ["/api/journal/entries", "/api/checkins/checkins"]


@dataclass
class Person:
    email: str
    cookie: str
    token: str
    recovering: bool


@dataclass
class Stats:
    latencies: list[float] = field(default_factory=list)
    by_kind: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    locked_bodies: int = 0
    count: int = 0
    finished: list[float] = field(default_factory=list)  # time.monotonic() of each answer
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, seconds: float, status: int, body: bytes) -> None:
        with self.lock:
            self.count += 1
            self.finished.append(time.monotonic())
            self.latencies.append(seconds)
            self.by_kind.setdefault(kind, []).append(seconds)
            if status not in (200, 201):
                self.errors.append(f"{kind} {status}")
                if b"database is locked" in body:
                    self.locked_bodies += 1

    def fail(self, kind: str, exc: BaseException) -> None:
        with self.lock:
            self.count += 1
            self.errors.append(f"{kind} {type(exc).__name__}")


def request(
    port: int, method: str, path: str, headers: dict[str, str], body: bytes | None
) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def pick(
    rng: random.Random, person: Person, cookie_name: str
) -> tuple[str, str, str, dict, bytes | None]:
    """(kind, method, path, headers, body) of the next request of this person."""
    page_headers = {"Cookie": f"{cookie_name}={person.cookie}", "User-Agent": "trellis-bench"}
    api_headers = {"Authorization": f"Bearer {person.token}", "User-Agent": "trellis-bench"}
    if rng.random() < READ_SHARE:
        if rng.random() < 0.75:
            path = rng.choice(PAGES)
            return f"GET {path}", "GET", path, page_headers, None
        path = rng.choice(API_READS)
        return f"GET {path}", "GET", path, api_headers, None
    headers = {**api_headers, "Content-Type": "application/json"}
    if rng.random() < 0.5:
        data = {k: rng.randint(1, 5) for k in ("mood", "stress", "sleep", "closeness", "safety")}
        data["audience"] = "partner"
        if person.recovering:
            data["craving"] = rng.randint(0, 6)
            data["recovery"] = "kept"
        return (
            "PUT checkin",
            "PUT",
            "/api/checkins/checkins/today",
            headers,
            json.dumps(data).encode(),
        )
    headers["Idempotency-Key"] = uuid.uuid4().hex
    data = {"body": f"A bench entry, {rng.randint(1, 10**6)}.", "audience": "partner"}
    return "POST journal", "POST", "/api/journal/entries", headers, json.dumps(data).encode()


def phase(
    port: int,
    people: list[Person],
    seconds: float,
    think: float,
    cookie_name: str,
    trivial: bool,
    seed: int,
) -> tuple[Stats, float, float]:
    """Stats, and the phase's start and end (time.monotonic())."""
    stats = Stats()
    stop = time.monotonic() + seconds
    start_gate = threading.Barrier(len(people) + 1)

    def user(i: int, person: Person) -> None:
        rng = random.Random(seed * 1000 + i)
        start_gate.wait()
        # Users arrive spread over the first think period, not all in the same millisecond.
        time.sleep(rng.uniform(0, 2 * think) if think else 0)
        while time.monotonic() < stop:
            if trivial:
                kind, method, path, headers, body = (
                    "GET /trivial",
                    "GET",
                    "/trivial",
                    {"Cookie": f"{cookie_name}={person.cookie}", "User-Agent": "trellis-bench"},
                    None,
                )
            else:
                kind, method, path, headers, body = pick(rng, person, cookie_name)
            t0 = time.perf_counter()
            try:
                status, data = request(port, method, path, headers, body)
            except Exception as exc:
                stats.fail(kind, exc)
            else:
                stats.add(kind, time.perf_counter() - t0, status, data)
            if think:
                time.sleep(rng.uniform(0, 2 * think))

    threads = [
        threading.Thread(target=user, args=(i, p), daemon=True) for i, p in enumerate(people)
    ]
    for t in threads:
        t.start()
    start_gate.wait()
    t0 = time.monotonic()
    for t in threads:
        t.join(timeout=seconds + 60)
    # The phase ends when no new request may start; users still thinking then add nothing.
    return stats, t0, stop


def setup(days: int, couples: int) -> tuple[list[Person], str]:
    """Seed the demo and the bench couples; a session and a token per partner."""
    import seeding
    from django.conf import settings
    from django.test import Client

    from trellis.accounts.services import api_token_create
    from trellis.demo.seed import seed_demo

    seed_demo()
    made = seeding.couples(couples, prefix="p4-", days=days)
    people = []
    for c in made:
        for user, recovering in ((c.a, True), (c.b, False)):
            client = Client()
            client.force_login(user)
            _, raw = api_token_create(user=user, name="bench")
            people.append(
                Person(
                    user.email,
                    client.cookies[settings.SESSION_COOKIE_NAME].value,
                    raw,
                    recovering,
                )
            )
    # Every page of the mix must answer 200 for these partners (through the test client).
    probe = Client()
    probe.cookies[settings.SESSION_COOKIE_NAME] = people[0].cookie
    for path in PAGES:
        status = probe.get(path).status_code
        if status != 200:
            raise SystemExit(f"{path} answers {status} for a bench partner; fix the page list")
    return people, settings.SESSION_COOKIE_NAME


def summarize(stats: Stats, begin: float, end: float, warm: float = 0.0) -> dict[str, float]:
    """Latency percentiles over the whole phase; throughput over the phase after its first
    `warm` seconds (users arrive spread over their first think period, so the first seconds
    carry fewer requests than the rest)."""
    lat = stats.latencies
    window = max(end - begin - warm, 1e-9)
    served = sum(1 for t in stats.finished if begin + warm <= t <= end)
    return {
        "n": stats.count,
        "rps": served / window,
        "p50": common.percentile(lat, 50) * 1000,
        "p95": common.percentile(lat, 95) * 1000,
        "p99": common.percentile(lat, 99) * 1000,
        "errors": len(stats.errors),
    }


def run(engine: str, args: argparse.Namespace) -> bool:
    tag = f"P4 ({engine})"
    with common.django_on(engine, "p4" if engine == "sqlite" else "p4_pg") as db:
        from django.db import connections

        t0 = time.perf_counter()
        people, cookie_name = setup(args.days, USERS // 2)
        version = common.db_version()
        connections.close_all()
        common.note(
            f"[{db.label}] seeded and signed in {len(people)} partners in {time.perf_counter() - t0:.0f}s"
        )
        log = db.var_dir / "gunicorn.log"
        workers = os.cpu_count() or 1
        server = common.gunicorn(db.env, log, workers=workers)
        try:
            # Warm every worker (imports, templates, connections).
            phase(server.port, people, 3, 0, cookie_name, False, 0)
            mix = phase(server.port, people, args.duration, args.think, cookie_name, False, 1)
            triv = phase(
                server.port, people, args.trivial_duration, args.think, cookie_name, True, 2
            )
            cap_mix = phase(server.port, people, args.capacity, 0, cookie_name, False, 3)
            cap_triv = phase(server.port, people, args.capacity, 0, cookie_name, True, 4)
        finally:
            server.stop()
        text = log.read_text(errors="replace")
        locked_log = text.count("database is locked")
        operational = text.count("OperationalError")
        warm = 2 * args.think
        m, t = summarize(*mix, warm), summarize(*triv, warm)
        cm, ct = summarize(*cap_mix), summarize(*cap_triv)
        phases = (mix[0], triv[0], cap_mix[0], cap_triv[0])
        locked = locked_log + sum(p.locked_bodies for p in phases)
        errors = sum(len(p.errors) for p in phases)
        common.note(f"[{db.label}] per request kind (load phase): n, p50, p99 ms")
        for kind, lat in sorted(mix[0].by_kind.items()):
            common.note(
                f"  {kind:28s} {len(lat):6d} {common.percentile(lat, 50) * 1000:7.1f} "
                f"{common.percentile(lat, 99) * 1000:7.1f}"
            )
        every = [e for p in phases for e in p.errors]
        if every:
            counts: dict[str, int] = {}
            for e in every:
                counts[e] = counts.get(e, 0) + 1
            common.note("  errors: " + ", ".join(f"{k} ×{v}" for k, v in sorted(counts.items())))
        ratio = m["rps"] / t["rps"] if t["rps"] else 0.0
        cap = cm["rps"] / ct["rps"] if ct["rps"] else 0.0
        figures = (
            f"{version}, gunicorn {workers} workers, {USERS} users, think 0–{2 * args.think:g}s; "
            f"mix {args.duration:g}s: {m['n']} requests, {m['rps']:.1f} req/s, p50 "
            f"{m['p50']:.0f} ms, p95 {m['p95']:.0f} ms, p99 {m['p99']:.0f} ms; errors {errors}, "
            f"locked {locked} (OperationalError in log {operational}); trivial "
            f"{args.trivial_duration:g}s, same users: {t['rps']:.1f} req/s (p99 {t['p99']:.0f} "
            f"ms) → throughput {ratio:.0%} of trivial; for information, capacity with no think "
            f"time ({args.capacity:g}s each): mix {cm['rps']:.0f} req/s (p99 {cm['p99']:.0f} ms)"
            f" vs trivial {ct['rps']:.0f} req/s = {cap:.0%}"
        )
        ok = errors == 0 and locked == 0 and m["p99"] <= P99_BAR_MS and ratio >= THROUGHPUT_BAR
        common.line(
            tag,
            figures,
            f"0 errors, 0 locked, p99 ≤ {P99_BAR_MS:g} ms, ≥ {THROUGHPUT_BAR:.0%} of trivial",
            ok,
        )
        return ok


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    ap.add_argument("--duration", type=float, default=60)
    ap.add_argument("--trivial-duration", type=float, default=20)
    ap.add_argument(
        "--capacity", type=float, default=8, help="seconds of each no-think phase (mix, trivial)"
    )
    ap.add_argument(
        "--think", type=float, default=2.0, help="mean think time between a user's requests (s)"
    )
    ap.add_argument("--days", type=int, default=365)
    args = ap.parse_args()
    if args.db == "both":
        rc = 0
        for engine in ("sqlite", "postgres"):
            argv = [a for a in sys.argv[1:]]
            if "--db" in argv:
                i = argv.index("--db")
                del argv[i : i + 2]
            rc |= subprocess.run([sys.executable, __file__, "--db", engine, *argv]).returncode
        return rc
    if args.db == "postgres" and not common.pg_available():
        common.line("P4 (postgres)", "not run: no PostgreSQL on 127.0.0.1:5432", "", False)
        return 1
    return 0 if run(args.db, args) else 1


if __name__ == "__main__":
    sys.exit(main())
