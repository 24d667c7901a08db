"""Every write of the therapist workspace. Reads of entries never happen here: selectors and
views ask `sharing`.

Who may do what:
- a clinic administrator invites therapists into their clinic and ends their membership; they
  never see a couple or an entry;
- a therapist invites a couple (link invitation), assigns and cancels homework, schedules
  appointments and writes private notes, only through a link that is theirs and still active;
- a partner links their couple space by the therapist's code, gives and withdraws their own
  consent (for themselves only), completes their own homework, and either partner can end the
  link, which withdraws every consent on it at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from trellis.couples import services as couples
from trellis.couples.models import Consent, Membership, TherapistLink
from trellis.sharing.audiences import Audience
from trellis.sharing.models import AuditEvent
from trellis.sharing.policy import audit

from .models import (
    Appointment,
    Clinic,
    ClinicInvitation,
    ClinicMember,
    Homework,
    HomeworkAssignment,
    HomeworkCompletion,
    LinkInvitation,
    SessionNote,
    hash_secret,
)

INVITE_DAYS = 7
INVALID_CODE = (
    "That code didn't work. It may have expired or been used; ask your therapist for a new one."
)
INVALID_CLINIC_INVITE = "This invitation isn't valid any more. Ask the clinic for a new one."


class NotYours(Exception):
    """The object exists but this person may not change it (views answer 404)."""


class Stale(Exception):
    """Saved against an older version (views answer 409 / 412)."""

    def __init__(self, current: int) -> None:
        super().__init__("stale")
        self.current = current


def _require_therapist(user: Any) -> None:
    if getattr(user, "role", "") != "therapist":
        raise NotYours


def active_link_of(therapist: Any, link_id: Any) -> TherapistLink:
    """The therapist's own link, still active, locked for the write that follows."""
    _require_therapist(therapist)
    link = (
        TherapistLink.objects.select_for_update()
        .filter(pk=link_id, therapist_id=therapist.pk, ended_at__isnull=True)
        .first()
    )
    if link is None:
        raise NotYours
    return link


def _current_members(couple_id: Any) -> list[Any]:
    return list(
        Membership.objects.filter(couple_id=couple_id, left_at__isnull=True).values_list(
            "user_id", flat=True
        )
    )


def _audit_couple(couple_id: Any, *, actor: Any, action: str, detail: dict[str, Any]) -> None:
    """One audit row for each current member of the couple (their own record of it): the
    members in one query, however many there are."""
    from trellis.accounts.models import User

    for member in User.objects.filter(
        memberships__couple_id=couple_id, memberships__left_at__isnull=True
    ):
        audit(owner=member, actor=actor, action=action, detail=detail)


# --- clinics ---------------------------------------------------------------------------------


@transaction.atomic
def clinic_create(*, name: str, admin: Any) -> Clinic:
    if not name.strip():
        raise ValidationError({"name": "Give the clinic a name."})
    if (
        admin.role == "member"
        and Membership.objects.filter(user=admin, left_at__isnull=True).exists()
    ):
        raise ValidationError({"admin": "A partner's account can't administer a clinic."})
    clinic = Clinic.objects.create(name=name.strip()[:120])
    if admin.role == "member":
        admin.role = "clinic_admin"
        admin.save(update_fields=["role"])
    ClinicMember.objects.create(clinic=clinic, user=admin, role=ClinicMember.Role.ADMIN)
    return clinic


def admin_clinic(user: Any) -> Clinic | None:
    m = (
        ClinicMember.objects.select_related("clinic")
        .filter(user_id=user.pk, role=ClinicMember.Role.ADMIN, ended_at__isnull=True)
        .first()
    )
    return m.clinic if m else None


@dataclass(frozen=True)
class NewClinicInvitation:
    invitation: ClinicInvitation
    token: str


