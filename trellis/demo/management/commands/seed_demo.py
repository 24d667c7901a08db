from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from trellis.demo.seed import (
    DEMO_DOMAIN,
    DEMO_PASSWORD,
    DEMO_TOTP_SECRET,
    demo_exists,
    seed_bench,
    seed_demo,
)


class Command(BaseCommand):
    help = "Create the demo couples, therapist and clinic (deterministic); optional bench couples."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=42, help="Days of journal history.")
        parser.add_argument(
            "--bench-couples", type=int, default=0, help="Extra couples for benchmarks."
        )
        parser.add_argument("--bench-days", type=int, default=30)
        parser.add_argument(
            "--if-absent", action="store_true", help="Do nothing if the demo exists."
        )
        parser.add_argument("--quiet-signins", action="store_true")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["days"] < 1 or opts["days"] > 3650:
            self.stderr.write("--days must be between 1 and 3650.")
            raise SystemExit(2)
        if demo_exists():
            if not opts["if_absent"]:
                self.stdout.write("Demo data already exists; leaving it as it is.")
        else:
            self.stdout.write(f"Creating demo data ({opts['days']} days of history)…")
            seed_demo(days=opts["days"])
            self.stdout.write("Demo data created.")
        if opts["bench_couples"]:
            seed_bench(couples=opts["bench_couples"], days=opts["bench_days"])
            self.stdout.write(f"Added {opts['bench_couples']} benchmark couples.")
        if not opts["quiet_signins"]:
            d = DEMO_DOMAIN
            self.stdout.write(
                f"\nDemo sign-ins (password for all: {DEMO_PASSWORD})\n"
                f"  alex@{d}        partner in recovery (shares some journal entries)\n"
                f"  sam@{d}         Alex's partner\n"
                f"  therapist@{d}   Dr. Jordan Lee, therapist; two-factor secret {DEMO_TOTP_SECRET}\n"
                "                 (current code: uv run python manage.py demo_totp)\n"
                f"  admin@{d}       Robin Hale, administrator of Harbour Counselling (same\n"
                "                 two-factor secret; sees the clinic's therapists, never a couple)\n"
                f"  casey@{d}       another couple (sees none of Alex & Sam's entries)\n"
            )
