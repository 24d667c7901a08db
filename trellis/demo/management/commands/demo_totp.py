from __future__ import annotations

import time
from typing import Any

from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.core.management.base import BaseCommand

from trellis.demo.seed import DEMO_TOTP_SECRET


class Command(BaseCommand):
    help = "Print the demo therapist's current two-factor code (demo data only)."

    def handle(self, *args: Any, **opts: Any) -> None:
        self.stdout.write(format_hotp_value(hotp_value(DEMO_TOTP_SECRET, int(time.time()) // 30)))
