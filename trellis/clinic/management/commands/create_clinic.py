from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from trellis.clinic import services
from trellis.clinic.management.accounts import FIRST_SIGN_IN, account, clean_email, describe
from trellis.clinic.models import ClinicMember


class Command(BaseCommand):
    help = (
        "Create a clinic and its administrator (a new account, or an existing one promoted). "
        "Running it again for the same administrator and name changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True, help="The clinic's name.")
        parser.add_argument("--admin-email", required=True, help="The administrator's email.")
        parser.add_argument(
            "--admin-name", default="", help="The administrator's name, for a new account."
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        name = opts["name"].strip()
        if not name:
            raise CommandError("Give the clinic a name with --name.")
        email = clean_email(opts["admin_email"])
        with transaction.atomic():
            admin, created = account(
                email, opts["admin_name"] or email.split("@")[0], role="clinic_admin"
            )
            existing = ClinicMember.objects.filter(
                user=admin, role=ClinicMember.Role.ADMIN, ended_at__isnull=True, clinic__name=name
            ).first()
            if existing is not None:
                self.stdout.write(
                    f"{describe(admin)} already administers “{name}” (id {existing.clinic_id})."
                )
                return
            if admin.role == "therapist":
                raise CommandError(
                    "That account is a therapist's. Use a separate account to administer a clinic."
                )
            try:
                clinic = services.clinic_create(name=name, admin=admin)
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from None
        self.stdout.write(f"Created the clinic “{clinic.name}” (id {clinic.pk}).")
        self.stdout.write(f"Administrator: {describe(admin)}.")
        self.stdout.write("Next step for the administrator:")
        if created:
            self.stdout.write("  " + FIRST_SIGN_IN.format(email=admin.email))
        else:
            self.stdout.write(
                "  Sign in as usual; set up two-factor authentication first if it is not yet."
            )
        self.stdout.write(
            "  Then invite therapists from the clinic's page, or add one here with: "
            f"manage.py create_therapist --email … --name … --clinic-id {clinic.pk}"
        )
