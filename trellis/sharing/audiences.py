from __future__ import annotations

from django.db import models


class Audience(models.TextChoices):
    """Who may read an entry, chosen by its author (SPEC principle 1)."""

    ONLY_ME = "me", "Only me"
    PARTNER = "partner", "My partner"
    PARTNER_THERAPIST = "partner_therapist", "My partner and our therapist"
    THERAPIST = "therapist", "My therapist only"


PARTNER_AUDIENCES = (Audience.PARTNER, Audience.PARTNER_THERAPIST)
THERAPIST_AUDIENCES = (Audience.PARTNER_THERAPIST, Audience.THERAPIST)

AUDIENCE_EXPLAINED = {
    Audience.ONLY_ME: "Nobody else can read this.",
    Audience.PARTNER: "Your partner can read this while you share a couple space.",
    Audience.PARTNER_THERAPIST: (
        "Your partner can read this, and your therapist too if you have given them consent "
        "for this kind of entry."
    ),
    Audience.THERAPIST: (
        "Only your therapist, if you have given them consent and they accept individual "
        "confidences. Your partner cannot read it."
    ),
}
