from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from trellis.core import backup as bk


class Command(BaseCommand):
    help = (
        "Replace the configured database's content with a backup made by `manage.py backup`. "
        "Stop the app (gunicorn and the worker) first. Refuses to run without --yes. By default "
        "a safety backup of the current database is written first (unless it is empty)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from", dest="source", required=True, type=Path)
        parser.add_argument(
            "--yes", action="store_true", help="Yes, replace the database's current content."
        )
        parser.add_argument(
            "--safety-dir",
            type=Path,
            default=None,
            help="Where the safety backup of the current database goes (default: beside --from).",
        )
        parser.add_argument(
            "--no-safety-copy",
            action="store_true",
            help="Do not back up the current database before replacing it.",
        )
        parser.add_argument("--database", default="default")

    def handle(self, *args: Any, **opts: Any) -> None:
        source: Path = opts["source"]
        using: str = opts["database"]
        if not source.is_file():
            raise CommandError(f"{source} does not exist.")
        target = bk.target_description(using)
        if not opts["yes"]:
            users = bk.count_users(using)
            raise CommandError(
                f"Restoring {source} would replace everything in the {target} "
                f"({users} accounts now). Stop the app first, then run again with --yes."
            )
        safety_dir = None if opts["no_safety_copy"] else (opts["safety_dir"] or source.parent)
        try:
            result = bk.restore(source, using=using, safety_dir=safety_dir)
        except bk.BackupError as exc:
            raise CommandError(str(exc)) from None
        if result.safety_copy:
            self.stdout.write(f"Safety backup of the previous content: {result.safety_copy}")
        check = "matches its .sha256" if result.checksum_verified else "no .sha256 to compare"
        self.stdout.write(
            f"Restored {result.source} into the {result.target} in {result.seconds:.2f} s "
            f"(sha256 {result.sha256[:16]}…, {check})."
        )
        self.stdout.write(f"Integrity check: {result.integrity}. Accounts: {result.users}.")
        if result.unapplied_migrations:
            self.stdout.write(
                f"The backup predates {len(result.unapplied_migrations)} migration(s) of this "
                "code: run `manage.py migrate` before starting the app."
            )
        else:
            self.stdout.write("Migrations: up to date with this code.")
        if not result.checksum_verified:
            self.stderr.write(
                f"Warning: {bk.checksum_path(source).name} was missing, so the file could not be "
                "compared with the checksum recorded when it was written."
            )
        if result.integrity != "ok":
            raise CommandError(f"The restored database did not pass its checks: {result.integrity}")
