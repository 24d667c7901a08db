"""Recovery pages (SPEC C7). Thin: access (sharing) -> form -> service -> redirect.

Every track, lapse, plan and "I'm struggling" message is an entry: pages that take an id read
it through the selectors (`*_for_reader` records the read; `*_for_author` is the author's own
only), and every write goes through `services`, whose ValidationError becomes a 400 with the
errors next to their fields and whose StaleVersion becomes a 409 with the person's draft kept.
Titles stay discreet ("Recovery · Trellis"); flash messages never repeat what anyone wrote.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from trellis.core.forms import apply_errors
from trellis.core.http import AuthedRequest
from trellis.couples.selectors import partner_of
from trellis.lib.dates import local_today
from trellis.sharing.audience_views import audience_form_for, audience_picker
from trellis.sharing.audiences import AUDIENCE_EXPLAINED, Audience
from trellis.sharing.registry import for_model
from trellis.sharing.services import allowed_audiences, default_audience
from trellis.sharing.views_meta import entry_view

from . import counting, selectors, services
from . import plan as plan_shape
from .forms import CIRCLES, LapseForm, SupportForm, TrackEditForm, TrackForm
from .models import Lapse, RecoveryPlan, RecoveryTrack, SupportMessage

CHANNEL = "page"

# When a person has no plan yet (or no coping steps in it): a few general steps, ours.
GENERAL_STEPS = (
    "Pause and breathe: in for a count of four, out for a count of six, a few times.",
    "Change where you are: step outside, move to another room, or walk around the block.",
    "Delay: tell yourself you will wait ten minutes, and let the timer below keep you company.",
    "Reach out: call or message someone you trust, even just to say it is a hard moment.",
    "Look after the basics: drink some water, eat something, rest if you are worn out.",
)

HALT_LABELS = {"hungry": "Hungry", "angry": "Angry", "lonely": "Lonely", "tired": "Tired"}
BLANK_ROWS = {"situations": 3, "warning_signs": 3, "contacts": 2}
ROW_FIELDS = {"situations": ("situation", "coping"), "contacts": ("name", "how", "email")}
TEXT_SECTIONS = ("lifestyle", "lapse_plan", "reasons", "partner_can")
PHONE = re.compile(r"^\+?[\d\s().-]{6,20}$")
STALE_PLAN = (
    "Your plan was saved in another window after you opened this page. What you wrote is "
    "still below; the version saved meanwhile is listed underneath. Check both, then save again."
)
STALE_TRACK = (
    "This track was changed in another window after you opened this page. What you wrote is "
    "still below; the saved version is shown underneath. Check both, then save again."
)


def _partner_name(user: Any) -> str:
    partner = partner_of(user)
    return partner.display_name if partner is not None else ""


# --- day counts, shaped for the templates ------------------------------------------------------


@dataclass(frozen=True)
class EarlierRun:
    start: date
    last_day: date  # the last recovery day of the run (the day before the lapse)
    days: int
    milestones: tuple[counting.Milestone, ...]


@dataclass
class TrackCard:
    track: RecoveryTrack
    counts: counting.Counts
    mine: bool
    earlier: list[EarlierRun] = field(default_factory=list)

    @property
    def latest(self) -> counting.Milestone | None:
        return self.counts.reached[-1] if self.counts.reached else None

    @property
    def upcoming(self) -> counting.Milestone | None:
        """The next milestone, also when the new run begins tomorrow (a lapse logged today)."""
        c = self.counts
        return c.upcoming or counting.next_milestone(c.run_start, c.today)

    @property
    def recent(self) -> counting.Milestone | None:
        """This run's milestone reached in the last seven days, to celebrate."""
        m = self.latest
        return m if m is not None and (self.counts.today - m.on).days < 7 else None


def _cards(user: Any, tracks: list[RecoveryTrack]) -> list[TrackCard]:
    counts = selectors.counts_for(tracks)
    cards = []
    for t in tracks:
        c = counts[t.pk]
        earlier = [
            EarlierRun(run.start, run.end - timedelta(days=1), run.days, milestones)
            for run, milestones in reversed(c.earlier)
            if run.end is not None and run.days > 0
        ]
        cards.append(TrackCard(t, c, t.author_id == user.pk, earlier))
    return cards


# --- the recovery home -------------------------------------------------------------------------


