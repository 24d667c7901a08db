"""P3: a therapist's caseload with 300 couples at D=365 runs ≤ 15 queries and its median server
time is ≤ 5× the trivial page's, measured side by side in the same run.

300 couples, each partner with D days of journal entries and check-ins (partner A in recovery),
every couple linked to one therapist (TOTP set up) with both partners' consent for journal and
check-ins — inserted in bulk (bench/seeding.py). The caseload page (`clinic:caseload`) is
requested in-process through django.test.Client signed in as the therapist, interleaved with
/trivial (same middleware stack, same therapist). When the page does not exist yet, the
selector `trellis.clinic.selectors.caseload(therapist)` is timed instead, and the line says so.

    uv run python bench/p3_caseload.py --couples 30 --days 30 --samples 5   # quick
    uv run python bench/p3_caseload.py --db postgres
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common

TIME_BAR, QUERY_BAR = 5.0, 15


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--couples", type=int, default=300)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--samples", type=int, default=30)
    ap.add_argument("--profile", action="store_true", help="print where the time goes")
    args = ap.parse_args()
    tag = "P3" if args.db == "sqlite" else "P3 (postgres)"
    if args.db == "postgres" and not common.pg_available():
        common.line(tag, "not run: no PostgreSQL on 127.0.0.1:5432", "", False)
        return 1
    with common.django_on(args.db, "p3" if args.db == "sqlite" else "p3_pg") as db:
        import seeding
        from django.test import Client
        from django.urls import NoReverseMatch, reverse

        from trellis.clinic import selectors

        t0 = time.perf_counter()
        therapist = seeding.therapist()
        seeding.couples(
            args.couples, prefix="p3-", days=args.days, therapist=therapist, progress=True
        )
        common.note(
            f"[{db.label}] seeded {args.couples} couples × {args.days} days "
            f"in {time.perf_counter() - t0:.1f}s"
        )
        client = Client()
        client.force_login(therapist)
        client.get("/trivial")  # settle the session
        try:
            url = reverse("clinic:caseload")
        except NoReverseMatch:
            url = ""
        if url:
            response = client.get(url)
            if response.status_code != 200:
                common.line(tag, f"{url} answered {response.status_code}", "200", False)
                return 1
            rows_shown = response.content.count(b"<tr") or "?"
            what = f"page {url}"

            def measured():
                return client.get(url)
        else:
            what = "selector caseload() only (no clinic:caseload page yet)"
            rows_shown = len(selectors.caseload(therapist))

            def measured():
                return selectors.caseload(therapist)

        with common.count_queries() as nq:
            measured()
        if args.profile:
            common.profile(measured, 3)
        t = common.interleaved(
            {"page": measured, "trivial": lambda: client.get("/trivial")}, args.samples
        )
        page_ms, triv_ms = common.median_ms(t["page"]), common.median_ms(t["trivial"])
        ratio = page_ms / triv_ms
        common.note(f"  caseload rows: {rows_shown}; queries: {nq[0]}")
        figures = (
            f"{what}, {args.couples} couples × D={args.days} on {common.db_version()}, "
            f"N={args.samples} interleaved: median {page_ms:.1f} ms vs trivial {triv_ms:.2f} ms "
            f"= {ratio:.2f}×, {nq[0]} queries"
        )
        ok = ratio <= TIME_BAR and nq[0] <= QUERY_BAR and bool(url)
        common.line(tag, figures, f"≤ {TIME_BAR:g}× trivial, ≤ {QUERY_BAR} queries, the page", ok)
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
