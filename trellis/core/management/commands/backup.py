from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from trellis.core import backup as bk


class Command(BaseCommand):
    help = (
        "Write a consistent backup of the database while the app keeps running: SQLite through "
        "the online backup API, PostgreSQL with pg_dump --format=custom. Atomic (temporary file "
        "+ rename), with a sha256 in <file>.sha256. The encryption keys are NOT in the backup: "
        "keep TRELLIS_FIELD_KEYS safe separately."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--out",
            required=True,
            help="A new file, or a directory (existing, or ending in /) for timestamped backups.",
        )
        parser.add_argument(
            "--keep",
            type=int,
            default=0,
            help="With a directory: keep only the newest N timestamped backups there.",
        )
        parser.add_argument("--database", default="default")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["keep"] < 0:
            raise CommandError("--keep must be 0 (keep everything) or more.")
        try:
            result, removed = bk.backup(opts["out"], using=opts["database"], keep=opts["keep"])
        except bk.BackupError as exc:
            raise CommandError(str(exc)) from None
        how = "online backup API" if result.vendor == "sqlite" else "pg_dump --format=custom"
        self.stdout.write(
            f"Backup written: {result.path} ({bk.human_size(result.size)}, {result.size:,} bytes, "
            f"{how}, {result.seconds:.2f} s)"
        )
        self.stdout.write(f"sha256 {result.sha256}  (also in {bk.checksum_path(result.path)})")
        for p in removed:
            self.stdout.write(f"Removed old backup {p}")
        self.stdout.write(
            "The encryption keys are not in this backup: keep TRELLIS_FIELD_KEYS safe separately."
        )