@transaction.atomic
def clinic_invite(*, admin: Any, email: str) -> NewClinicInvitation:
    clinic = admin_clinic(admin)
    if clinic is None:
        raise NotYours
    email = (email or "").strip().lower()
    if "@" not in email or len(email) > 254:
        raise ValidationError({"email": "Enter the therapist's email address."})
    token, _ = LinkInvitation.new_secrets()
    inv = ClinicInvitation.objects.create(
        clinic=clinic,
        email=email,
        token_hash=hash_secret(token),
        created_by=admin,
        expires_at=timezone.now() + timedelta(days=INVITE_DAYS),
    )
    return NewClinicInvitation(inv, token)


def clinic_invitation_find(token: str) -> ClinicInvitation | None:
    token = (token or "").strip()
    if not token or len(token) > 100:
        return None
    inv = (
        ClinicInvitation.objects.select_related("clinic")
        .filter(token_hash=hash_secret(token))
        .first()
    )
    return inv if inv is not None and inv.is_open else None


@transaction.atomic
def clinic_invitation_accept(*, user: Any, token: str) -> ClinicMember:
    """Join the clinic as a therapist. A partner in a couple space can't also be a therapist:
    that would mix the two roles' access."""
    inv = clinic_invitation_find(token)
    if inv is None:
        raise ValidationError({"token": INVALID_CLINIC_INVITE})
    inv = ClinicInvitation.objects.select_for_update().get(pk=inv.pk)
    if not inv.is_open:
        raise ValidationError({"token": INVALID_CLINIC_INVITE})
    if user.email.lower() != inv.email:
        raise ValidationError({"token": "This invitation was sent to a different email address."})
    if Membership.objects.filter(user=user, left_at__isnull=True).exists():
        raise ValidationError(
            {
                "token": "This account is in a couple space. Use a separate account for your practice."
            }
        )
    if user.role == "member":
        user.role = "therapist"
        user.save(update_fields=["role"])
    elif user.role != "therapist":
        raise ValidationError({"token": "An administrator account can't join as a therapist."})
    member, _ = ClinicMember.objects.get_or_create(
        clinic=inv.clinic, user=user, ended_at=None, defaults={"role": ClinicMember.Role.THERAPIST}
    )
    inv.used_at = timezone.now()
    inv.used_by = user
    inv.save(update_fields=["used_at", "used_by"])
    return member


@transaction.atomic
def clinic_member_end(*, admin: Any, member_id: Any) -> None:
    """The therapist leaves the clinic. Their links with couples are the couples' to keep or
    end: a clinic never holds consent."""
    clinic = admin_clinic(admin)
    if clinic is None:
        raise NotYours
    member = ClinicMember.objects.filter(
        pk=member_id, clinic=clinic, role=ClinicMember.Role.THERAPIST, ended_at__isnull=True
    ).first()
    if member is None:
        raise NotYours
    member.ended_at = timezone.now()
    member.save(update_fields=["ended_at"])


@transaction.atomic
def clinic_invitation_cancel(*, admin: Any, invitation_id: Any) -> None:
    clinic = admin_clinic(admin)
    if clinic is None:
        raise NotYours
    n = ClinicInvitation.objects.filter(
        pk=invitation_id, clinic=clinic, used_at__isnull=True, cancelled_at__isnull=True
    ).update(cancelled_at=timezone.now())
    if not n:
        raise NotYours


@transaction.atomic
def therapist_policy_set(*, therapist: Any, accepts_confidences: bool) -> None:
    _require_therapist(therapist)
    therapist.accepts_confidences = bool(accepts_confidences)
    therapist.save(update_fields=["accepts_confidences"])


# --- linking a couple ------------------------------------------------------------------------


@dataclass(frozen=True)
class NewLinkInvitation:
    invitation: LinkInvitation
    token: str
    code: str


