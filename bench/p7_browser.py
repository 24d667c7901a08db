"""P7: every page ≤ 100 KB transferred compressed (HTML + CSS + JS), 0 third-party requests,
Lighthouse mobile performance ≥ 95 (accessibility reported beside it).

The production server (gunicorn, as `./run serve`, DEBUG off, WhiteNoise serving the collected,
compressed static files) runs on a free loopback port over a fresh SQLite file with the demo
data; the key pages are opened as Alex (signed in through a session cookie) in Debian's headless
Chromium driven by Playwright (never `playwright install`), with a cold cache: the encoded
(on-the-wire) body sizes of the document, style sheets and scripts are added up, every request
to another origin is counted. Then Lighthouse (npm `lighthouse`, installed into bench/.tools by
`make bench-tools`, run with the same Chromium and flags; the session cookie passed as an extra
header) scores each page with its default mobile emulation and simulated throttling: one Node
process drives Lighthouse's Node API against one Chromium, each page in a fresh browser context
(cold cache, as a first visit), one page at a time.

    uv run python bench/p7_browser.py --pages 2 --no-lighthouse   # quick
    uv run python bench/p7_browser.py
    uv run python bench/p7_browser.py --only dashboard --runs 5   # the median of 5 runs
"""

from __future__ import annotations

import argparse
import json
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
LIGHTHOUSE_DIR = common.ROOT / "bench" / ".tools"
LIGHTHOUSE = LIGHTHOUSE_DIR / "node_modules" / "lighthouse" / "cli" / "index.js"
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


# One Chromium and one Node process for every page (Lighthouse's Node API): a CLI run per page
# paid Node's start, Lighthouse's loading and Chromium's launch each time, about 4 s of 12.
# Chromium is launched by chrome-launcher as Lighthouse's own CLI launches it (same default
# flags), and each page opens in a fresh browser context: an empty cache, no storage, no
# cookie but the session header, a renderer of its own, as a first visit with a new profile.
LIGHTHOUSE_RUNNER = r"""
import fs from "node:fs";
import lighthouse from "lighthouse";
import * as chromeLauncher from "chrome-launcher";
import puppeteer from "puppeteer-core";

const job = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
const chrome = await chromeLauncher.launch({
  chromePath: job.chrome,
  chromeFlags: job.flags,
  userDataDir: job.profile,
  logLevel: "error",
});
let browser;
try {
  browser = await puppeteer.connect({
    browserURL: `http://127.0.0.1:${chrome.port}`,
    defaultViewport: null, // Lighthouse emulates the phone itself
  });
  for (const p of job.pages) {
    const started = Date.now();
    let error = "";
    let attempts = 0;
    for (let attempt = 1; attempt <= 2; attempt++) {
      attempts = attempt;
      const context = await browser.createBrowserContext();
      try {
        const page = await context.newPage();
        const flags = { ...job.settings, extraHeaders: p.headers || undefined };
        const result = await lighthouse(p.url, flags, undefined, page);
        if (!result) throw new Error("no result");
        if (result.lhr.runtimeError) throw new Error(result.lhr.runtimeError.message);
        fs.writeFileSync(p.out, JSON.stringify(result.lhr));
        error = "";
        break;
      } catch (err) {
        // A failed run of the tool (not a low score) is tried once more.
        error = String((err && err.stack) || err).slice(0, 800);
      } finally {
        await context.close().catch(() => {});
      }
    }
    const seconds = (Date.now() - started) / 1000;
    console.log(JSON.stringify({ name: p.name, ok: !error, error, seconds, attempts }));
  }
} finally {
  if (browser) await browser.disconnect().catch(() => {});
  chrome.kill();
}
"""


