"""The redisclosure notice (security.md R9) carried by whatever a therapist takes out of
Trellis: their export, and the pages that show what partners shared with them."""

from __future__ import annotations

REDISCLOSURE_NOTICE = (
    "Shared with you in confidence for their care. "
    "It may not be redisclosed without their specific consent."
)