@transaction.atomic
def link_invitation_create(*, therapist: Any) -> NewLinkInvitation:
    _require_therapist(therapist)
    token, code = LinkInvitation.new_secrets()
    inv = LinkInvitation.objects.create(
        therapist=therapist,
        token_hash=hash_secret(token),
        code_hash=hash_secret(code),
        expires_at=timezone.now() + timedelta(days=INVITE_DAYS),
    )
    return NewLinkInvitation(inv, token, code)


def link_invitation_find(secret: str) -> LinkInvitation | None:
    secret = (secret or "").strip()
    if not secret or len(secret) > 100:
        return None
    h = hash_secret(secret)
    # The link's token or the code typed in: one query for either.
    inv = (
        LinkInvitation.objects.select_related("therapist")
        .filter(Q(token_hash=h) | Q(code_hash=h))
        .first()
    )
    return inv if inv is not None and inv.is_open else None


@transaction.atomic
def link_invitation_cancel(*, therapist: Any, invitation_id: Any) -> None:
    n = LinkInvitation.objects.filter(
        pk=invitation_id, therapist_id=therapist.pk, used_at__isnull=True, cancelled_at__isnull=True
    ).update(cancelled_at=timezone.now())
    if not n:
        raise NotYours


@transaction.atomic
def link_accept(*, user: Any, secret: str) -> TherapistLink:
    """A partner links their couple space with the therapist who gave them the code. The
    therapist sees nothing yet: each partner then decides for themselves."""
    if user.role != "member":
        raise ValidationError({"code": "Only a partner in a couple space can link a therapist."})
    inv = link_invitation_find(secret)
    if inv is None:
        raise ValidationError({"code": INVALID_CODE})
    inv = LinkInvitation.objects.select_for_update().select_related("therapist").get(pk=inv.pk)
    if not inv.is_open:
        raise ValidationError({"code": INVALID_CODE})
    m = Membership.objects.select_related("couple").filter(user=user, left_at__isnull=True).first()
    if m is None:
        raise ValidationError({"code": "Start or join a couple space first."})
    if not inv.therapist.is_active or inv.therapist.role != "therapist":
        raise ValidationError({"code": INVALID_CODE})
    link = couples.therapist_link_create(therapist=inv.therapist, couple=m.couple)
    inv.used_at = timezone.now()
    inv.used_by = user
    inv.link = link
    inv.save(update_fields=["used_at", "used_by", "link"])
    _audit_couple(
        m.couple_id,
        actor=user,
        action=AuditEvent.Action.THERAPIST_LINKED,
        detail={"therapist": str(inv.therapist_id)},
    )
    return link


def member_link(user: Any, link_id: Any, *, lock: bool = False) -> TherapistLink:
    """A link of the user's current couple space (active or ended), or NotYours."""
    qs = TherapistLink.objects.select_related("therapist", "couple")
    if lock:
        qs = qs.select_for_update()
    link = qs.filter(
        pk=link_id,
        couple__memberships__user_id=user.pk,
        couple__memberships__left_at__isnull=True,
    ).first()
    if link is None:
        raise NotYours
    return link


@transaction.atomic
def link_end(*, actor: Any, link_id: Any) -> None:
    """Either partner or the therapist ends the link; every consent on it ends with it."""
    if getattr(actor, "role", "") == "therapist":
        link = active_link_of(actor, link_id)
    else:
        link = member_link(actor, link_id, lock=True)
        if link.ended_at is not None:
            return
    couples.therapist_link_end(link=link)
    Appointment.objects.filter(link=link, starts_at__gt=timezone.now(), cancelled_at=None).update(
        cancelled_at=timezone.now()
    )
    _audit_couple(
        link.couple_id,
        actor=actor,
        action=AuditEvent.Action.THERAPIST_LINK_ENDED,
        detail={"therapist": str(link.therapist_id)},
    )


