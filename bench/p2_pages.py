"""P2: median server time of every couple page at D=730 ≤ 3× the trivial page, same run, SQLite
and PostgreSQL.

The couple is the P1 query-count world (tests/test_query_counts.py `_build_world`): D days of
journal, both partners' check-ins and trust moments, a weekly meeting every week, an agreement
that changed every week, both partners in recovery with lapses, plans and support messages.
The pages are found the way P1 finds them: every URL pattern of the project that is not an API
operation or a third party's (allauth) page, with its object parameters filled with the couple's
own and partner-shared objects. Each page is requested in-process through django.test.Client,
signed in as a partner, interleaved with the trivial page (/trivial, the same middleware stack):
page, trivial, page, trivial, … N times each; the ratio is page median / trivial median of
those same samples. Pages that do not answer a GET with 200 (POST-only actions, redirects) are
listed and skipped.

    uv run python bench/p2_pages.py --db sqlite --days 60 --samples 5   # quick
    uv run python bench/p2_pages.py                                     # both databases, D=730
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common

BAR = 3.0


def discover(world) -> list[tuple[str, str]]:
    """(label, path) of every GET page a partner uses, from the P1 plan (plain URLs only)."""
    from tests import test_query_counts as qc

    plan = qc._plan(qc._spec(world.client))
    pages: list[tuple[str, str]] = []
    seen: set[str] = set()
    for req in plan.requests:
        try:
            method, path, _ = req.build(world)
        except Exception as exc:  # an object the world lacks: say so, measure the rest
            common.note(f"  skip {req.label}: cannot build ({type(exc).__name__})")
            continue
        if method != "GET" or path.startswith("/api/") or "?" in path or path in seen:
            continue
        if path in ("/trivial", "/healthz"):  # the yardstick itself, a probe
            continue
        seen.add(path)
        pages.append((req.label.replace(" GET", ""), path))
    return pages


def run(engine: str, days: int, samples: int, only: str, profile: str) -> bool:
    name = "p2_pg" if engine == "postgres" else "p2"
    with common.django_on(engine, name) as db:
        from tests import test_query_counts as qc

        t0 = time.perf_counter()
        world = qc._build_world(days, "p2-")
        common.note(f"[{db.label}] seeded a D={days} couple in {time.perf_counter() - t0:.1f}s")
        client = world.client
        pages = [p for p in discover(world) if only in p[0] or only in p[1]]
        ok_pages: list[tuple[str, str]] = []
        for label, path in pages:
            status = client.get(path).status_code
            if status == 200:
                ok_pages.append((label, path))
            else:
                common.note(f"  not a 200 page, skipped: {label} {path} -> {status}")
        rows = []
        for label, path in ok_pages:
            with common.count_queries() as nq:
                client.get(path)
            t = common.interleaved(
                {"page": lambda p=path: client.get(p), "trivial": lambda: client.get("/trivial")},
                samples,
            )
            page_ms, triv_ms = common.median_ms(t["page"]), common.median_ms(t["trivial"])
            rows.append((page_ms / triv_ms, label, path, page_ms, triv_ms, nq[0]))
        rows.sort(reverse=True)
        common.note(f"[{db.label}] {len(rows)} pages, {samples} interleaved samples each:")
        common.note(f"  {'ratio':>6} {'page ms':>8} {'trivial':>8} {'SQL':>4}  page")
        for ratio, label, path, page_ms, triv_ms, nq in rows:
            flag = "  <-- over" if ratio > BAR else ""
            common.note(
                f"  {ratio:6.2f} {page_ms:8.2f} {triv_ms:8.2f} {nq:4d}  {label} {path}{flag}"
            )
        if profile:
            target = next((p for p in ok_pages if profile in p[0] or profile in p[1]), None)
            if target:
                common.note(f"profile of {target[1]}:")
                common.profile(lambda: client.get(target[1]), 10, 40)
        version = common.db_version()
        if not rows:
            common.line(f"P2 ({engine})", "no pages measured", f"each ≤ {BAR:g}× trivial", False)
            return False
        worst = rows[0]
        over = [r for r in rows if r[0] > BAR]
        ratios = sorted(r[0] for r in rows)
        figures = (
            f"{len(rows)} couple pages at D={days} on {version}, N={samples} interleaved; "
            f"worst {worst[1]} {worst[0]:.2f}× ({worst[3]:.1f} ms vs trivial {worst[4]:.1f} ms), "
            f"then {'; '.join(f'{r[1]} {r[0]:.1f}×' for r in rows[1:3])}; median page "
            f"{ratios[len(ratios) // 2]:.2f}×, best {rows[-1][1]} {rows[-1][0]:.2f}×; "
            f"{len(over)} of {len(rows)} over the bar"
        )
        return common.line(
            f"P2 ({engine})", figures, f"each ≤ {BAR:g}× trivial", not over
        ).endswith("PASS")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    ap.add_argument("--days", type=int, default=730)
    ap.add_argument("--samples", type=int, default=30)
    ap.add_argument("--only", default="", help="measure only pages whose label/path has this")
    ap.add_argument("--profile", default="", help="cProfile the first page matching this")
    args = ap.parse_args()
    engines = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    if "postgres" in engines and not common.pg_available():
        common.line("P2 (postgres)", "not run: no PostgreSQL on 127.0.0.1:5432", "", False)
        engines.remove("postgres")
    ok = True
    # One Django per process: the second database runs in a child process.
    if len(engines) == 2:
        import subprocess

        first = subprocess.run(
            [sys.executable, __file__, "--db", "sqlite", *_passthrough(args)], check=False
        )
        second = subprocess.run(
            [sys.executable, __file__, "--db", "postgres", *_passthrough(args)], check=False
        )
        return first.returncode or second.returncode
    for engine in engines:
        ok = run(engine, args.days, args.samples, args.only, args.profile) and ok
    return 0 if ok else 1


def _passthrough(args: argparse.Namespace) -> list[str]:
    out = ["--days", str(args.days), "--samples", str(args.samples)]
    if args.only:
        out += ["--only", args.only]
    if args.profile:
        out += ["--profile", args.profile]
    return out


if __name__ == "__main__":
    sys.exit(main())
