"""The therapist workspace's objects for the authorization matrix (SPEC C14; security.md R7,
R8, R58): a therapist's link to a couple, homework, appointments, private notes and link
invitations, and a clinic's memberships and invitations. None of them is an entry (homework
*completions* are, and the entry matrix covers them); the pages and API operations that take
their ids are tagged with one of the ops below, and this module makes one of each, knows who
may use it (its own oracle, reading rows only, never the app's code), and how to put it back
after an allowed write.

Rules (the oracle):
- clinician: the therapist the object belongs to, and nobody else — not the partners, not
  another therapist, not the clinic administrator;
- assignee: homework, for a partner it is assigned to while a current member of its couple;
- couple: a therapist link, for the current members of its couple (their consent pages);
- clinic_admin: a clinic's membership or invitation, for that clinic's active administrators.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

CLINIC_OPS = {"clinician", "assignee", "clinic_admin"}


def _models() -> dict[str, Any]:
    from trellis.clinic.models import (
        Appointment,
        ClinicInvitation,
        ClinicMember,
        Homework,
        LinkInvitation,
        SessionNote,
    )
    from trellis.couples.models import TherapistLink

    return {
        "clinic_link": TherapistLink,
        "homework_assignment": Homework,
        "appointment": Appointment,
        "session_note": SessionNote,
        "link_invitation": LinkInvitation,
        "clinic_member": ClinicMember,
        "clinic_invitation": ClinicInvitation,
    }


def clinic_models() -> dict[str, Any]:
    """label (the x-sharing entry_type of its API operations) -> model."""
    return _models()


def label_of(model: Any) -> str | None:
    for label, m in _models().items():
        if m is model:
            return label
    return None


@dataclass
class MadeClinic:
    obj: Any
    desc: str
    marker: str
    label: str
    original: dict[str, Any]


# --- the oracle ---------------------------------------------------------------------------------


def _is_member(person_id: Any, couple_id: Any) -> bool:
    from trellis.couples.models import Membership

    return Membership.objects.filter(
        user_id=person_id, couple_id=couple_id, left_at__isnull=True
    ).exists()


def _active(person_id: Any) -> bool:
    from trellis.accounts.models import User

    return User.objects.filter(pk=person_id, is_active=True).exists()


def may_use(actor_id: Any, label: str, obj: Any, op: str) -> bool:
    """Whether the actor may use the object through an operation tagged `op`."""
    from trellis.clinic.models import ClinicMember, HomeworkAssignment

    if actor_id is None or not _active(actor_id):
        return False
    if op == "clinician":
        return getattr(obj, "therapist_id", None) == actor_id
    if op == "assignee":
        assigned = HomeworkAssignment.objects.filter(homework_id=obj.pk, assignee_id=actor_id)
        return assigned.exists() and _is_member(actor_id, obj.couple_id)
    if op == "couple":
        return _is_member(actor_id, obj.couple_id)
    if op == "clinic_admin":
        return ClinicMember.objects.filter(
            clinic_id=obj.clinic_id, user_id=actor_id, role="admin", ended_at__isnull=True
        ).exists()
    raise ValueError(f"The clinic oracle knows no operation {op!r}.")


def may_see(actor_id: Any, label: str, obj: Any) -> bool:
    """Whether any operation lets the actor see the object at all (the crawl's rule)."""
    ops = {
        "clinic_link": ("clinician", "couple"),
        "homework_assignment": ("clinician", "assignee"),
        "appointment": ("clinician", "couple"),  # the couple sees its upcoming sessions
        "session_note": ("clinician",),
        "link_invitation": ("clinician",),
        "clinic_member": ("clinic_admin",),
        "clinic_invitation": ("clinic_admin",),
    }[label]
    return any(may_use(actor_id, label, obj, op) for op in ops)


# --- making them -------------------------------------------------------------------------------


def build(people: Any) -> list[MadeClinic]:
    """One of each object for Dr. Lee (consented by Alex), Dr. Noor (linked, no consent) and
    Dr. Reyes (Casey's couple), a clinic Morgan administers with Dr. Lee in it, and a clinic
    somebody else administers with Dr. Reyes in it."""
    from trellis.accounts.models import User
    from trellis.clinic.models import (
        Appointment,
        Clinic,
        ClinicInvitation,
        ClinicMember,
        Homework,
        HomeworkAssignment,
        LinkInvitation,
        SessionNote,
        hash_secret,
    )
    from trellis.couples.models import TherapistLink

    made: list[MadeClinic] = []

    def add(obj: Any, label: str, desc: str, marker: str) -> None:
        made.append(MadeClinic(obj, desc, marker, label, {}))

    today = timezone.localdate()
    for therapist, name in ((people.lee, "lee"), (people.noor, "noor"), (people.reyes, "reyes")):
        link = TherapistLink.objects.get(therapist=therapist, ended_at__isnull=True)
        members = _members(link.couple_id)
        add(link, "clinic_link", f"link/{name}", "")
        for who, assignees in (("both", members), ("first", members[:1])):
            marker = f"mh{uuid.uuid4().hex[:16]}"
            hw = Homework.objects.create(
                link=link,
                couple_id=link.couple_id,
                therapist=therapist,
                kind="task",
                title=f"{marker} a task",
                instructions="Ten minutes, phones away.",
                due_on=today + timedelta(days=3),
            )
            for a in assignees:
                HomeworkAssignment.objects.create(homework=hw, assignee_id=a)
            add(hw, "homework_assignment", f"homework/{name}/{who}", marker)
        ap = Appointment.objects.create(
            link=link,
            couple_id=link.couple_id,
            therapist=therapist,
            starts_at=timezone.now() + timedelta(days=7),
        )
        add(ap, "appointment", f"appointment/{name}", "")
        marker = f"mn{uuid.uuid4().hex[:16]}"
        note = SessionNote.objects.create(
            therapist=therapist, link=link, on_date=today, body=f"{marker} a private note"
        )
        add(note, "session_note", f"note/{name}", marker)
        secret = uuid.uuid4().hex
        inv = LinkInvitation.objects.create(
            therapist=therapist,
            token_hash=hash_secret(secret),
            code_hash=hash_secret(secret[:8]),
            expires_at=timezone.now() + timedelta(days=7),
        )
        add(inv, "link_invitation", f"invitation/{name}", "")

    other_admin = User.objects.create_user(
        email=f"admin-{uuid.uuid4().hex[:6]}@example.test",
        password=None,
        display_name="Another administrator",
        role="clinic_admin",
    )
    for admin, therapist, name in (
        (people.morgan, people.lee, "morgan"),
        (other_admin, people.reyes, "other"),
    ):
        clinic = Clinic.objects.create(name=f"Clinic of {name}")
        ClinicMember.objects.create(clinic=clinic, user=admin, role="admin")
        member = ClinicMember.objects.create(clinic=clinic, user=therapist, role="therapist")
        add(member, "clinic_member", f"clinic-member/{name}", "")
        inv = ClinicInvitation.objects.create(
            clinic=clinic,
            email=f"new-{name}@example.test",
            token_hash=hash_secret(uuid.uuid4().hex),
            created_by=admin,
            expires_at=timezone.now() + timedelta(days=7),
        )
        add(inv, "clinic_invitation", f"clinic-invitation/{name}", "")
    # What each holds, once everything is made (a link holds the homework made after it).
    for c in made:
        c.original = snapshot(c.label, c.obj)
    return made


def _members(couple_id: Any) -> list[Any]:
    from trellis.couples.models import Membership

    return list(
        Membership.objects.filter(couple_id=couple_id, left_at__isnull=True)
        .order_by("joined_at")
        .values_list("user_id", flat=True)
    )


def signs(c: MadeClinic) -> tuple[str, ...]:
    """What shows an answer is about this object: its id (in its links and forms) and, for
    homework and notes, the marker in its words."""
    return (str(c.obj.pk), c.marker) if c.marker else (str(c.obj.pk),)


# --- state and putting back ---------------------------------------------------------------------


def _rows(label: str, obj: Any) -> dict[str, Any]:
    from trellis.clinic.models import (
        Appointment,
        Homework,
        HomeworkAssignment,
        HomeworkCompletion,
        SessionNote,
    )
    from trellis.couples.models import Consent, ConsentScope

    model = _models()[label]
    rows: dict[str, Any] = {"self": model.objects.filter(pk=obj.pk)}
    if label == "clinic_link":
        rows["consents"] = Consent.objects.filter(link_id=obj.pk)
        rows["scopes"] = ConsentScope.objects.filter(consent__link_id=obj.pk)
        rows["homework"] = Homework.objects.filter(link_id=obj.pk)
        rows["appointments"] = Appointment.objects.filter(link_id=obj.pk)
        rows["notes"] = SessionNote.objects.filter(link_id=obj.pk)
    if label == "homework_assignment":
        rows["assignments"] = HomeworkAssignment.objects.filter(homework_id=obj.pk)
        rows["completions"] = HomeworkCompletion.objects.filter(assignment__homework_id=obj.pk)
    return rows


def snapshot(label: str, obj: Any) -> dict[str, Any]:
    return {kind: {row["id"]: row for row in qs.values()} for kind, qs in _rows(label, obj).items()}


def restore(c: MadeClinic) -> None:
    """Delete what the object did not hold when made, put back what it held."""
    rows = _rows(c.label, c.obj)
    for kind in reversed(list(rows)):
        rows[kind].exclude(pk__in=list(c.original[kind])).delete()
    for kind, qs in rows.items():
        model = qs.model
        for pk, values in c.original[kind].items():
            fields = {k: v for k, v in values.items() if k != "id"}
            if not model.objects.filter(pk=pk).update(**fields):
                model.objects.create(id=pk, **fields)


def fail_missing(what: str) -> None:
    pytest.fail(what)


# --- valid requests, by URL name (pages) and by method and path (API) ----------------------------
# A function of the object giving valid POST data, or None for a page that only answers GET.
# A new clinic page or API operation fails the matrix until it is given one here.


def _members_of(obj: Any) -> list[str]:
    return [str(m) for m in _members(obj.couple_id)]


def _soon(days: int = 3) -> str:
    return (timezone.localdate() + timedelta(days=days)).isoformat()


def _starts() -> str:
    return (timezone.localtime() + timedelta(days=9)).strftime("%Y-%m-%dT%H:%M")


def _consent_form(link: Any) -> dict[str, Any]:
    from tests.personas import PASSWORD

    return {
        "scopes": ["journal", "checkin"],
        "purpose": "Couples therapy, from the matrix",
        "until": _soon(60),
        "password": PASSWORD,
    }


CLINIC_PAGE_POSTS: dict[str, Any] = {
    "clinic:invite_cancel": lambda inv: {},
    "clinic:couple": None,
    "clinic:couple_end": lambda link: {},
    "clinic:homework_new": lambda link: {
        "idempotency_key": uuid.uuid4().hex,
        "kind": "task",
        "title": "A walk after dinner",
        "instructions": "",
        "due_on": _soon(),
        "assignees": _members_of(link),
    },
    "clinic:appointment_new": lambda link: {
        "kind": "session",
        "starts_at": _starts(),
        "minutes": "50",
    },
    "clinic:notes": None,
    "clinic:note_new": lambda link: {
        "kind": "session",
        "on_date": timezone.localdate().isoformat(),
        "body": "A note from the matrix.",
        "referral_to": "",
    },
    "clinic:homework_cancel": lambda hw: {},
    "clinic:appointment_cancel": lambda ap: {},
    "clinic:note_edit": lambda note: {
        "version": str(note.version),
        "kind": note.kind,
        "on_date": note.on_date.isoformat(),
        "body": "Changed by the matrix.",
        "referral_to": "",
    },
    "clinic:note_delete": lambda note: {},
    "clinic:consent": _consent_form,
    "clinic:consent_withdraw": lambda link: {},
    "clinic:link_end": lambda link: {},
    "clinic:homework": lambda hw: {"note": "Done, from the matrix.", "audience": "partner"},
    "clinic:member_end": lambda m: {},
    "clinic:clinic_invitation_cancel": lambda inv: {},
}


def page_post(url_name: str) -> Any:
    if url_name not in CLINIC_PAGE_POSTS:
        pytest.fail(
            f"The clinic page {url_name!r} has no entry in tests/security/clinic_objects.py "
            "CLINIC_PAGE_POSTS: give valid POST data for it, or None if it only answers GET."
        )
    return CLINIC_PAGE_POSTS[url_name]


def _api_consent(link: Any) -> dict[str, Any]:
    from tests.personas import PASSWORD

    return {
        "scopes": ["journal"],
        "purpose": "Couples therapy, over the API",
        "until": _soon(60),
        "password": PASSWORD,
    }


CLINIC_API_REQUESTS: dict[tuple[str, str], Any] = {
    ("post", "/api/clinic/caseload/{link_id}/homework"): lambda link: (
        {
            "kind": "task",
            "title": "A walk, over the API",
            "due_on": _soon(),
            "assignees": _members_of(link),
        },
        {"Idempotency-Key": uuid.uuid4().hex},
    ),
    ("post", "/api/clinic/caseload/{link_id}/appointments"): lambda link: (
        {"starts_at": (timezone.now() + timedelta(days=9)).isoformat(), "kind": "session"},
        {},
    ),
    ("post", "/api/clinic/caseload/{link_id}/notes"): lambda link: (
        {"kind": "session", "on_date": timezone.localdate().isoformat(), "body": "Over the API."},
        {},
    ),
    ("put", "/api/clinic/notes/{note_id}"): lambda note: (
        {"version": note.version, "body": "Changed over the API."},
        {},
    ),
    ("put", "/api/clinic/my/links/{link_id}/consent"): lambda link: (_api_consent(link), {}),
    ("post", "/api/clinic/my/homework/{homework_id}/complete"): lambda hw: (
        {"note": "Done, over the API.", "audience": "partner"},
        {},
    ),
}


def api_request(method: str, path: str, obj: Any, *, needs_body: bool) -> tuple[Any, dict]:
    make = CLINIC_API_REQUESTS.get((method, path))
    if make is None:
        if needs_body:
            pytest.fail(
                f"The API operation {method.upper()} {path} takes a clinic object's id and a "
                "body but tests/security/clinic_objects.py CLINIC_API_REQUESTS has none for it."
            )
        return None, {}
    return make(obj)
