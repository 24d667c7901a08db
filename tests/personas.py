"""The people every test speaks of (CONVENTIONS.md: tests read like the product).

Alex writes; Sam is Alex's partner now; Pat was Alex's partner in an earlier couple space that
ended; Dr. Lee is the couple's therapist with Alex's consent; Dr. Noor is linked but holds no
consent; Dr. Ortiz's consent was withdrawn; Dr. Quinn's consent expired; Casey is in another
couple; Dr. Reyes is Casey's therapist (with Casey's consent); Morgan administers the clinic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.utils import timezone

from trellis.accounts.models import User
from trellis.couples import services as couples
from trellis.couples.models import Consent, Couple

PASSWORD = "a-long-test-passphrase-42"


TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def make_user(email: str, name: str, role: str = "member", **extra: Any) -> User:
    user = User.objects.create_user(
        email=email, password=PASSWORD, display_name=name, role=role, **extra
    )
    if user.needs_two_factor:
        # Therapists and admins must have TOTP before they can see anything (R16).
        from allauth.mfa.totp.internal.auth import TOTP

        TOTP.activate(user, TOTP_SECRET)
    return user


def make_couple(a: User, b: User | None = None, name: str = "") -> Couple:
    couple = couples.couple_create(user=a, name=name)
    if b is not None:
        new = couples.invitation_create(user=a)
        couples.invitation_accept(user=b, secret=new.code)
    return couple


def give_consent(
    grantor: User,
    therapist: User,
    couple: Couple,
    scopes: list[str] | None = None,
    days: int = 90,
) -> Consent:
    link = couples.therapist_link_create(therapist=therapist, couple=couple)
    return couples.consent_grant(
        grantor=grantor,
        link=link,
        scopes=scopes or ["journal"],
        purpose="Couples therapy",
        expires_at=timezone.now() + timedelta(days=days),
    )


@dataclass
class People:
    alex: User
    sam: User
    pat: User
    lee: User
    noor: User
    ortiz: User
    quinn: User
    casey: User
    riley: User
    reyes: User
    morgan: User
    couple: Couple
    old_couple: Couple
    other_couple: Couple
    extra: dict[str, Any] = field(default_factory=dict)

    def actors(self) -> dict[str, User | None]:
        """Every persona of the authorization matrix, by the role it plays towards Alex."""
        return {
            "author": self.alex,
            "partner": self.sam,
            "former_partner": self.pat,
            "therapist_with_consent": self.lee,
            "therapist_without_consent": self.noor,
            "therapist_consent_withdrawn": self.ortiz,
            "therapist_consent_expired": self.quinn,
            "other_couple_member": self.casey,
            "other_therapist": self.reyes,
            "clinic_admin": self.morgan,
            "anonymous": None,
        }


def build_people() -> People:
    alex = make_user("alex@example.test", "Alex")
    sam = make_user("sam@example.test", "Sam")
    pat = make_user("pat@example.test", "Pat")
    lee = make_user("lee@example.test", "Dr. Lee", role="therapist", accepts_confidences=True)
    noor = make_user("noor@example.test", "Dr. Noor", role="therapist", accepts_confidences=True)
    ortiz = make_user("ortiz@example.test", "Dr. Ortiz", role="therapist", accepts_confidences=True)
    quinn = make_user("quinn@example.test", "Dr. Quinn", role="therapist", accepts_confidences=True)
    casey = make_user("casey@example.test", "Casey")
    riley = make_user("riley@example.test", "Riley")
    reyes = make_user("reyes@example.test", "Dr. Reyes", role="therapist", accepts_confidences=True)
    morgan = make_user("morgan@example.test", "Morgan", role="clinic_admin", is_staff=True)

    # Alex and Pat once shared a space; Pat left, which ended it. Then Alex and Sam began one.
    old_couple = make_couple(alex, pat)
    couples.couple_leave(user=pat)
    couple = make_couple(alex, sam)
    other_couple = make_couple(casey, riley)

    give_consent(alex, lee, couple)
    couples.therapist_link_create(therapist=noor, couple=couple)
    withdrawn = give_consent(alex, ortiz, couple)
    couples.consent_withdraw(grantor=alex, consent=withdrawn)
    expired = give_consent(alex, quinn, couple)
    Consent.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    give_consent(casey, reyes, other_couple)

    return People(
        alex,
        sam,
        pat,
        lee,
        noor,
        ortiz,
        quinn,
        casey,
        riley,
        reyes,
        morgan,
        couple,
        old_couple,
        other_couple,
    )
