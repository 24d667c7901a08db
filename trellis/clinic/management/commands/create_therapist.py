from __future__ import annotations

import uuid
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from trellis.clinic.management.accounts import FIRST_SIGN_IN, account, clean_email, describe
from trellis.clinic.models import Clinic, ClinicMember
from trellis.couples.models import Membership


class Command(BaseCommand):
    help = (
        "Create an independent therapist account (or make an existing account without a "
        "couple space a therapist), optionally in a clinic. Running it again changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True)
        parser.add_argument("--name", required=True, help="The name couples will see.")
        parser.add_argument("--clinic-id", default="", help="Add the therapist to this clinic.")

    def handle(self, *args: Any, **opts: Any) -> None:
        email = clean_email(opts["email"])
        clinic = self._clinic(opts["clinic_id"])
        with transaction.atomic():
            user, created = account(email, opts["name"], role="therapist")
            if not created and user.role != "therapist":
                if user.role != "member":
                    raise CommandError(
                        "That account administers a clinic. Use a separate account to practise."
                    )
                if Membership.objects.filter(user=user, left_at__isnull=True).exists():
                    raise CommandError(
                        "That account is in a couple space. Use a separate account for your "
                        "practice."
                    )
                user.role = "therapist"
                user.save(update_fields=["role"])
            joined = False
            if clinic is not None:
                _, joined = ClinicMember.objects.get_or_create(
                    clinic=clinic,
                    user=user,
                    ended_at=None,
                    defaults={"role": ClinicMember.Role.THERAPIST},
                )
        what = "Created" if created else "Ready"
        self.stdout.write(f"{what}: the therapist account {describe(user)}.")
        if clinic is not None:
            where = "Added to" if joined else "Already in"
            self.stdout.write(f"{where} the clinic “{clinic.name}”.")
        if created:
            self.stdout.write(FIRST_SIGN_IN.format(email=user.email))
        else:
            self.stdout.write(
                "Two-factor authentication (an authenticator app) must be set up at the next "
                "sign-in if it is not yet, before anything else can be opened."
            )

    def _clinic(self, raw: str) -> Clinic | None:
        if not raw.strip():
            return None
        try:
            key = uuid.UUID(raw.strip())
        except ValueError:
            raise CommandError("--clinic-id is not a clinic id.") from None
        clinic = Clinic.objects.filter(pk=key).first()
        if clinic is None:
            raise CommandError("No clinic has that id.")
        return clinic
