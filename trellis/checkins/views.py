"""Check-in and trust-moment pages. Thin: access (sharing) -> form -> service -> redirect."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from trellis.core.forms import apply_errors
from trellis.core.http import AuthedRequest
from trellis.lib.dates import local_today
from trellis.sharing.audience_views import audience_form_for, audience_picker
from trellis.sharing.policy import record_reads
from trellis.sharing.registry import for_model
from trellis.sharing.services import allowed_audiences, default_audience
from trellis.sharing.views_meta import entry_view

from . import selectors, services
from .forms import AcknowledgeForm, CheckinForm, IntentionForm
from .models import DailyCheckin, TrustMoment

PAGE_SIZE = 14


@login_required
@require_http_methods(["GET", "POST"])
def today(request: AuthedRequest) -> HttpResponse:
    user = request.user
    day = local_today(user.time_zone)
    recovering = services.in_recovery(user)
    allowed = allowed_audiences(user, DailyCheckin.entry_type_label)
    conflict = None
    if request.method == "POST":
        form = CheckinForm(request.POST, allowed=allowed, in_recovery=recovering)
        if form.is_valid():
            data = dict(form.cleaned_data)
            audience = data.pop("audience")
            version = data.pop("version", None)
            try:
                checkin, created = services.checkin_save(
                    author=user,
                    data=data,
                    audience=audience,
                    expected_version=version,
                    recovering=recovering,
                    allowed=allowed,
                )
            except services.StaleVersion as stale:
                conflict = stale.current
                form.add_error(
                    None,
                    "Today's check-in was saved in another window after you opened this one. "
                    "Your choices are still here; check them and save again.",
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, "Check-in saved." if created else "Check-in updated.")
                return redirect("checkins:detail", pk=checkin.pk)
        existing = selectors.todays_checkin(user, day)
    else:
        existing = selectors.todays_checkin(user, day)
        if existing is not None:
            initial = {f: getattr(existing, f) for f in services.VALUE_FIELDS}
            initial.update(
                gratitude=existing.gratitude,
                note=existing.note,
                audience=existing.audience,
                version=existing.version,
            )
        else:
            initial = {"audience": default_audience(user, for_model(DailyCheckin))}
        form = CheckinForm(initial=initial, allowed=allowed, in_recovery=recovering)
    if conflict is not None:
        form.data = form.data.copy()  # type: ignore[attr-defined]
        form.data["version"] = str(conflict.version)  # type: ignore[index]
    return render(
        request,
        "checkins/today.html",
        {"form": form, "existing": existing, "day": day, "recovering": recovering},
        status=409 if conflict else 200,
    )


@login_required
@require_http_methods(["GET"])
@entry_view(DailyCheckin, "list")
def history(request: AuthedRequest) -> HttpResponse:
    scope = request.GET.get("show", "all")
    if scope not in {"all", "mine", "shared"}:
        scope = "all"
    page = Paginator(selectors.checkin_history_for_reader(request.user, scope=scope), PAGE_SIZE)
    checkins = page.get_page(request.GET.get("page"))
    record_reads(request.user, checkins, channel="page")
    return render(request, "checkins/history.html", {"checkins": checkins, "scope": scope})


@login_required
@require_http_methods(["GET"])
@entry_view(DailyCheckin, "read")
def detail(request: AuthedRequest, pk: str) -> HttpResponse:
    checkin = selectors.checkin_for_reader(request.user, pk, channel="page")
    is_author = checkin.author_id == request.user.pk
    return render(
        request,
        "checkins/detail.html",
        {
            "checkin": checkin,
            "entry": checkin,
            "is_author": is_author,
            "editable": is_author and services.checkin_editable(checkin, request.user),
            "form": audience_form_for(request, checkin) if is_author else None,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
@entry_view(DailyCheckin, "author")
def audience(request: AuthedRequest, pk: str) -> HttpResponse:
    checkin = selectors.checkin_for_author(request.user, pk)
    return audience_picker(
        request, checkin, audience_url_name="checkins:audience", detail_url_name="checkins:detail"
    )


@login_required
@require_http_methods(["GET"])
@entry_view(DailyCheckin, "author")
def revisions(request: AuthedRequest, pk: str) -> HttpResponse:
    checkin = selectors.checkin_for_author(request.user, pk)
    return render(
        request,
        "checkins/revisions.html",
        {"checkin": checkin, "revisions": selectors.revisions_of(checkin)[:50]},
    )


# --- Daily trust moment ------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
@entry_view(TrustMoment, "list")
def trust(request: AuthedRequest) -> HttpResponse:
    user = request.user
    day = local_today(user.time_zone)
    form = IntentionForm()
    if request.method == "POST":
        form = IntentionForm(request.POST)
        if form.is_valid():
            try:
                services.trust_moment_state(author=user, intention=form.cleaned_data["intention"])
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, "Today's intention is shared with your partner.")
                return redirect("checkins:trust")
    recovering = services.in_recovery(user)
    paused = services.trust_paused_for(user)
    moments = selectors.recent_trust_moments(user, limit=14)
    record_reads(user, moments, channel="page")
    mine_today = next((m for m in moments if m.author_id == user.pk and m.local_date == day), None)
    return render(
        request,
        "checkins/trust.html",
        {
            "form": form,
            "moments": moments,
            "mine_today": mine_today,
            "recovering": recovering,
            "paused": paused,
            "ack_form": AcknowledgeForm(),
        },
    )


@login_required
@require_http_methods(["GET"])
@entry_view(TrustMoment, "read")
def trust_detail(request: AuthedRequest, pk: str) -> HttpResponse:
    moment = selectors.trust_moment_for_reader(request.user, pk, channel="page")
    return render(
        request,
        "checkins/trust_detail.html",
        {
            "moment": moment,
            "entry": moment,
            "ack_form": AcknowledgeForm(),
            "can_acknowledge": moment.author_id != request.user.pk
            and request.user.role == "member",
        },
    )


@login_required
@require_http_methods(["POST"])
@entry_view(TrustMoment, "respond")
def trust_acknowledge(request: AuthedRequest, pk: str) -> HttpResponse:
    moment = selectors.trust_moment_for_reader(request.user, pk, channel="page")
    form = AcknowledgeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Keep your words of support under 500 characters.")
        return redirect("checkins:trust")
    try:
        services.trust_moment_acknowledge(
            partner=request.user, moment=moment, response=form.cleaned_data["response"]
        )
    except PermissionError:
        from django.http import Http404

        raise Http404 from None
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "You acknowledged today's intention.")
    return redirect("checkins:trust")


@login_required
@require_http_methods(["POST"])
def trust_pause(request: AuthedRequest) -> HttpResponse:
    try:
        if request.POST.get("action") == "resume":
            services.trust_practice_resume(user=request.user)
            messages.success(request, "The trust moment is back on.")
        else:
            services.trust_practice_pause(user=request.user)
            messages.success(request, "The trust moment is paused. No reason is needed.")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("checkins:trust")
