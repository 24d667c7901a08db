"""Run every benchmark script, one child process each with a time limit, carrying on after a
failure, and write bench/results/latest.md: a header (date, machine, Python and database
versions, git revision) and one line per quality bar, `P4 (sqlite): <figures> (bar: <bar>)
PASS|FAIL`, collected from each script's output. A script that is missing, crashes or runs out
of time still gets a FAIL line per bar it owns. Each script's full output goes to
bench/results/logs/<script>.log (not committed).

    uv run python bench/run_all.py            # the full run (`make bench`)
    uv run python bench/run_all.py --quick    # small sizes and short phases, for development
    uv run python bench/run_all.py --only p2,p6
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common

BENCH = common.ROOT / "bench"
RESULTS = BENCH / "results"
LINE = re.compile(r"^(P|S)\d+[a-z]?( \(\w+\))?: ")


@dataclass
class Script:
    key: str
    file: str
    bars: list[str]
    timeout: int
    args: list[str] = field(default_factory=list)
    quick: list[str] = field(default_factory=list)
    # Drills that time nothing against a bar of speed (S9, S10) run side by side, after every
    # timed script has finished alone: they only share the machine with each other.
    together: bool = False


SCRIPTS = [
    Script(
        "p2",
        "p2_pages.py",
        ["P2 (sqlite)", "P2 (postgres)"],
        420,
        # 15 interleaved samples per page and per trivial page: a median of 15 is steady
        # enough for a 3× bar, and keeps `make bench` under ten minutes.
        ["--samples", "15"],
        ["--days", "60", "--samples", "5"],
    ),
    Script(
        "p3",
        "p3_caseload.py",
        ["P3"],
        300,
        ["--samples", "11"],
        ["--couples", "30", "--days", "60", "--samples", "5"],
    ),
    Script(
        "p4",
        "p4_load.py",
        ["P4 (sqlite)", "P4 (postgres)"],
        420,
        [],
        ["--duration", "10", "--trivial-duration", "8", "--capacity", "4", "--days", "60"],
    ),
    Script("p6", "p6_warnings.py", ["P6"], 300, [], ["--sizes", "50,100,200", "--days", "60"]),
    Script("p7", "p7_browser.py", ["P7"], 420, [], ["--pages", "2"]),
    # The cold-cache figure (`p8_fresh_clone.py` without --warm-only) adds a minute; run it by
    # hand when the dependencies change.
    Script("p8", "p8_fresh_clone.py", ["P8"], 420, ["--warm-only"], ["--warm-only"]),
    Script(
        "s9",
        "s9_kill.py",
        ["S9 (SQLite)"],
        420,
        ["--backends", "sqlite"],
        ["--backends", "sqlite"],
        together=True,
    ),
    Script(
        "s9pg",
        "s9_kill.py",
        ["S9 (PostgreSQL)"],
        420,
        ["--backends", "postgresql"],
        ["--backends", "postgresql"],
        together=True,
    ),
    Script("s10", "s10_backup.py", ["S10"], 420, together=True),
]


def machine() -> dict[str, str]:
    cpu = ""
    try:
        for row in Path("/proc/cpuinfo").read_text().splitlines():
            if row.startswith("model name"):
                cpu = row.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kb / 1024 / 1024:.1f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    import sqlite3

    pg = "not reachable"
    if common.pg_available():
        try:
            import psycopg

            with psycopg.connect(
                host=common.PG_HOST, port=common.PG_PORT, user=common.PG_USER, dbname="postgres"
            ) as conn:
                pg = "PostgreSQL " + conn.execute("show server_version").fetchone()[0].split()[0]
        except Exception as exc:
            pg = f"unavailable ({type(exc).__name__})"
    return {
        "cores": str(os.cpu_count()),
        "cpu": cpu or platform.processor(),
        "memory": mem,
        "python": platform.python_version(),
        "sqlite": f"SQLite {sqlite3.sqlite_version}",
        "postgres": pg,
        "os": platform.platform(),
        "load": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def run_script(script: Script, quick: bool, logs: Path) -> tuple[list[str], float, str]:
    path = BENCH / script.file
    if not path.exists():
        return (
            [f"{bar}: not run (bench/{script.file} missing) FAIL" for bar in script.bars],
            0.0,
            "missing",
        )
    cmd = [sys.executable, str(path), *(script.quick if quick else script.args)]
    log = logs / f"{script.key}.log"
    t0 = time.perf_counter()
    print(f"== {script.file} {' '.join(cmd[2:])}", flush=True)
    status = "ok"
    with open(log, "w") as fh:
        proc = subprocess.Popen(
            cmd,
            cwd=common.ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        found: list[str] = []
        deadline = time.monotonic() + script.timeout
        assert proc.stdout is not None
        import selectors

        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ)
        while True:
            if time.monotonic() > deadline:
                status = f"timed out after {script.timeout}s"
                os.killpg(proc.pid, 15)
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, 9)
                    proc.wait()
                break
            if not sel.select(timeout=1):
                if proc.poll() is not None:
                    break
                continue
            row = proc.stdout.readline()
            if not row:
                proc.wait()
                break
            fh.write(row)
            fh.flush()
            if LINE.match(row):
                found.append(row.rstrip("\n"))
                print("   " + row.rstrip("\n"), flush=True)
        sel.close()
    elapsed = time.perf_counter() - t0
    if status == "ok" and proc.returncode not in (0, 1):
        status = f"exited {proc.returncode}"
    got = {m.group(0)[:-2] for m in (LINE.match(x) for x in found) if m}
    for bar in script.bars:
        if bar not in got and not any(g.split(" (")[0] == bar for g in got):
            found.append(
                f"{bar}: not run ({script.file} {status}; see bench/results/logs/{script.key}.log) FAIL"
            )
    return found, elapsed, status


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, short phases")
    ap.add_argument(
        "--only", default="", help="comma-separated keys: p2,p3,p4,p6,p7,p8,s9,s9pg,s10"
    )
    ap.add_argument("--output", default=str(RESULTS / "latest.md"))
    ap.add_argument(
        "--strict", action="store_true", help="exit 1 when any bar fails (default: only on errors)"
    )
    args = ap.parse_args()
    keys = {k.strip() for k in args.only.split(",") if k.strip()}
    scripts = [s for s in SCRIPTS if not keys or s.key in keys]
    logs = RESULTS / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    started = dt.datetime.now(dt.UTC)
    info = machine()
    sha = common.git_sha()
    t0 = time.perf_counter()
    lines: list[str] = []
    timings: list[tuple[str, float, str]] = []
    for script in [s for s in scripts if not s.together]:
        found, elapsed, status = run_script(script, args.quick, logs)
        lines += found
        timings.append((script.file, elapsed, status))
    drills = [s for s in scripts if s.together]
    if drills:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(len(drills)) as pool:
            done = list(pool.map(lambda s: run_script(s, args.quick, logs), drills))
        for script, (found, elapsed, status) in zip(drills, done, strict=True):
            lines += found
            label = f"{script.file} {' '.join(script.quick if args.quick else script.args)}"
            timings.append((f"{label.strip()} (side by side)", elapsed, status))
    total = time.perf_counter() - t0
    passed = sum(1 for x in lines if x.endswith(" PASS"))
    out = [
        "# Trellis benchmark results",
        "",
        f"- date: {started:%Y-%m-%d %H:%M} UTC ({'quick mode' if args.quick else 'full run'},"
        f" {total / 60:.1f} min)",
        f"- git: {sha}",
        f"- machine: {info['cores']} cores ({info['cpu']}), {info['memory']}, {info['os']}; "
        f"load average at start {info['load']} (shared machine: figures are ratios measured "
        "side by side)",
        f"- Python {info['python']}, {info['sqlite']}, {info['postgres']}",
        "- bars: /work/shared/QUALITY.md (P2–P8, S9, S10); how each is measured: bench/README.md",
        "",
        f"{passed} of {len(lines)} bars pass.",
        "",
        "```text",
        *lines,
        "```",
        "",
        "| script | seconds | status |",
        "|---|---:|---|",
        *[f"| {name} | {secs:.0f} | {status} |" for name, secs, status in timings],
        "",
    ]
    Path(args.output).write_text("\n".join(out))
    print("\n".join(out))
    crashed = any(status not in ("ok", "missing") for _, _, status in timings)
    if args.strict:
        return 0 if passed == len(lines) else 1
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())
