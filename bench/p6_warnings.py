"""P6: the system pass over warning signs, `trellis.clinic.warnings.evaluate_all(today)`, is
set-based SQL, takes ≤ 60 s at the stated size (10 000 couples × 365 days on PostgreSQL, 1 000 on
SQLite) and grows linearly with the number of couples, not quadratically.

Couples with 365 days of daily check-ins (partner A in recovery, so cravings are recorded) are
added in steps — e.g. 250, then up to 500, then up to 1 000 — and `evaluate_all` is timed at
each size (median of a few runs, with its SQL statement count). The growth ratio is
time(largest) / time(smallest) against the size ratio: linear growth gives ≈ the size ratio
(4 for 250 → 1 000), quadratic its square (16). This is the P6 skeleton: the line says which
sizes ran; the full 10 000-couple PostgreSQL size is `--db postgres --sizes 2500,5000,10000`
(minutes of seeding).

    uv run python bench/p6_warnings.py --sizes 50,100,200 --days 60     # quick
    uv run python bench/p6_warnings.py                                  # SQLite 250/500/1000
    uv run python bench/p6_warnings.py --db postgres --sizes 1000,2000,4000
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common

LIMIT_S = 60.0
# Linear would be exactly the size ratio; allow for fixed costs and noise, but far below square.
GROWTH_SLACK = 1.5


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--sizes", default="")
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    default = "250,500,1000" if args.db == "sqlite" else "1000,2000,4000"
    sizes = sorted(int(s) for s in (args.sizes or default).split(","))
    stated = 1000 if args.db == "sqlite" else 10000
    tag = "P6" if args.db == "sqlite" else "P6 (postgres)"
    if args.db == "postgres" and not common.pg_available():
        common.line(tag, "not run: no PostgreSQL on 127.0.0.1:5432", "", False)
        return 1
    with common.django_on(args.db, "p6" if args.db == "sqlite" else "p6_pg") as db:
        import seeding
        from django.db import connection
        from django.utils import timezone

        from trellis.clinic import warnings

        today = timezone.localdate()
        have = 0
        results: list[tuple[int, float, int, int]] = []
        for size in sizes:
            t0 = time.perf_counter()
            seeding.couples(
                size - have, prefix=f"p6-{have}-", days=args.days, journal=False, chunk=50
            )
            have = size
            if connection.vendor == "postgresql":
                with connection.cursor() as cur:
                    cur.execute("ANALYZE")
            seeded = time.perf_counter() - t0
            warnings.evaluate_all(today)  # warm
            times = []
            for _ in range(args.runs):
                with common.count_queries() as nq:
                    t1 = time.perf_counter()
                    signals = warnings.evaluate_all(today)
                    times.append(time.perf_counter() - t1)
            med = statistics.median(times)
            results.append((size, med, nq[0], len(signals)))
            common.note(
                f"[{db.label}] {size} couples × {args.days} days (seeded +{seeded:.0f}s): "
                f"evaluate_all {med * 1000:.0f} ms (median of {args.runs}), {nq[0]} queries, "
                f"{len(signals)} signals"
            )
        small, large = results[0], results[-1]
        size_ratio = large[0] / small[0]
        growth = large[1] / small[1] if small[1] > 0 else float("inf")
        # Time at the stated size, extrapolated linearly from the largest size run.
        projected = large[1] * stated / large[0]
        per_size = ", ".join(f"{n}: {t * 1000:.0f} ms" for n, t, _, _ in results)
        queries = sorted({q for _, _, q, _ in results})
        linear = growth <= size_ratio * GROWTH_SLACK
        figures = (
            f"{common.db_version()}, sizes run {'/'.join(str(s) for s, *_ in results)} couples "
            f"× {args.days} d: {per_size}; growth {growth:.2f}× for {size_ratio:g}× couples "
            f"(linear ≈ {size_ratio:g}, quadratic ≈ {size_ratio**2:g}); "
            f"{'/'.join(map(str, queries))} queries at every size; "
            + (
                f"at the stated {stated} couples: {large[1]:.2f} s"
                if large[0] >= stated
                else f"stated size {stated} not run, linear projection {projected:.1f} s"
            )
        )
        ok = linear and projected <= LIMIT_S and len(queries) == 1
        common.line(
            tag,
            figures,
            f"≤ {LIMIT_S:g} s at {stated} couples, growth ≤ {GROWTH_SLACK:g}× linear, "
            "same query count",
            ok,
        )
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