@login_required
@require_http_methods(["GET"])
@entry_view(RecoveryTrack, "list")
def home(request: AuthedRequest) -> HttpResponse:
    user = request.user
    mine_all, shared, plans = selectors.recovery_home_for(user, channel=CHANNEL)
    open_mine = [t for t in mine_all if t.ended_at is None]
    cards = _cards(user, [*open_mine, *shared])
    return render(
        request,
        "recovery/home.html",
        {
            "mine": [c for c in cards if c.mine],
            "shared": [c for c in cards if not c.mine],
            "ended": [t for t in mine_all if t.ended_at is not None],
            "my_plan": next((p for p in plans if p.author_id == user.pk), None),
            "shared_plans": [p for p in plans if p.author_id != user.pk],
            "sent": _recent_sent(user),
        },
    )


def _recent_sent(user: Any) -> list[SupportMessage]:
    """My "I'm struggling" messages of the last week (the latest five), with any reply."""
    return list(selectors.my_messages(user, limit=5, days=7))


# --- tracks ------------------------------------------------------------------------------------


def _track_audiences(user: Any) -> list[Audience]:
    return allowed_audiences(user, RecoveryTrack.entry_type_label)


@login_required
@require_http_methods(["GET", "POST"])
def track_new(request: AuthedRequest) -> HttpResponse:
    user = request.user
    allowed = _track_audiences(user)
    status = 200
    if request.method == "POST":
        form = TrackForm(request.POST, allowed=allowed)
        if form.is_valid():
            try:
                track = services.track_add(user=user, **form.cleaned_data)
            except ValidationError as exc:
                apply_errors(form, exc)
                status = 400
            else:
                messages.success(request, "Your track was added.")
                return redirect("recovery:track", pk=track.pk)
        else:
            status = 400
    else:
        form = TrackForm(
            allowed=allowed,
            initial={
                "since": local_today(user.time_zone).isoformat(),
                "audience": default_audience(user, for_model(RecoveryTrack)).value,
            },
        )
    return render(
        request,
        "recovery/track_new.html",
        {"form": form, "audience_explained": AUDIENCE_EXPLAINED, "partner": _partner_name(user)},
        status=status,
    )


