"""P7: every page ≤ 100 KB transferred compressed (HTML + CSS + JS), 0 third-party requests,
Lighthouse mobile performance ≥ 95 (accessibility reported beside it).

The production server (gunicorn, as `./run serve`, DEBUG off, WhiteNoise serving the collected,
compressed static files) runs on a free loopback port over a fresh SQLite file with the demo
data; the key pages are opened as Alex (signed in through a session cookie) in Debian's headless
Chromium driven by Playwright (never `playwright install`), with a cold cache: the encoded
(on-the-wire) body sizes of the document, style sheets and scripts are added up, every request
to another origin is counted. Then Lighthouse (npm `lighthouse`, installed into bench/.tools by
`make bench-tools`, run with the same Chromium and flags; the session cookie passed as an extra
header) scores each page with its default mobile emulation and simulated throttling.

    uv run python bench/p7_browser.py --pages 2 --no-lighthouse   # quick
    uv run python bench/p7_browser.py
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
KB_BAR, PERF_BAR = 100, 95
LIGHTHOUSE = common.ROOT / "bench" / ".tools" / "node_modules" / "lighthouse" / "cli" / "index.js"
COUNTED = {"document", "stylesheet", "script"}


def key_pages(alex) -> list[tuple[str, str, bool]]:
    """(name, path, signed in) of the key pages; a page whose URL does not exist is left out."""
    from django.urls import NoReverseMatch, reverse

    from trellis.agreements.models import Agreement
    from trellis.couples.models import Membership

    couple = Membership.objects.filter(user=alex, left_at__isnull=True).first().couple_id
    agreement = Agreement.objects.filter(couple_id=couple).first()
    wanted = [
        ("sign-in", "account_login", {}, False),
        ("home", "core:home", {}, True),
        ("journal", "journal:list", {}, True),
        ("check-in", "checkins:today", {}, True),
        ("dashboard", "dashboard:home", {}, True),
        ("agreement", "agreements:detail", {"pk": agreement.pk} if agreement else {}, True),
        ("recovery", "recovery:home", {}, True),
        ("homework", "clinic:my_homework", {}, True),
    ]
    out = []
    for name, url_name, kwargs, signed_in in wanted:
        try:
            out.append((name, reverse(url_name, kwargs=kwargs or None), signed_in))
        except NoReverseMatch:
            common.note(f"  {name}: no URL {url_name} here, left out")
    return out


def measure_transfer(base: str, pages, cookie: tuple[str, str]) -> dict[str, dict]:
    from playwright.sync_api import sync_playwright

    results: dict[str, dict] = {}
    host = urlparse(base).netloc
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS[1:], headless=True)
        try:
            for name, path, signed_in in pages:
                # A fresh context per page: cold cache, as a first visit.
                context = browser.new_context(viewport={"width": 390, "height": 844})
                if signed_in:
                    context.add_cookies([{"name": cookie[0], "value": cookie[1], "url": base}])
                page = context.new_page()
                seen: list = []
                page.on("requestfinished", lambda req, seen=seen: seen.append(req))
                third: list[str] = []
                page.on(
                    "request",
                    lambda req, third=third: (
                        third.append(req.url)
                        if not req.url.startswith(("data:", "blob:"))
                        and urlparse(req.url).netloc != host
                        else None
                    ),
                )
                response = page.goto(base + path, wait_until="networkidle")
                status = response.status if response else 0
                final = page.url
                counted, total, by_type = 0, 0, {}
                encodings = set()
                for req in seen:
                    sizes = req.sizes()
                    body = sizes["responseBodySize"] + sizes["responseHeadersSize"]
                    total += body
                    kind = req.resource_type
                    by_type[kind] = by_type.get(kind, 0) + body
                    if kind in COUNTED:
                        counted += body
                        resp = req.response()
                        if resp is not None:
                            encodings.add(f"{kind}:{resp.headers.get('content-encoding', 'none')}")
                results[name] = {
                    "path": path,
                    "status": status,
                    "final": urlparse(final).path,
                    "kb": counted / 1024,
                    "all_kb": total / 1024,
                    "requests": len(seen),
                    "third_party": third,
                    "by_type": {k: round(v / 1024, 1) for k, v in by_type.items()},
                    "encodings": sorted(encodings),
                }
                context.close()
        finally:
            browser.close()
    return results


def lighthouse(url: str, cookie: tuple[str, str] | None, out_dir: Path) -> dict[str, float]:
    out = out_dir / "lh.json"
    cmd = [
        "node",
        str(LIGHTHOUSE),
        url,
        "--quiet",
        "--output=json",
        f"--output-path={out}",
        "--only-categories=performance,accessibility",
        f"--chrome-flags={' '.join(FLAGS)} --user-data-dir={out_dir / 'profile'}",
        "--max-wait-for-load=30000",
    ]
    if cookie:
        cmd.append(f"--extra-headers={json.dumps({'Cookie': f'{cookie[0]}={cookie[1]}'})}")
    env = {**os.environ, "CHROME_PATH": CHROMIUM}
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=180, check=False)
    if done.returncode != 0 or not out.exists():
        raise RuntimeError(f"lighthouse failed: {done.stderr[-800:]}")
    report = json.loads(out.read_text())
    cats = report["categories"]
    audits = report["audits"]
    metrics = {
        key: round(audits.get(audit, {}).get("numericValue", 0), 2 if key == "cls" else None)
        for key, audit in (
            ("fcp", "first-contentful-paint"),
            ("lcp", "largest-contentful-paint"),
            ("tbt", "total-blocking-time"),
            ("cls", "cumulative-layout-shift"),
            ("si", "speed-index"),
        )
    }
    weak = [
        a["id"]
        for a in audits.values()
        if a.get("scoreDisplayMode") in ("numeric", "binary", "metricSavings")
        and a.get("score") is not None
        and a["score"] < 0.9
        and a["id"] in {r["id"] for r in cats["performance"]["auditRefs"]}
    ]
    return {
        "performance": round((cats["performance"]["score"] or 0) * 100),
        "accessibility": round((cats["accessibility"]["score"] or 0) * 100),
        "metrics_ms": metrics,
        "weak": weak[:6],
        "final": report.get("finalDisplayedUrl") or report.get("finalUrl", ""),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=0, help="only the first N key pages")
    ap.add_argument("--only", default="", help="comma-separated page names (e.g. dashboard)")
    ap.add_argument("--no-lighthouse", action="store_true")
    args = ap.parse_args()
    with common.django_on("sqlite", "p7") as db:
        from django.conf import settings
        from django.db import connections
        from django.test import Client

        from trellis.demo.seed import seed_demo

        people = seed_demo()
        client = Client()
        client.force_login(people.alex)
        cookie = (settings.SESSION_COOKIE_NAME, client.cookies[settings.SESSION_COOKIE_NAME].value)
        pages = key_pages(people.alex)
        if args.only:
            pages = [p for p in pages if p[0] in args.only.split(",")]
        if args.pages:
            pages = pages[: args.pages]
        connections.close_all()
        server = common.gunicorn(db.env, db.var_dir / "gunicorn.log")
        try:
            t0 = time.perf_counter()
            transfer = measure_transfer(server.base, pages, cookie)
            common.note(f"  browser pass: {time.perf_counter() - t0:.0f}s")
            scores: dict[str, dict] = {}
            lh_ok = LIGHTHOUSE.exists() and not args.no_lighthouse
            if not LIGHTHOUSE.exists() and not args.no_lighthouse:
                common.note(f"  Lighthouse missing at {LIGHTHOUSE}: run `make bench-tools`")
            if lh_ok:
                for name, path, signed_in in pages:
                    with tempfile.TemporaryDirectory(prefix="trellis-lh-") as tmp:
                        t0 = time.perf_counter()
                        try:
                            scores[name] = lighthouse(
                                server.base + path, cookie if signed_in else None, Path(tmp)
                            )
                        except Exception as exc:
                            common.note(f"  lighthouse {name}: {exc}")
                            scores[name] = {}
                        common.note(
                            f"  lighthouse {name}: {scores[name]} ({time.perf_counter() - t0:.0f}s)"
                        )
        finally:
            server.stop()

    problems = []
    common.note(f"  {'page':10s} {'status':>6} {'KB':>7} {'all KB':>7} {'req':>4} 3rd  perf a11y")
    for name, r in transfer.items():
        s = scores.get(name, {})
        common.note(
            f"  {name:10s} {r['status']:>6} {r['kb']:7.1f} {r['all_kb']:7.1f} {r['requests']:>4} "
            f"{len(r['third_party']):>3}  {s.get('performance', '-'):>4} "
            f"{s.get('accessibility', '-'):>4}  {r['path']} {r['by_type']}"
        )
        if r["status"] != 200 or r["final"] != r["path"]:
            problems.append(f"{name} answered {r['status']} at {r['final']}")
        if r["kb"] > KB_BAR:
            problems.append(f"{name} {r['kb']:.0f} KB")
        if r["third_party"]:
            problems.append(f"{name} third-party {r['third_party'][:2]}")
        if lh_ok and s.get("performance", 0) < PERF_BAR:
            problems.append(f"{name} performance {s.get('performance', 'n/a')}")
    if problems:
        common.note("  short of the bar: " + "; ".join(problems))
    worst_kb = max(transfer.items(), key=lambda kv: kv[1]["kb"])
    third = sum(len(r["third_party"]) for r in transfer.values())
    figures = (
        f"{len(transfer)} key pages ({', '.join(transfer)}), cold cache: largest "
        f"{worst_kb[0]} {worst_kb[1]['kb']:.1f} KB compressed HTML+CSS+JS, {third} third-party "
        "requests"
    )
    if lh_ok:
        perfs = [s.get("performance", 0) for s in scores.values()]
        a11y = [s.get("accessibility", 0) for s in scores.values()]
        worst_perf = min(scores.items(), key=lambda kv: kv[1].get("performance", 0))
        figures += (
            f"; Lighthouse mobile performance min {min(perfs)} ({worst_perf[0]}), "
            f"median {sorted(perfs)[len(perfs) // 2]}; accessibility min {min(a11y)}"
        )
    else:
        figures += "; Lighthouse not run"
        problems.append("Lighthouse not run")
    ok = not problems
    common.line(
        "P7", figures, f"≤ {KB_BAR} KB per page, 0 third-party, performance ≥ {PERF_BAR}", ok
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
