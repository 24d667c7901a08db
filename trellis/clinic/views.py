"""The therapist workspace's pages (SPEC C14). Thin: access -> form -> service -> redirect.

Three kinds of people use them, and each page checks which one it serves before anything else:
- a therapist (two-factor enforced by middleware): caseload, a couple's page, invitations,
  homework, appointments, private notes, their policy on confidences;
- a partner: linking a therapist, their own consent (and withdrawing it in one step), their own
  homework and its "done", which is an entry like any other;
- a clinic administrator: the clinic's therapists and invitations, never a couple or an entry.

Whatever takes an id answers 404 when it is not the asker's (denied looks like missing); the
services' `NotYours` becomes that 404, their `ValidationError` a 400 with the error beside its
field, and `Stale` a 409 with the person's draft kept. What a therapist reads of a couple is
only ever what `sharing` lets them read; opening an item on the timeline is the recorded read.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from trellis.core.forms import apply_errors
from trellis.core.http import AuthedRequest
from trellis.couples.models import TherapistLink
from trellis.journal.prompts import BY_KEY as JOURNAL_PROMPTS
from trellis.journal.prompts import PROMPTS
from trellis.lib.dates import local_today
from trellis.meetings.prompts import BUILTIN_SETS
from trellis.sharing.audience_views import audience_form_for, audience_picker
from trellis.sharing.audiences import AUDIENCE_EXPLAINED, Audience
from trellis.sharing.policy import authored_by, get_own_or_404, get_visible_or_404
from trellis.sharing.registry import entry_type, for_model
from trellis.sharing.selectors import readers_of_entry
from trellis.sharing.services import allowed_audiences, default_audience
from trellis.sharing.views_meta import entry_view

from . import selectors, services
from .forms import (
    AppointmentForm,
    ClinicInviteForm,
    CodeForm,
    CompleteForm,
    ConsentForm,
    HomeworkForm,
    NoteForm,
    PolicyForm,
)
from .models import (
    Appointment,
    ClinicInvitation,
    ClinicMember,
    Homework,
    HomeworkCompletion,
    LinkInvitation,
    SessionNote,
)

CHANNEL = "page"
CONSENT_DAYS = 90
STALE_NOTE = (
    "This note was saved in another window after you opened it. What you wrote is still below; "
    "the version saved meanwhile is shown underneath. Check both, then save again."
)


# --- who is asking -------------------------------------------------------------------------------


def _therapist(request: AuthedRequest) -> Any:
    if request.user.role != "therapist":
        raise Http404
    return request.user


def _member(request: AuthedRequest) -> Any:
    if request.user.role != "member":
        raise Http404
    return request.user


def _my_link(request: AuthedRequest, link_id: Any, *, active: bool = True) -> TherapistLink:
    link = selectors.therapist_link(_therapist(request), link_id, active=active)
    if link is None:
        raise Http404
    return link


def _couple_link(request: AuthedRequest, link_id: Any) -> TherapistLink:
    """A link of the partner's current couple space (the couple's side of it)."""
    try:
        return services.member_link(_member(request), link_id)
    except services.NotYours:
        raise Http404 from None


def _admin_clinic(request: AuthedRequest) -> Any:
    clinic = services.admin_clinic(request.user)
    if clinic is None:
        raise Http404
    return clinic


def _today(user: Any) -> Any:
    return local_today(user.time_zone)


def _scope_names(labels: list[str]) -> list[str]:
    names = []
    for label in labels:
        try:
            names.append(entry_type(label).verbose_name)
        except KeyError:
            continue
    return names


# --- the caseload --------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET"])
def caseload(request: AuthedRequest) -> HttpResponse:
    user = request.user
    if user.role == "member":
        return redirect("clinic:therapists")
    if user.role != "therapist":
        if services.admin_clinic(user) is not None:
            return redirect("clinic:admin")
        raise Http404
    rows = selectors.caseload(user, _today(user))
    cases = []
    for row in rows:
        names = {pc.person_id: pc.name for pc in row.partners}
        cases.append(
            {
                "row": row,
                "names": " & ".join(pc.name for pc in row.partners) or "A couple space",
                "badges": [f"{s.label} — {names.get(s.person_id, '')}" for s in row.signals],
            }
        )
    return render(
        request,
        "clinic/caseload.html",
        {
            "cases": cases,
            "ended": selectors.ended_links(user),
            "last_shared_days": selectors.LAST_SHARED_DAYS,
        },
    )


# --- inviting a couple ---------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def invite(request: AuthedRequest) -> HttpResponse:
    therapist = _therapist(request)
    if request.method == "POST":
        new = services.link_invitation_create(therapist=therapist)
        link = request.build_absolute_uri(reverse("clinic:link_token", args=[new.token]))
        return render(
            request,
            "clinic/invite_made.html",
            {"link": link, "code": new.code, "expires_at": new.invitation.expires_at},
        )
    return render(
        request,
        "clinic/invite.html",
        {"invitations": selectors.open_link_invitations(therapist)},
    )


@login_required
@require_http_methods(["POST"])
@entry_view(LinkInvitation, "clinician")
def invite_cancel(request: AuthedRequest, pk: Any) -> HttpResponse:
    try:
        services.link_invitation_cancel(therapist=_therapist(request), invitation_id=pk)
    except services.NotYours:
        raise Http404 from None
    messages.success(request, "The invitation was cancelled.")
    return redirect("clinic:invite")


# --- one couple ----------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET"])
@entry_view(TherapistLink, "clinician")
def couple(request: AuthedRequest, link_id: Any) -> HttpResponse:
    link = _my_link(request, link_id)
    therapist = request.user
    return render(request, "clinic/couple.html", _couple_context(therapist, link))


def _couple_context(therapist: Any, link: TherapistLink, **extra: Any) -> dict[str, Any]:
    today = _today(therapist)
    # Of the caseload's row, a couple's page needs the partners with their consents and the
    # warning signs (the link is the therapist's own and active: _my_link).
    members = selectors.partners_of(therapist, link)
    signals = selectors.signals_for(therapist, link, today)
    names = {pc.person_id: pc.name for pc in members}
    partners = [
        {
            "name": pc.name,
            "scopes": _scope_names(pc.scopes),
            "until": pc.until,
            "purpose": pc.purpose,
            "signals": [s.label for s in signals if s.person_id == pc.person_id],
        }
        for pc in members
    ]
    timeline = [
        (item, names.get(item.author_id, "A partner"))
        for item in selectors.timeline(therapist, link.couple_id)
    ]
    context = {
        "link": link,
        "names": " & ".join(pc.name for pc in members) or "A couple space",
        "partners": partners,
        "timeline": timeline,
        "homework": selectors.homework_for_link(therapist, link, today),
        "appointments": selectors.upcoming_appointments(link, limit=10),
        "appointment_form": AppointmentForm(
            time_zone=therapist.time_zone,
            initial={"kind": Appointment.Kind.SESSION, "minutes": 50},
        ),
    }
    context.update(extra)
    return context


@login_required
@require_http_methods(["GET", "POST"])
@entry_view(TherapistLink, "clinician")
def couple_end(request: AuthedRequest, link_id: Any) -> HttpResponse:
    link = _my_link(request, link_id)
    if request.method == "POST":
        try:
            services.link_end(actor=request.user, link_id=link.pk)
        except services.NotYours:
            raise Http404 from None
        messages.success(
            request,
            "The link has ended. Every consent on it ended with it; your private notes stay "
            "with you.",
        )
        return redirect("clinic:caseload")
    names = " & ".join(pc.name for pc in selectors.partners_of(request.user, link))
    return render(request, "clinic/end.html", {"link": link, "names": names, "side": "therapist"})


# --- homework ------------------------------------------------------------------------------------


def _homework_form(
    therapist: Any, link: TherapistLink, partners: list[Any], data: Any = None
) -> HomeworkForm:
    sets = [(key, spec["title"]) for key, spec in BUILTIN_SETS.items()]
    sets += [(str(ps.pk), ps.title) for ps in selectors.prompt_sets_for(therapist, link.couple_id)]
    return HomeworkForm(
        data,
        partners=[(str(pc.person_id), pc.name) for pc in partners],
        journal_prompts=[(p.key, p.text) for p in PROMPTS],
        prompt_sets=sets,
        initial={
            "idempotency_key": uuid.uuid4().hex,
            "kind": Homework.Kind.TASK,
            "due_on": _today(therapist) + timedelta(days=7),
            "assignees": [str(pc.person_id) for pc in partners],
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
@entry_view(TherapistLink, "clinician")
def homework_new(request: AuthedRequest, link_id: Any) -> HttpResponse:
    therapist = request.user
    link = _my_link(request, link_id)
    partners = selectors.partners_of(therapist, link)
    status = 200
    if request.method == "POST":
        form = _homework_form(therapist, link, partners, request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.homework_assign(
                    therapist=therapist,
                    link_id=link.pk,
                    kind=data["kind"],
                    title=data["title"],
                    instructions=data["instructions"],
                    due_on=data["due_on"],
                    assignees=data["assignees"],
                    ref=form.ref(),
                    idempotency_key=data.get("idempotency_key") or "",
                )
            except services.NotYours:
                raise Http404 from None
            except ValidationError as exc:
                if hasattr(exc, "error_dict") and "ref" in exc.error_dict:
                    form.add_error(form.ref_field(), exc.error_dict.pop("ref"))
                apply_errors(form, exc)
                status = 400
            else:
                messages.success(request, "The homework was assigned.")
                return redirect("clinic:couple", link_id=link.pk)
        else:
            status = 400
    else:
        form = _homework_form(therapist, link, partners)
    return render(
        request,
        "clinic/homework_new.html",
        {"form": form, "link": link, "names": " & ".join(pc.name for pc in partners)},
        status=status,
    )


@login_required
@require_http_methods(["POST"])
@entry_view(Homework, "clinician")
def homework_cancel(request: AuthedRequest, homework_id: Any) -> HttpResponse:
    try:
        link_id = services.homework_cancel(therapist=_therapist(request), homework_id=homework_id)
    except services.NotYours:
        raise Http404 from None
    messages.success(request, "The homework was taken back.")
    return redirect("clinic:couple", link_id=link_id)


# --- appointments --------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
@entry_view(TherapistLink, "clinician")
def appointment_new(request: AuthedRequest, link_id: Any) -> HttpResponse:
    therapist = request.user
    link = _my_link(request, link_id)
    status = 200
    if request.method == "POST":
        form = AppointmentForm(request.POST, time_zone=therapist.time_zone)
        if form.is_valid():
            try:
                services.appointment_create(
                    therapist=therapist, link_id=link.pk, **form.cleaned_data
                )
            except services.NotYours:
                raise Http404 from None
            except ValidationError as exc:
                apply_errors(form, exc)
                status = 400
            else:
                messages.success(request, "The session was added.")
                return redirect("clinic:couple", link_id=link.pk)
        else:
            status = 400
    else:
        form = AppointmentForm(
            time_zone=therapist.time_zone, initial={"kind": Appointment.Kind.SESSION, "minutes": 50}
        )
    return render(
        request, "clinic/appointment_new.html", {"form": form, "link": link}, status=status
    )


@login_required
@require_http_methods(["POST"])
@entry_view(Appointment, "clinician")
def appointment_cancel(request: AuthedRequest, appointment_id: Any) -> HttpResponse:
    try:
        link_id = services.appointment_cancel(
            therapist=_therapist(request), appointment_id=appointment_id
        )
    except services.NotYours:
        raise Http404 from None
    messages.success(request, "The session was cancelled.")
    return redirect("clinic:couple", link_id=link_id)


# --- private notes -------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET"])
@entry_view(TherapistLink, "clinician")
def notes(request: AuthedRequest, link_id: Any) -> HttpResponse:
    link = _my_link(request, link_id, active=False)
    return render(
        request,
        "clinic/notes.html",
        {"link": link, "notes": list(selectors.notes_for_link(request.user, link))},
    )


@login_required
@require_http_methods(["GET", "POST"])
@entry_view(TherapistLink, "clinician")
def note_new(request: AuthedRequest, link_id: Any) -> HttpResponse:
    therapist = request.user
    link = _my_link(request, link_id, active=False)
    status = 200
    if request.method == "POST":
        form = NoteForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.note_create(
                    therapist=therapist,
                    link_id=link.pk,
                    kind=data["kind"],
                    on_date=data["on_date"],
                    body=data["body"],
                    referral_to=data["referral_to"],
                )
            except services.NotYours:
                raise Http404 from None
            except ValidationError as exc:
                apply_errors(form, exc)
                status = 400
            else:
                messages.success(request, "Your note was saved.")
                return redirect("clinic:notes", link_id=link.pk)
        else:
            status = 400
    else:
        form = NoteForm(initial={"kind": SessionNote.Kind.SESSION, "on_date": _today(therapist)})
    return render(
        request,
        "clinic/note_form.html",
        {"form": form, "link": link, "note": None},
        status=status,
    )


def _own_note(request: AuthedRequest, note_id: Any) -> SessionNote:
    try:
        return services.own_note(_therapist(request), note_id)
    except services.NotYours:
        raise Http404 from None


@login_required
@require_http_methods(["GET", "POST"])
@entry_view(SessionNote, "clinician")
def note_edit(request: AuthedRequest, note_id: Any) -> HttpResponse:
    therapist = request.user
    note = _own_note(request, note_id)
    conflict = None
    status = 200
    if request.method == "POST":
        form = NoteForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.note_update(
                    therapist=therapist,
                    note_id=note.pk,
                    version=data.get("version") or 0,
                    body=data["body"],
                    on_date=data["on_date"],
                    kind=data["kind"],
                    referral_to=data["referral_to"],
                )
            except services.NotYours:
                raise Http404 from None
            except services.Stale:
                conflict = _own_note(request, note.pk)
                draft = request.POST.copy()
                draft["version"] = str(conflict.version)
                form = NoteForm(draft)
                form.is_valid()
                form.add_error(None, STALE_NOTE)
                status = 409
            except ValidationError as exc:
                apply_errors(form, exc)
                status = 400
            else:
                messages.success(request, "Your note was saved.")
                return redirect("clinic:notes", link_id=note.link_id)
        else:
            status = 400
    else:
        form = NoteForm(
            initial={
                "version": note.version,
                "kind": note.kind,
                "on_date": note.on_date,
                "body": note.body,
                "referral_to": note.referral_to,
            }
        )
    return render(
        request,
        "clinic/note_form.html",
        {"form": form, "link": note.link, "note": note, "conflict": conflict},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
@entry_view(SessionNote, "clinician")
def note_delete(request: AuthedRequest, note_id: Any) -> HttpResponse:
    note = _own_note(request, note_id)
    if request.method == "POST":
        try:
            services.note_delete(therapist=request.user, note_id=note.pk)
        except services.NotYours:
            raise Http404 from None
        messages.success(request, "The note was deleted.")
        return redirect("clinic:notes", link_id=note.link_id)
    return render(request, "clinic/note_delete.html", {"note": note})


# --- the therapist's settings --------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def therapist_settings(request: AuthedRequest) -> HttpResponse:
    therapist = _therapist(request)
    if request.method == "POST":
        form = PolicyForm(request.POST)
        if form.is_valid():
            services.therapist_policy_set(
                therapist=therapist, accepts_confidences=form.cleaned_data["accepts_confidences"]
            )
            messages.success(request, "Your policy was saved. Partners see it when they link.")
            return redirect("clinic:settings")
    else:
        form = PolicyForm(initial={"accepts_confidences": therapist.accepts_confidences})
    return render(request, "clinic/settings.html", {"form": form})


# --- the couple's side: our therapist ------------------------------------------------------------


def _therapists_page(
    request: AuthedRequest, *, code_form: CodeForm | None = None, status: int = 200
) -> HttpResponse:
    user = request.user
    links = selectors.member_links(user)
    consents = selectors.my_consents(user, [lk.pk for lk in links])
    upcoming = selectors.upcoming_appointments_by_link([lk for lk in links if lk.ended_at is None])
    cards = []
    for link in links:
        consent = consents.get(link.pk)
        cards.append(
            {
                "link": link,
                "consent": consent,
                "scopes": _scope_names([s.entry_type for s in consent.scopes.all()])
                if consent
                else [],
                "appointments": upcoming.get(link.pk, []),
            }
        )
    from trellis.couples.selectors import partner_of

    return render(
        request,
        "clinic/therapists.html",
        {"cards": cards, "code_form": code_form or CodeForm(), "partner": partner_of(user)},
        status=status,
    )


@login_required
@require_http_methods(["GET"])
def therapists(request: AuthedRequest) -> HttpResponse:
    _member(request)
    return _therapists_page(request)


@login_required
@require_http_methods(["POST"])
def link_code(request: AuthedRequest) -> HttpResponse:
    user = _member(request)
    form = CodeForm(request.POST)
    if form.is_valid():
        try:
            link = services.link_accept(user=user, secret=form.cleaned_data["code"])
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _linked_message(link))
            return redirect("clinic:therapists")
    return _therapists_page(request, code_form=form, status=400)


def _linked_message(link: TherapistLink) -> str:
    return (
        f"You are linked with {link.therapist.display_name}. They see nothing yet: each of you "
        "decides for yourself what they may read."
    )


@login_required
@require_http_methods(["GET", "POST"])
def link_token(request: AuthedRequest, token: str) -> HttpResponse:
    user = request.user
    if request.method == "POST":
        try:
            link = services.link_accept(user=user, secret=token)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("clinic:therapists" if user.role == "member" else "home")
        messages.success(request, _linked_message(link))
        return redirect("clinic:therapists")
    invitation = services.link_invitation_find(token)
    return render(
        request,
        "clinic/link_confirm.html",
        {
            "invitation": invitation,
            "therapist": invitation.therapist if invitation else None,
            "can_link": user.role == "member",
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
@entry_view(TherapistLink, "couple")
def consent(request: AuthedRequest, link_id: Any) -> HttpResponse:
    user = request.user
    link = _couple_link(request, link_id)
    if link.ended_at is not None:
        raise Http404
    status = 200
    if request.method == "POST":
        form = ConsentForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            if not user.check_password(data["password"]):
                form.add_error("password", "That password doesn't match. Try again.")
                status = 400
            else:
                try:
                    services.consent_set(
                        user=user,
                        link_id=link.pk,
                        scopes=data["scopes"],
                        purpose=data["purpose"],
                        until=data["until"],
                    )
                except services.NotYours:
                    raise Http404 from None
                except ValidationError as exc:
                    if hasattr(exc, "error_dict") and "expires_at" in exc.error_dict:
                        form.add_error("until", exc.error_dict.pop("expires_at"))
                    apply_errors(form, exc)
                    status = 400
                else:
                    messages.success(
                        request,
                        f"Saved. From now on {link.therapist.display_name} can read only what "
                        "you chose, until the date you set.",
                    )
                    return redirect("clinic:therapists")
        else:
            status = 400
    # The consent in force, beside the form (read only when the page is shown).
    current = selectors.my_consents(user, [link.pk]).get(link.pk)
    if request.method != "POST":
        today = _today(user)
        form = ConsentForm(
            initial={
                "scopes": [s.entry_type for s in current.scopes.all()] if current else [],
                "purpose": current.purpose if current else "Our couples therapy",
                "until": today + timedelta(days=CONSENT_DAYS),
            }
        )
    from trellis.couples.selectors import partner_of

    return render(
        request,
        "clinic/consent.html",
        {"form": form, "link": link, "current": current, "partner": partner_of(user)},
        status=status,
    )


@login_required
@require_http_methods(["POST"])
@entry_view(TherapistLink, "couple")
def consent_withdraw(request: AuthedRequest, link_id: Any) -> HttpResponse:
    user = request.user
    link = _couple_link(request, link_id)
    try:
        n = services.consent_withdraw(user=user, link_id=link.pk)
    except services.NotYours:
        raise Http404 from None
    if n:
        messages.success(
            request,
            f"Your consent is withdrawn. {link.therapist.display_name} can no longer read "
            "anything of yours, from this moment.",
        )
    else:
        messages.info(request, "There was no consent to withdraw.")
    return redirect("clinic:therapists")


@login_required
@require_http_methods(["GET", "POST"])
@entry_view(TherapistLink, "couple")
def link_end(request: AuthedRequest, link_id: Any) -> HttpResponse:
    link = _couple_link(request, link_id)
    if link.ended_at is not None:
        return redirect("clinic:therapists")
    if request.method == "POST":
        try:
            services.link_end(actor=request.user, link_id=link.pk)
        except services.NotYours:
            raise Http404 from None
        messages.success(
            request,
            f"The link with {link.therapist.display_name} has ended, with every consent on it.",
        )
        return redirect("clinic:therapists")
    return render(
        request,
        "clinic/end.html",
        {"link": link, "names": link.therapist.display_name, "side": "couple"},
    )


# --- the couple's side: homework -----------------------------------------------------------------

# Done homework is paged: a long therapy leaves a long list (QUALITY P1/P2).
DONE_PAGE_SIZE = 20


@login_required
@require_http_methods(["GET"])
def my_homework(request: AuthedRequest) -> HttpResponse:
    user = _member(request)
    today = _today(user)
    to_do, done = selectors.my_homework(user)
    return render(
        request,
        "clinic/my_homework.html",
        {
            "open": to_do,
            "done": Paginator(done, DONE_PAGE_SIZE).get_page(request.GET.get("page")),
            "today": today,
        },
    )


def _assignment(request: AuthedRequest, homework_id: Any) -> Any:
    try:
        return services.my_assignment(_member(request), homework_id)
    except services.NotYours:
        raise Http404 from None


@login_required
@require_http_methods(["GET", "POST"])
@entry_view(Homework, "assignee")
def homework_detail(request: AuthedRequest, homework_id: Any) -> HttpResponse:
    user = request.user
    assignment = _assignment(request, homework_id)
    homework = assignment.homework
    done = authored_by(user, HomeworkCompletion).filter(assignment=assignment).first()
    allowed = allowed_audiences(user, HomeworkCompletion.entry_type_label)
    status = 200
    if request.method == "POST" and done is not None:
        # Already done (a double tap, a retried request): one "done" is kept.
        return redirect("clinic:completion", pk=done.pk)
    if request.method == "POST":
        form = CompleteForm(request.POST, allowed=allowed)
        if form.is_valid():
            try:
                completion, _ = services.homework_complete(
                    user=user,
                    homework_id=homework.pk,
                    note=form.cleaned_data["note"],
                    audience=form.cleaned_data["audience"],
                )
            except services.NotYours:
                raise Http404 from None
            except ValidationError as exc:
                apply_errors(form, exc)
                status = 400
            else:
                messages.success(request, "Marked as done. Well done for making the time.")
                return redirect("clinic:completion", pk=completion.pk)
        else:
            status = 400
    else:
        form = CompleteForm(
            allowed=allowed,
            initial={"audience": default_audience(user, for_model(HomeworkCompletion)).value},
        )
    return render(
        request,
        "clinic/homework.html",
        {
            "assignment": assignment,
            "homework": homework,
            "done": done,
            "form": form,
            "today": _today(user),
            "audience_explained": AUDIENCE_EXPLAINED,
            "therapist_name": homework.therapist.display_name,
            "prompt": JOURNAL_PROMPTS.get(homework.ref),
            "set_title": _set_title(homework),
            "who_sees": _who_sees(user, homework) if done is None else {},
        },
        status=status,
    )


def _set_title(homework: Homework) -> str:
    if homework.kind != Homework.Kind.MEETING_PROMPTS:
        return ""
    if homework.ref in BUILTIN_SETS:
        return str(BUILTIN_SETS[homework.ref]["title"])
    found = selectors.prompt_sets_for(homework.therapist, homework.couple_id)
    return next((ps.title for ps in found if str(ps.pk) == homework.ref), "")


def _who_sees(user: Any, homework: Homework) -> dict[str, str]:
    """Plainly, for each audience: who will see that this homework is done."""
    from trellis.couples.selectors import partner_of

    therapist = homework.therapist.display_name
    consent = selectors.my_consents(user, [homework.link_id]).get(homework.link_id)
    covered = consent is not None and any(
        s.entry_type == HomeworkCompletion.entry_type_label for s in consent.scopes.all()
    )
    partner = partner_of(user)
    them = partner.display_name if partner is not None else "Your partner"
    if covered:
        both = f"{them} and {therapist} will see that it's done."
        alone = f"Only {therapist} will see that it's done; {them} won't."
    else:
        both = (
            f"{them} will see that it's done. {therapist} will see it only once your consent "
            "includes “Homework I completed”."
        )
        alone = f"Only {therapist}, once your consent includes “Homework I completed”."
    return {
        Audience.ONLY_ME: "Only you will see that it's done.",
        Audience.PARTNER: f"{them} will see that it's done; {therapist} won't.",
        Audience.PARTNER_THERAPIST: both,
        Audience.THERAPIST: alone,
    }


# --- a homework "done": an entry -----------------------------------------------------------------


@login_required
@require_http_methods(["GET"])
@entry_view(HomeworkCompletion, "read")
def completion(request: AuthedRequest, pk: Any) -> HttpResponse:
    user = request.user
    done = get_visible_or_404(user, HomeworkCompletion, pk, channel=CHANNEL)
    is_author = done.author_id == user.pk
    homework = done.assignment.homework
    return render(
        request,
        "clinic/completion.html",
        {
            "entry": done,
            "homework": homework,
            "is_author": is_author,
            "form": audience_form_for(request, done) if is_author else None,
            "audience_explained": AUDIENCE_EXPLAINED,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
@entry_view(HomeworkCompletion, "author")
def completion_audience(request: AuthedRequest, pk: Any) -> HttpResponse:
    done = get_own_or_404(request.user, HomeworkCompletion, pk)
    return audience_picker(
        request,
        done,
        audience_url_name="clinic:completion_audience",
        detail_url_name="clinic:completion",
    )


@login_required
@require_http_methods(["GET", "POST"])
@entry_view(HomeworkCompletion, "author")
def completion_delete(request: AuthedRequest, pk: Any) -> HttpResponse:
    done = get_own_or_404(request.user, HomeworkCompletion, pk)
    if request.method == "POST":
        homework_id = done.assignment.homework_id
        services.completion_delete(user=request.user, completion=done)
        messages.success(request, "The “done” was taken back. The homework is open again.")
        return redirect("clinic:homework", homework_id=homework_id)
    return render(request, "clinic/completion_delete.html", {"entry": done})


@login_required
@require_http_methods(["GET"])
@entry_view(HomeworkCompletion, "author")
def completion_readers(request: AuthedRequest, pk: Any) -> HttpResponse:
    done = get_own_or_404(request.user, HomeworkCompletion, pk)
    events = readers_of_entry(request.user, done)[:200]
    return render(request, "clinic/completion_readers.html", {"entry": done, "events": events})


# --- the clinic administrator ----------------------------------------------------------------------


def _admin_page(
    request: AuthedRequest, clinic: Any, *, form: ClinicInviteForm | None = None, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "clinic/admin.html",
        {
            "clinic": clinic,
            "therapists": selectors.clinic_therapists(clinic),
            "invitations": selectors.open_clinic_invitations(clinic),
            "form": form or ClinicInviteForm(),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def clinic_admin(request: AuthedRequest) -> HttpResponse:
    clinic = _admin_clinic(request)
    if request.method == "POST":
        form = ClinicInviteForm(request.POST)
        if form.is_valid():
            try:
                new = services.clinic_invite(admin=request.user, email=form.cleaned_data["email"])
            except services.NotYours:
                raise Http404 from None
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                link = request.build_absolute_uri(reverse("clinic:join", args=[new.token]))
                return render(
                    request,
                    "clinic/admin_invite_made.html",
                    {
                        "link": link,
                        "email": new.invitation.email,
                        "expires_at": new.invitation.expires_at,
                    },
                )
        return _admin_page(request, clinic, form=form, status=400)
    return _admin_page(request, clinic)


@login_required
@require_http_methods(["GET", "POST"])
@entry_view(ClinicMember, "clinic_admin")
def clinic_member_end(request: AuthedRequest, pk: Any) -> HttpResponse:
    clinic = _admin_clinic(request)
    member = selectors.clinic_member_for_admin(clinic, pk)
    if member is None:
        raise Http404
    if request.method == "POST":
        try:
            services.clinic_member_end(admin=request.user, member_id=member.pk)
        except services.NotYours:
            raise Http404 from None
        messages.success(request, f"{member.user.display_name} is no longer in the clinic.")
        return redirect("clinic:admin")
    return render(request, "clinic/admin_member_end.html", {"member": member, "clinic": clinic})


@login_required
@require_http_methods(["POST"])
@entry_view(ClinicInvitation, "clinic_admin")
def clinic_invitation_cancel(request: AuthedRequest, pk: Any) -> HttpResponse:
    try:
        services.clinic_invitation_cancel(admin=request.user, invitation_id=pk)
    except services.NotYours:
        raise Http404 from None
    messages.success(request, "The invitation was cancelled.")
    return redirect("clinic:admin")


@login_required
@require_http_methods(["GET", "POST"])
def clinic_join(request: AuthedRequest, token: str) -> HttpResponse:
    if request.method == "POST":
        try:
            member = services.clinic_invitation_accept(user=request.user, token=token)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("home")
        messages.success(request, f"Welcome to {member.clinic.name}.")
        return redirect("clinic:caseload")
    invitation = services.clinic_invitation_find(token)
    return render(request, "clinic/join.html", {"invitation": invitation})