def lighthouse_all(base: str, pages, cookie: tuple[str, str], out_dir: Path) -> dict[str, dict]:
    """Lighthouse's mobile performance and accessibility for each page, one after another (never
    in parallel: on a shared machine that would be measuring the other runs)."""
    jobs = []
    for name, path, signed_in in pages:
        jobs.append(
            {
                "name": name,
                "url": base + path,
                "out": str(out_dir / f"lh-{name}.json"),
                "headers": {"Cookie": f"{cookie[0]}={cookie[1]}"} if signed_in else None,
            }
        )
    job = {
        "chrome": CHROMIUM,
        "flags": FLAGS,
        "profile": tempfile.mkdtemp(prefix="profile-", dir=out_dir),
        "pages": jobs,
        # As the CLI's `--only-categories=performance,accessibility --max-wait-for-load=30000`;
        # the full-page screenshot is only a picture for the HTML report (no score uses it).
        "settings": {
            "onlyCategories": ["performance", "accessibility"],
            "maxWaitForLoad": 30000,
            "disableFullPageScreenshot": True,
            "logLevel": "error",
        },
    }
    job_file = out_dir / "job.json"
    job_file.write_text(json.dumps(job))
    cmd = ["node", "--input-type=module", "-e", LIGHTHOUSE_RUNNER, str(job_file)]
    # Bare imports resolve from bench/.tools/node_modules (where `make bench-tools` put them).
    proc = subprocess.Popen(
        cmd, cwd=LIGHTHOUSE_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    results: dict[str, dict] = {}
    deadline = time.monotonic() + 60 + 150 * len(jobs)
    try:
        assert proc.stdout is not None
        for raw in proc.stdout:
            try:
                done = json.loads(raw)
            except ValueError:
                continue
            name = done.get("name", "")
            if done.get("ok"):
                results[name] = summarise(json.loads((out_dir / f"lh-{name}.json").read_text()))
            else:
                common.note(f"  lighthouse {name}: failed: {done.get('error', '')}")
                results[name] = {}
            again = " after a failed run" if done.get("attempts", 1) > 1 else ""
            common.note(
                f"  lighthouse {name}: {results[name]} ({done.get('seconds', 0):.0f}s{again})"
            )
            if time.monotonic() > deadline:
                break
        proc.wait(timeout=max(1, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        common.note("  lighthouse: out of time")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if proc.returncode not in (0, None) and len(results) < len(jobs):
        err = proc.stderr.read()[-800:] if proc.stderr else ""
        common.note(f"  lighthouse exited {proc.returncode}: {err}")
    return results


def summarise(report: dict) -> dict:
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
        "dom": audits.get("dom-size", {}).get("numericValue"),
        "weak": weak[:6],
        "final": report.get("finalDisplayedUrl") or report.get("finalUrl", ""),
    }


def median_run(results: list[dict]) -> dict:
    """Of several runs of one page, the one with the median performance score (the lower of
    the two middle ones for an even count; a failed run counts lowest), with every run's score
    beside it."""
    if not results:
        return {}
    ranked = sorted(results, key=lambda r: r.get("performance", -1))
    chosen = dict(ranked[(len(ranked) - 1) // 2])
    if len(results) > 1:
        chosen["runs"] = [r.get("performance", "-") for r in results]
    return chosen


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=0, help="only the first N key pages")
    ap.add_argument("--only", default="", help="comma-separated page names (e.g. dashboard)")
    ap.add_argument("--no-lighthouse", action="store_true")
    ap.add_argument(
        "--runs",
        type=int,
        default=1,
        help="Lighthouse runs per page; the run with the median performance score is reported",
    )
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
            runs: dict[str, list[dict]] = {}
            lh_ok = LIGHTHOUSE.exists() and not args.no_lighthouse
            if not LIGHTHOUSE.exists() and not args.no_lighthouse:
                common.note(f"  Lighthouse missing at {LIGHTHOUSE}: run `make bench-tools`")
            if lh_ok:
                with tempfile.TemporaryDirectory(prefix="trellis-lh-") as tmp:
                    t0 = time.perf_counter()
                    for _ in range(args.runs):
                        for name, result in lighthouse_all(
                            server.base, pages, cookie, Path(tmp)
                        ).items():
                            runs.setdefault(name, []).append(result)
                    common.note(f"  lighthouse pass: {time.perf_counter() - t0:.0f}s")
                for name, _path, _signed_in in pages:
                    scores[name] = median_run(runs.get(name, []))
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
            + (f" runs {s['runs']}" if s.get("runs") else "")
        )
        if r["status"] != 200 or r["final"] != r["path"]:
            problems.append(f"{name} answered {r['status']} at {r['final']}")
        if r["kb"] > KB_BAR:
            problems.append(f"{name} {r['kb']:.0f} KB")
        if r["third_party"]:
            problems.append(f"{name} third-party {r['third_party'][:2]}")
        if lh_ok and s.get("performance", 0) < PERF_BAR:
            problems.append(f"{name} performance {s.get('performance', 'n/a')}")
        if lh_ok and s and urlparse(s.get("final", "")).path != r["path"]:
            # Scored elsewhere (a sign-in page, when the session header did not arrive).
            problems.append(f"{name} scored at {s.get('final')}")
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
