from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from trellis.accounts.models import User
from trellis.accounts.services import api_token_create


class Command(BaseCommand):
    help = "Create a personal API token for EMAIL and print it once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")
        parser.add_argument("--name", default="command line")

    def handle(self, *args: Any, **opts: Any) -> None:
        user = User.objects.filter(email=opts["email"].strip().lower()).first()
        if user is None:
            raise CommandError("No account has that email address.")
        _, raw = api_token_create(user=user, name=opts["name"])
        self.stdout.write(raw)