@login_required
@require_http_methods(["GET"])
@entry_view(RecoveryTrack, "read")
def track_detail(request: AuthedRequest, pk: str) -> HttpResponse:
    user = request.user
    track = selectors.track_for_reader(user, pk, channel=CHANNEL)
    card = _cards(user, [track])[0]
    lapses = selectors.lapse_days_visible(user, track, channel=CHANNEL)
    return render(
        request,
        "recovery/track.html",
        {
            "card": card,
            "track": track,
            "entry": track,
            "is_author": card.mine,
            "lapses": lapses,
            "circles": [(label, getattr(track, name)) for name, label, _ in CIRCLES],
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
@entry_view(RecoveryTrack, "author")
def track_edit(request: AuthedRequest, pk: str) -> HttpResponse:
    user = request.user
    track = selectors.track_for_author(user, pk)
    conflict = None
    status = 200
    if request.method == "POST":
        form = TrackEditForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.track_update(
                    user=user,
                    track=track,
                    expected_version=data.get("version"),
                    goal_kind=data["goal_kind"],
                    goal=data["goal"],
                    inner_circle=data["inner_circle"],
                    middle_circle=data["middle_circle"],
                    outer_circle=data["outer_circle"],
                )
            except services.StaleVersion as stale:
                conflict = stale.current
                form = _keep_draft(TrackEditForm, request.POST, version=conflict.version)
                form.add_error(None, STALE_TRACK)
                status = 409
            except ValidationError as exc:
                apply_errors(form, exc)
                status = 400
            else:
                messages.success(request, "Your goal was saved.")
                return redirect("recovery:track", pk=track.pk)
        else:
            status = 400
    else:
        form = TrackEditForm(
            initial={
                "version": track.version,
                "goal_kind": track.goal_kind,
                "goal": track.goal,
                "inner_circle": track.inner_circle,
                "middle_circle": track.middle_circle,
                "outer_circle": track.outer_circle,
            }
        )
    return render(
        request,
        "recovery/track_edit.html",
        {
            "form": form,
            "track": track,
            "conflict": conflict,
            "conflict_circles": (
                [(label, getattr(conflict, name)) for name, label, _ in CIRCLES]
                if conflict is not None
                else []
            ),
        },
        status=status,
    )


def _keep_draft(form_class: Any, post: QueryDict, *, version: Any) -> Any:
    """The person's draft on a form moved onto the version saved meanwhile."""
    data = post.copy()
    data["version"] = str(version)
    form = form_class(data)
    form.is_valid()
    return form


@login_required
@require_http_methods(["POST"])
@entry_view(RecoveryTrack, "author")
def track_end(request: AuthedRequest, pk: str) -> HttpResponse:
    track = selectors.track_for_author(request.user, pk)
    services.track_end(user=request.user, track=track)
    messages.success(
        request, "The track has ended. Its days, runs and milestones stay in your story."
    )
    return redirect("recovery:home")


@login_required
@require_http_methods(["GET", "POST"])
@entry_view(RecoveryTrack, "author")
def track_audience(request: AuthedRequest, pk: str) -> HttpResponse:
    track = selectors.track_for_author(request.user, pk)
    return audience_picker(
        request,
        track,
        audience_url_name="recovery:track_audience",
        detail_url_name="recovery:track",
    )


# --- lapses ------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
@entry_view(RecoveryTrack, "author")
def lapse_new(request: AuthedRequest, pk: str) -> HttpResponse:
    user = request.user
    track = selectors.track_for_author(user, pk)
    if track.ended_at is not None and request.method == "GET":
        messages.info(request, "This track has ended, so there is nothing more to log on it.")
        return redirect("recovery:track", pk=track.pk)
    allowed = allowed_audiences(user, Lapse.entry_type_label)
    partner = _partner_name(user)
    today = local_today(user.time_zone)
    status = 200
    if request.method == "POST":
        form = LapseForm(request.POST, allowed=allowed, partner_name=partner)
        if form.is_valid():
            try:
                lapse = services.lapse_log(user=user, track=track, **form.cleaned_data)
            except ValidationError as exc:
                apply_errors(form, exc)
                status = 400
            else:
                messages.success(
                    request,
                    "Saved. Thank you for writing it down: that takes courage. Your recovery "
                    "days are all still counted.",
                )
                return redirect("recovery:lapse", pk=lapse.pk)
        else:
            status = 400
    else:
        form = LapseForm(
            allowed=allowed,
            partner_name=partner,
            initial={
                "local_date": today.isoformat(),
                "audience": default_audience(user, for_model(Lapse)).value,
            },
        )
    content = selectors.plan_content(selectors.my_plan(user))
    return render(
        request,
        "recovery/lapse_new.html",
        {
            "form": form,
            "track": track,
            "today": today,
            "partner": partner,
            "coping": plan_shape.coping_steps(content),
            "audience_explained": AUDIENCE_EXPLAINED,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET"])
@entry_view(Lapse, "read")
def lapse_detail(request: AuthedRequest, pk: str) -> HttpResponse:
    user = request.user
    lapse = selectors.lapse_for_reader(user, pk, channel=CHANNEL)
    is_author = lapse.author_id == user.pk
    track: RecoveryTrack | None = lapse.track if is_author else None
    if not is_author:
        # The track's own words only when its author shares the track with this reader too.
        try:
            track = selectors.track_for_reader(user, lapse.track_id, channel=CHANNEL)
        except Http404:
            track = None
    content = selectors.plan_content(selectors.my_plan(user)) if is_author else None
    return render(
        request,
        "recovery/lapse.html",
        {
            "lapse": lapse,
            "entry": lapse,
            "track": track,
            "is_author": is_author,
            "lapse_plan": content["lapse_plan"] if content else "",
            "audience_form": audience_form_for(request, lapse) if is_author else None,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
@entry_view(Lapse, "author")
def lapse_audience(request: AuthedRequest, pk: str) -> HttpResponse:
    lapse = selectors.lapse_for_author(request.user, pk)
    return audience_picker(
        request,
        lapse,
        audience_url_name="recovery:lapse_audience",
        detail_url_name="recovery:lapse",
    )


# --- the relapse-prevention plan ---------------------------------------------------------------


def _rows_from_post(post: QueryDict, key: str, names: tuple[str, ...]) -> list[dict[str, Any]]:
    """Rows named like "situations.2.coping", in the order of their numbers (gaps kept, so an
    error named by the service points back at the row the person typed in)."""
    pattern = re.compile(rf"^{key}\.(\d{{1,2}})\.(\w+)$")
    rows: dict[int, dict[str, Any]] = {}
    for name in post:
        m = pattern.match(name)
        if m and (m.group(2) in names or m.group(2) == "notify"):
            rows.setdefault(int(m.group(1)), {})[m.group(2)] = post.get(name, "")
    if not rows:
        return []
    out = [rows.get(i, {}) for i in range(max(rows) + 1)]
    for row in out:
        for name in names:
            row.setdefault(name, "")
        if key == "contacts":
            row["notify"] = bool(row.get("notify"))
    return out


def _signs_from_post(post: QueryDict) -> list[str]:
    pattern = re.compile(r"^warning_signs\.(\d{1,2})$")
    found = {int(m.group(1)): post.get(n, "") for n in post if (m := pattern.match(n))}
    return [found.get(i, "") for i in range(max(found) + 1)] if found else []


def _draft_from_post(post: QueryDict) -> dict[str, Any]:
    draft = plan_shape.empty()
    for key, names in ROW_FIELDS.items():
        draft[key] = _rows_from_post(post, key, names)
    draft["warning_signs"] = _signs_from_post(post)
    draft["halt"] = [h for h in post.getlist("halt") if h in plan_shape.HALT]
    for key in TEXT_SECTIONS:
        draft[key] = post.get(key, "")
    return draft


def _filled(value: Any) -> bool:
    if isinstance(value, dict):
        return any(str(v or "").strip() for k, v in value.items() if k != "notify")
    return bool(str(value or "").strip())


def _compact(draft: dict[str, Any]) -> tuple[dict[str, Any], dict[str, list[int]]]:
    """The draft without its blank rows (the editor always offers a few), and for each list the
    row number each kept row had on the page."""
    content = dict(draft)
    origins: dict[str, list[int]] = {}
    for key in ("situations", "warning_signs", "contacts"):
        kept = [(i, row) for i, row in enumerate(draft[key]) if _filled(row)]
        content[key] = [row for _, row in kept]
        origins[key] = [i for i, _ in kept]
    return content, origins


def _errors_on_page(exc: ValidationError, origins: dict[str, list[int]]) -> dict[str, str]:
    errors: dict[str, str] = {}
    for key, msgs in exc.message_dict.items():
        parts = key.split(".")
        if len(parts) >= 2 and parts[0] in origins and parts[1].isdigit():
            index = int(parts[1])
            if index < len(origins[parts[0]]):
                parts[1] = str(origins[parts[0]][index])
        errors[".".join(parts)] = " ".join(msgs)
    return errors


def _editor_rows(
    draft: dict[str, Any], errors: dict[str, str], *, with_blanks: bool
) -> dict[str, Any]:
    """What the editor's template walks: each row with its values and its errors."""

    def spare(rows: list[Any], key: str) -> int:
        """How many blank rows to offer below the filled ones (never past the limit)."""
        if not with_blanks:
            return 0
        return min(BLANK_ROWS[key], max(plan_shape.MAX_ITEMS - len(rows), 0))

    out: dict[str, Any] = {}
    for key, names in ROW_FIELDS.items():
        rows = list(draft[key])
        blank: dict[str, Any] = dict.fromkeys(names, "")
        if key == "contacts":
            blank["notify"] = False
        rows += [dict(blank) for _ in range(spare(rows, key))]
        out[key] = [
            {
                "i": i,
                "n": i + 1,
                "values": row,
                "errors": {x: errors.get(f"{key}.{i}.{x}", "") for x in names},
            }
            for i, row in enumerate(rows)
        ]
    signs = list(draft["warning_signs"])
    signs += [""] * spare(signs, "warning_signs")
    out["warning_signs"] = [
        {"i": i, "n": i + 1, "value": v, "error": errors.get(f"warning_signs.{i}", "")}
        for i, v in enumerate(signs)
    ]
    out["halt"] = [(h, HALT_LABELS[h], h in draft["halt"]) for h in plan_shape.HALT]
    out["texts"] = {
        key: {
            "key": key,
            "title": plan_shape.SECTIONS[key][0],
            "hint": plan_shape.SECTIONS[key][1],
            "value": draft[key],
            "error": errors.get(key, ""),
        }
        for key in TEXT_SECTIONS
    }
    return out


# Where each error the service names sits on the editor page (the id of its control).
_ERROR_IDS = {
    "situations.situation": "id_sit_{}",
    "situations.coping": "id_cope_{}",
    "contacts.name": "id_cname_{}",
    "contacts.how": "id_chow_{}",
    "contacts.email": "id_cmail_{}",
}


def _first_error_id(errors: dict[str, str]) -> str:
    """The control of the first error in the page's order, for the summary's link."""
    order = ["situations", "warning_signs", "halt", "lifestyle", "lapse_plan", "contacts"]
    order += ["reasons", "partner_can", "audience"]

    def place(key: str) -> tuple[int, int]:
        parts = key.split(".")
        section = order.index(parts[0]) if parts[0] in order else len(order)
        row = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else -1
        return section, row

    for key in sorted(errors, key=place):
        parts = key.split(".")
        if len(parts) == 3 and f"{parts[0]}.{parts[2]}" in _ERROR_IDS:
            return _ERROR_IDS[f"{parts[0]}.{parts[2]}"].format(parts[1])
        if len(parts) == 2 and parts[0] == "warning_signs":
            return f"id_sign_{parts[1]}"
        if key in TEXT_SECTIONS:
            return f"id_{key}"
        if key == "halt":
            return "id_halt_hungry"
        if key in ("situations", "warning_signs", "contacts", "audience"):
            return f"s-{key}"
    return ""


@login_required
@require_http_methods(["GET", "POST"])
def plan_edit(request: AuthedRequest) -> HttpResponse:
    user = request.user
    plan = selectors.my_plan(user)
    allowed = allowed_audiences(user, RecoveryPlan.entry_type_label)
    errors: dict[str, str] = {}
    stale = ""
    status = 200
    if request.method == "POST":
        draft = _draft_from_post(request.POST)
        audience = request.POST.get("audience", "")
        version = request.POST.get("version", "")
        content, origins = _compact(draft)
        try:
            saved = services.plan_save(
                user=user, content=content, audience=audience, expected_version=version
            )
        except services.StaleVersion as exc:
            plan = exc.current
            version = str(plan.version) if plan is not None else "0"
            stale = STALE_PLAN
            status = 409
        except ValidationError as exc:
            errors = _errors_on_page(exc, origins)
            status = 400
        else:
            messages.success(request, f"Your plan was saved (version {saved.version}).")
            return redirect("recovery:plan_edit")
        with_blanks = False
    else:
        draft = selectors.plan_content(plan)
        audience = (
            plan.audience
            if plan is not None
            else default_audience(user, for_model(RecoveryPlan)).value
        )
        version = str(plan.version) if plan is not None else "0"
        with_blanks = True
    revisions = list(plan.revisions.all()) if plan is not None else []
    return render(
        request,
        "recovery/plan_edit.html",
        {
            "plan": plan,
            "rows": _editor_rows(draft, errors, with_blanks=with_blanks),
            "sections": plan_shape.SECTIONS,
            "errors": errors,
            "first_error": _first_error_id(errors),
            "stale": stale,
            "version": version,
            "audiences": [(a.value, a.label, a.value == audience) for a in allowed],
            "audience_explained": AUDIENCE_EXPLAINED,
            "earlier": [r for r in revisions if plan is not None and r.number < plan.version],
            "emails_on": settings.SUPPORT_EMAILS,
            "partner": _partner_name(user),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET"])
@entry_view(RecoveryPlan, "read")
def plan_detail(request: AuthedRequest, pk: str) -> HttpResponse:
    user = request.user
    plan = selectors.plan_for_reader(user, pk, channel=CHANNEL)
    content = selectors.plan_content(plan)
    is_author = plan.author_id == user.pk
    partner = partner_of(user) if not is_author else None
    return render(
        request,
        "recovery/plan.html",
        {
            "plan": plan,
            "entry": plan,
            "content": content,
            "sections": plan_shape.SECTIONS,
            "is_author": is_author,
            "is_partner": partner is not None and partner.pk == plan.author_id,
            "halt": [HALT_LABELS[h] for h in content["halt"] if h in HALT_LABELS],
            "contacts": [_contact(c) for c in content["contacts"]],
        },
    )


# --- "I'm struggling" --------------------------------------------------------------------------


def _contact(c: dict[str, Any]) -> dict[str, Any]:
    how = str(c.get("how") or "")
    tel = re.sub(r"[^\d+]", "", how) if PHONE.match(how.strip()) else ""
    return {**c, "tel": tel}


@login_required
@require_http_methods(["GET", "POST"])
def struggling(request: AuthedRequest) -> HttpResponse:
    user = request.user
    plan = selectors.my_plan(user)
    content = selectors.plan_content(plan)
    partner = partner_of(user)
    notify = [c for c in content["contacts"] if c.get("notify") and c.get("email")]
    form = None
    if partner is not None:
        allowed = allowed_audiences(user, SupportMessage.entry_type_label)
        form = SupportForm(
            request.POST if request.method == "POST" else None,
            partner_name=partner.display_name,
            allowed=allowed,
        )
    status = 200
    if request.method == "POST":
        if form is not None and not form.is_valid():
            status = 400
        elif form is None and not (notify and settings.SUPPORT_EMAILS):
            messages.info(request, "There is nobody to tell from here yet.")
            return redirect("recovery:struggling")
        else:
            data = form.cleaned_data if form is not None else {}
            try:
                sent = services.support_send(
                    user=user,
                    note=data.get("note", ""),
                    audience=data.get("audience", Audience.PARTNER.value),
                )
            except ValidationError as exc:
                if form is None:
                    messages.error(request, " ".join(exc.messages))
                    return redirect("recovery:struggling")
                apply_errors(form, exc)
                status = 400
            else:
                messages.success(request, _sent_text(partner, sent))
                return redirect("recovery:struggling")
    coping = plan_shape.coping_steps(content)
    return render(
        request,
        "recovery/struggling.html",
        {
            "plan": plan,
            "coping": coping,
            "general_steps": GENERAL_STEPS if not coping else (),
            "reasons": content["reasons"],
            "contacts": [_contact(c) for c in content["contacts"]],
            "partner": partner,
            "form": form,
            "contacts_only": partner is None and bool(notify) and settings.SUPPORT_EMAILS,
            "notify_count": len(notify) if settings.SUPPORT_EMAILS else 0,
            "sent": _recent_sent(user),
        },
        status=status,
    )


def _sent_text(partner: Any, message: SupportMessage) -> str:
    parts = []
    if partner is not None:
        parts.append(f"Sent. {partner.display_name} will see it in Trellis.")
    else:
        parts.append("Sent.")
    if message.emailed and settings.SUPPORT_EMAILS:
        n = message.emailed
        parts.append(
            f"{n} of your contacts will get a short email."
            if n > 1
            else "1 of your contacts will get a short email."
        )
    return " ".join(parts)


@login_required
@require_http_methods(["GET"])
@entry_view(SupportMessage, "read")
def message_detail(request: AuthedRequest, pk: str) -> HttpResponse:
    user = request.user
    message = selectors.message_for_reader(user, pk, channel=CHANNEL)
    return _message_page(request, message)


def _message_page(
    request: AuthedRequest, message: SupportMessage, *, status: int = 200, problem: str = ""
) -> HttpResponse:
    user = request.user
    is_author = message.author_id == user.pk
    return render(
        request,
        "recovery/message.html",
        {
            "message": message,
            "entry": message,
            "is_author": is_author,
            "can_reply": not is_author and user.role == "member",
            "replies": list(SupportMessage.REPLIES.items()),
            "reply_text": SupportMessage.REPLIES.get(message.reply, ""),
            "problem": problem,
        },
        status=status,
    )


@login_required
@require_http_methods(["POST"])
@entry_view(SupportMessage, "respond")
def message_reply(request: AuthedRequest, pk: str) -> HttpResponse:
    user = request.user
    message = selectors.message_for_reader(user, pk, channel=CHANNEL)
    try:
        services.support_reply(user=user, message=message, reply=request.POST.get("reply", ""))
    except PermissionError:
        raise Http404 from None
    except ValidationError as exc:
        return _message_page(request, message, status=400, problem=" ".join(exc.messages))
    messages.success(request, f"Sent. {message.author.display_name} will see your reply.")
    if request.POST.get("back") == "home":
        return redirect("home")
    return redirect("recovery:message", pk=message.pk)
