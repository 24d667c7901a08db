"""Weekly meeting pages. Thin: access (sharing / couple membership) -> form -> service."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from trellis.core.http import AuthedRequest
from trellis.couples.selectors import partner_of
from trellis.sharing.audience_views import audience_picker
from trellis.sharing.views_meta import entry_view

from . import selectors, services
from .models import Meeting, MeetingAnswer, MeetingNote
from .prompts import BUILTIN_SETS, SECTIONS, blame_hint


@login_required
@require_http_methods(["GET", "POST"])
def meeting_list(request: AuthedRequest) -> HttpResponse:
    if request.method == "POST":
        try:
            meeting, created = services.meeting_start(
                user=request.user, prompt_set=request.POST.get("prompt_set", "weekly")
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("meetings:list")
        if not created:
            messages.info(request, "This week's meeting had already been started; here it is.")
        return redirect("meetings:detail", pk=meeting.pk)
    meetings = selectors.meeting_summaries_for_member(request.user, limit=26)
    return render(
        request,
        "meetings/list.html",
        {"meetings": meetings, "sets": BUILTIN_SETS, "partner": partner_of(request.user)},
    )


def _meeting_context(request: AuthedRequest, meeting: Meeting) -> dict[str, object]:
    answers, notes = selectors.meeting_entries_visible(request.user, meeting, channel="page")
    mine = next((a for a in answers if a.author_id == request.user.pk), None)
    theirs = next((a for a in answers if a.author_id != request.user.pk), None)
    my_values = selectors.decoded(mine)
    their_values = selectors.decoded(theirs) if meeting.revealed_at else {}
    rows = [
        {
            "prompt": p,
            "section": SECTIONS.get(p["section"], p["section"]),
            "mine": my_values.get(p["key"], ""),
            "theirs": their_values.get(p["key"], ""),
        }
        for p in meeting.prompts
    ]
    # The partner's name is shown next to their answers, after the reveal only. Their visible
    # answer's author is that partner (the other of at most two current members: the policy
    # shows another's answer only while its author is still a member of this couple space).
    if not meeting.revealed_at:
        partner = None
    elif theirs is not None:
        partner = theirs.author
    else:
        partner = partner_of(request.user)
    return {
        "meeting": meeting,
        "rows": rows,
        "mine": mine,
        "theirs": theirs,
        "partner": partner,
        "notes": notes,
        "kinds": MeetingNote.Kind.choices,
    }


@login_required
@require_http_methods(["GET"])
@entry_view(Meeting, "couple")
def meeting_detail(request: AuthedRequest, pk: str) -> HttpResponse:
    meeting = selectors.meeting_for_member(request.user, pk)
    return render(request, "meetings/detail.html", _meeting_context(request, meeting))


@login_required
@require_http_methods(["POST"])
@entry_view(Meeting, "couple")
def meeting_answer(request: AuthedRequest, pk: str) -> HttpResponse:
    meeting = selectors.meeting_for_member(request.user, pk)
    action = request.POST.get("action", "save")
    try:
        if action == "withdraw":
            services.answer_withdraw(author=request.user, meeting=meeting)
            messages.success(
                request, "Your answers are back to a draft. Your partner never saw them."
            )
        else:
            answers = {
                p["key"]: request.POST.get(f"answer_{p['key']}", "") for p in meeting.prompts
            }
            saved = services.answer_save(
                author=request.user,
                meeting=meeting,
                answers=answers,
                submit=action == "submit",
                audience=request.POST.get("audience", "partner"),
            )
            meeting = saved.meeting  # as the save left it: revealed or not
            if action != "submit":
                text = "Draft saved. Only you can see it."
            elif meeting.revealed_at:
                text = "Submitted. You have both answered: here are your answers, side by side."
            else:
                text = "Submitted. Your answers are revealed to both of you once you have both answered."
            messages.success(request, text)
    except ValidationError as exc:
        context = _meeting_context(request, meeting)
        context["errors"] = exc.messages
        return render(request, "meetings/detail.html", context, status=400)
    return redirect("meetings:detail", pk=meeting.pk)


@login_required
@require_http_methods(["POST"])
@entry_view(Meeting, "couple")
def meeting_note(request: AuthedRequest, pk: str) -> HttpResponse:
    meeting = selectors.meeting_for_member(request.user, pk)
    kind = request.POST.get("kind", "note")
    if kind == "i_statement" and request.POST.get("felt"):
        text = (
            f"I felt {request.POST.get('felt', '').strip()} when {request.POST.get('when', '').strip()} "
            f"because {request.POST.get('because', '').strip()}; "
            f"I would like {request.POST.get('would_like', '').strip()}."
        )
    else:
        text = request.POST.get("text", "")
    hint = blame_hint(text)
    if hint and not request.POST.get("keep_wording"):
        context = _meeting_context(request, meeting)
        context.update(hint=hint, draft=text, draft_kind=kind)
        return render(request, "meetings/detail.html", context)
    try:
        services.note_add(author=request.user, meeting=meeting, kind=kind, text=text)
    except ValidationError as exc:
        context = _meeting_context(request, meeting)
        context.update(errors=exc.messages, draft=text, draft_kind=kind)
        return render(request, "meetings/detail.html", context, status=400)
    messages.success(request, "Added.")
    return redirect("meetings:detail", pk=meeting.pk)


@login_required
@require_http_methods(["POST"])
@entry_view(Meeting, "couple")
def meeting_close(request: AuthedRequest, pk: str) -> HttpResponse:
    meeting = selectors.meeting_for_member(request.user, pk)
    try:
        version = int(request.POST.get("version", "0"))
    except ValueError:
        version = 0
    try:
        services.meeting_close(user=request.user, meeting=meeting, expected_version=version)
    except services.MeetingStale:
        messages.info(
            request, "The meeting changed a moment ago; have a look, then close it again."
        )
    else:
        messages.success(request, "Meeting closed. Well done for taking the time together.")
    return redirect("meetings:detail", pk=meeting.pk)


@login_required
@require_http_methods(["GET"])
@entry_view(MeetingAnswer, "read")
def answer_detail(request: AuthedRequest, pk: str) -> HttpResponse:
    answer = selectors.answer_for_reader(request.user, pk, channel="page")
    values = selectors.decoded(answer)
    rows = [
        {
            "prompt": p,
            "section": SECTIONS.get(p["section"], p["section"]),
            "text": values.get(p["key"], ""),
        }
        for p in answer.meeting.prompts
    ]
    return render(request, "meetings/answer.html", {"answer": answer, "rows": rows})


@login_required
@require_http_methods(["GET"])
@entry_view(MeetingNote, "read")
def note_detail(request: AuthedRequest, pk: str) -> HttpResponse:
    note = selectors.note_for_reader(request.user, pk, channel="page")
    return render(request, "meetings/note.html", {"note": note, "entry": note})


@login_required
@require_http_methods(["GET", "POST"])
@entry_view(MeetingNote, "author")
def note_audience(request: AuthedRequest, pk: str) -> HttpResponse:
    note = selectors.note_for_author(request.user, pk)
    return audience_picker(
        request, note, audience_url_name="meetings:note_audience", detail_url_name="meetings:note"
    )


@login_required
@require_http_methods(["POST"])
@entry_view(MeetingNote, "respond")
def note_confirm(request: AuthedRequest, pk: str) -> HttpResponse:
    note = selectors.note_for_reader(request.user, pk, channel="page")
    try:
        services.reflection_confirm(
            speaker=request.user, note=note, confirmed=request.POST.get("confirmed") == "yes"
        )
    except PermissionError:
        raise Http404 from None
    return redirect("meetings:detail", pk=note.meeting_id)