def active_consent(user: Any, link: TherapistLink) -> Consent | None:
    return (
        Consent.objects.prefetch_related("scopes")
        .filter(
            link=link,
            grantor_id=user.pk,
            withdrawn_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .order_by("-given_at")
        .first()
    )


@transaction.atomic
def consent_set(
    *, user: Any, link_id: Any, scopes: list[str], purpose: str, until: date
) -> Consent:
    """Give (or change) *my* consent to this therapist. Changing replaces the earlier consent
    at once; the earlier record stays, withdrawn, in the history."""
    link = member_link(user, link_id, lock=True)
    if link.ended_at is not None:
        raise ValidationError({"link": "This therapist link has ended."})
    tz = timezone.get_current_timezone()
    expires_at = timezone.make_aware(datetime.combine(until, datetime.max.time()), tz)
    if until > timezone.localdate() + timedelta(days=730):
        raise ValidationError({"until": "Choose an end date within two years."})
    # Only the consent in force is replaced: one that ran out ended by itself and stays, as it
    # was, in the history (however many there are, they cost nothing here).
    previous = list(
        Consent.objects.select_for_update().filter(
            link=link, grantor_id=user.pk, withdrawn_at__isnull=True, expires_at__gt=timezone.now()
        )
    )
    consent = couples.consent_grant(
        grantor=user, link=link, scopes=scopes, purpose=purpose, expires_at=expires_at
    )
    for old in previous:
        couples.consent_withdraw(grantor=user, consent=old)
    return consent


@transaction.atomic
def consent_withdraw(*, user: Any, link_id: Any) -> int:
    """Withdraw my consent on this link, at once. Returns how many consents ended."""
    link = member_link(user, link_id, lock=True)
    n = 0
    # The consent in force (one that ran out has ended already and stays as it was).
    for c in Consent.objects.filter(
        link=link, grantor_id=user.pk, withdrawn_at__isnull=True, expires_at__gt=timezone.now()
    ):
        couples.consent_withdraw(grantor=user, consent=c)
        n += 1
    return n


# --- homework --------------------------------------------------------------------------------


def _clean_text(value: str, field: str, *, required: bool, limit: int) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationError({field: "This can't be empty."})
    if len(value) > limit:
        raise ValidationError({field: f"Keep this under {limit} characters."})
    return value


def homework_assign(
    *,
    therapist: Any,
    link_id: Any,
    kind: str,
    title: str,
    due_on: date,
    assignees: list[Any],
    instructions: str = "",
    ref: str = "",
    idempotency_key: str = "",
) -> Homework:
    return homework_assign_once(
        therapist=therapist,
        link_id=link_id,
        kind=kind,
        title=title,
        due_on=due_on,
        assignees=assignees,
        instructions=instructions,
        ref=ref,
        idempotency_key=idempotency_key,
    )[0]


@transaction.atomic
def homework_assign_once(
    *,
    therapist: Any,
    link_id: Any,
    kind: str,
    title: str,
    due_on: date,
    assignees: list[Any],
    instructions: str = "",
    ref: str = "",
    idempotency_key: str = "",
) -> tuple[Homework, bool]:
    """Assign homework; with an idempotency key, the same key again gives back the homework it
    made first. Returns (homework, whether this call made it)."""
    link = active_link_of(therapist, link_id)
    if idempotency_key:
        existing = Homework.objects.filter(
            therapist_id=therapist.pk, idempotency_key=idempotency_key
        ).first()
        if existing is not None:
            return existing, False
    if kind not in Homework.Kind.values:
        raise ValidationError({"kind": "Choose a kind of homework from the list."})
    title = _clean_text(title, "title", required=True, limit=200)
    instructions = _clean_text(instructions, "instructions", required=False, limit=4000)
    if due_on < timezone.localdate() - timedelta(days=1):
        raise ValidationError({"due_on": "Choose a due date from today on."})
    members = {str(m) for m in _current_members(link.couple_id)}
    chosen = {str(a) for a in assignees}
    if not chosen or not chosen <= members:
        raise ValidationError({"assignees": "Choose one or both partners."})
    ref = _validate_ref(kind, ref, link)
    try:
        with transaction.atomic():
            hw = Homework.objects.create(
                link=link,
                couple_id=link.couple_id,
                therapist=therapist,
                kind=kind,
                ref=ref,
                title=title,
                instructions=instructions,
                due_on=due_on,
                idempotency_key=idempotency_key[:80],
            )
    except IntegrityError:
        # The same key sent twice at once: the other request made it; give back that one.
        if not idempotency_key:
            raise
        made = Homework.objects.get(therapist_id=therapist.pk, idempotency_key=idempotency_key[:80])
        return made, False
    HomeworkAssignment.objects.bulk_create(
        [HomeworkAssignment(homework=hw, assignee_id=a) for a in sorted(chosen)]
    )
    return hw, True


def _validate_ref(kind: str, ref: str, link: TherapistLink) -> str:
    ref = (ref or "").strip()[:80]
    if kind == Homework.Kind.JOURNAL_PROMPT:
        from trellis.journal.prompts import BY_KEY

        if ref and ref not in BY_KEY:
            raise ValidationError({"ref": "Choose a journal prompt from the list."})
    elif kind == Homework.Kind.MEETING_PROMPTS:
        from trellis.meetings.prompts import BUILTIN_SETS

        if ref not in BUILTIN_SETS:
            from trellis.meetings.models import PromptSet

            ok = PromptSet.objects.filter(
                pk=_uuid_or_none(ref), author_id=link.therapist_id, archived_at__isnull=True
            ).exists()
            if not ok:
                raise ValidationError({"ref": "Choose a prompt set from the list."})
    return ref


def _uuid_or_none(raw: str) -> Any:
    import uuid

    try:
        return uuid.UUID(str(raw))
    except (ValueError, TypeError):
        return None


@transaction.atomic
def homework_cancel(*, therapist: Any, homework_id: Any) -> Any:
    """Take homework back; returns its link's id (where the therapist goes next)."""
    hw = (
        Homework.objects.select_for_update()
        .filter(pk=homework_id, therapist_id=therapist.pk)
        .first()
    )
    if hw is None:
        raise NotYours
    if hw.cancelled_at is None:
        hw.cancelled_at = timezone.now()
        hw.save(update_fields=["cancelled_at"])
    return hw.link_id


def my_assignment(user: Any, homework_id: Any) -> HomeworkAssignment:
    """The user's own assignment of this homework, while they are in its couple space."""
    a = (
        HomeworkAssignment.objects.select_related("homework", "homework__therapist")
        .filter(
            homework_id=homework_id,
            assignee_id=user.pk,
            homework__couple__memberships__user_id=user.pk,
            homework__couple__memberships__left_at__isnull=True,
        )
        .first()
    )
    if a is None:
        raise NotYours
    return a


@transaction.atomic
def homework_complete(
    *, user: Any, homework_id: Any, note: str = "", audience: str | None = None
) -> tuple[HomeworkCompletion, bool]:
    """Mark my homework done. Doing it twice (a double tap, a retried request) keeps one."""
    a = my_assignment(user, homework_id)
    if a.homework.cancelled_at is not None:
        raise ValidationError({"homework": "Your therapist took this homework back."})
    note = _clean_text(note, "note", required=False, limit=4000)
    chosen = audience or Audience.PARTNER_THERAPIST
    if chosen not in Audience.values:
        raise ValidationError({"audience": "Choose who can see this from the list."})
    existing = HomeworkCompletion.objects.filter(assignment=a).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            done = HomeworkCompletion.objects.create(
                author=user,
                couple_id=a.homework.couple_id,
                audience=chosen,
                assignment=a,
                note=note,
            )
    except IntegrityError:
        return HomeworkCompletion.objects.get(assignment=a), False
    return done, True


@transaction.atomic
def completion_delete(*, user: Any, completion: HomeworkCompletion, channel: str = "page") -> None:
    """The author takes back their "done" (and its note); the homework is open for them again."""
    if completion.author_id != user.pk:
        raise PermissionError("Only the author deletes an entry.")
    audit(
        owner=user, actor=user, action=AuditEvent.Action.DELETED, entry=completion, channel=channel
    )
    completion.delete()


# --- appointments and notes -----------------------------------------------------------------


@transaction.atomic
def appointment_create(
    *, therapist: Any, link_id: Any, starts_at: datetime, kind: str = "session", minutes: int = 50
) -> Appointment:
    link = active_link_of(therapist, link_id)
    if kind not in Appointment.Kind.values:
        raise ValidationError({"kind": "Choose session or booster session."})
    if starts_at < timezone.now() - timedelta(days=365):
        raise ValidationError({"starts_at": "Choose a date within the last year or ahead."})
    if not 10 <= int(minutes) <= 240:
        raise ValidationError({"minutes": "Choose between 10 and 240 minutes."})
    return Appointment.objects.create(
        link=link,
        couple_id=link.couple_id,
        therapist=therapist,
        kind=kind,
        starts_at=starts_at,
        minutes=minutes,
    )


@transaction.atomic
def appointment_cancel(*, therapist: Any, appointment_id: Any) -> Any:
    """Cancel an upcoming session; returns its link's id (where the therapist goes next)."""
    ap = (
        Appointment.objects.select_for_update()
        .filter(pk=appointment_id, therapist_id=therapist.pk, cancelled_at__isnull=True)
        .first()
    )
    if ap is None:
        raise NotYours
    ap.cancelled_at = timezone.now()
    ap.save(update_fields=["cancelled_at"])
    return ap.link_id


def own_note(therapist: Any, note_id: Any, *, lock: bool = False) -> SessionNote:
    _require_therapist(therapist)
    qs = SessionNote.objects.select_related("link", "link__couple")
    if lock:
        qs = qs.select_for_update()
    note = qs.filter(pk=note_id, therapist_id=therapist.pk).first()
    if note is None:
        raise NotYours
    return note


@transaction.atomic
def note_create(
    *,
    therapist: Any,
    link_id: Any,
    kind: str,
    on_date: date,
    body: str,
    referral_to: str = "",
) -> SessionNote:
    _require_therapist(therapist)
    # Notes may be written after a link ended (a closing note), never for someone else's link.
    link = TherapistLink.objects.filter(pk=link_id, therapist_id=therapist.pk).first()
    if link is None:
        raise NotYours
    if kind not in SessionNote.Kind.values:
        raise ValidationError({"kind": "Choose a kind of note from the list."})
    body = _clean_text(body, "body", required=True, limit=20000)
    referral_to = _clean_text(referral_to, "referral_to", required=False, limit=120)
    return SessionNote.objects.create(
        therapist=therapist,
        link=link,
        kind=kind,
        on_date=on_date,
        body=body,
        referral_to=referral_to,
    )


@transaction.atomic
def note_update(
    *,
    therapist: Any,
    note_id: Any,
    version: int,
    body: str,
    on_date: date | None = None,
    kind: str | None = None,
    referral_to: str | None = None,
) -> SessionNote:
    note = own_note(therapist, note_id, lock=True)
    if int(version) != note.version:
        raise Stale(note.version)
    note.body = _clean_text(body, "body", required=True, limit=20000)
    if on_date is not None:
        note.on_date = on_date
    if kind is not None:
        if kind not in SessionNote.Kind.values:
            raise ValidationError({"kind": "Choose a kind of note from the list."})
        note.kind = kind
    if referral_to is not None:
        note.referral_to = _clean_text(referral_to, "referral_to", required=False, limit=120)
    note.version += 1
    note.updated_at = timezone.now()
    note.save()
    return note


@transaction.atomic
def note_delete(*, therapist: Any, note_id: Any) -> None:
    own_note(therapist, note_id, lock=True).delete()
