"""Journal pages and htmx fragments. Thin: access (sharing) -> form -> service -> redirect."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from trellis.core.forms import apply_errors
from trellis.core.http import AuthedRequest
from trellis.sharing.audience_views import audience_form_for, audience_picker
from trellis.sharing.audiences import AUDIENCE_EXPLAINED
from trellis.sharing.policy import record_reads
from trellis.sharing.registry import for_model
from trellis.sharing.selectors import readers_of_entry
from trellis.sharing.services import allowed_audiences, default_audience
from trellis.sharing.views_meta import entry_view

from . import selectors, services
from .forms import JournalEditForm, JournalEntryForm
from .models import JournalEntry
from .prompts import BY_KEY, PROMPTS, prompt_for_day

PAGE_SIZE = 20


@login_required
@require_http_methods(["GET"])
@entry_view(JournalEntry, "list")
def entry_list(request: AuthedRequest) -> HttpResponse:
    scope = request.GET.get("show", "all")
    if scope not in {"all", "mine", "shared"}:
        scope = "all"
    page = Paginator(selectors.journal_list_for_reader(request.user, scope=scope), PAGE_SIZE)
    entries = page.get_page(request.GET.get("page"))
    record_reads(request.user, entries, channel="page")
    today = timezone.localdate()
    return render(
        request,
        "journal/list.html",
        {
            "entries": entries,
            "scope": scope,
            "prompt": prompt_for_day(today.toordinal()),
            "audience_explained": AUDIENCE_EXPLAINED,
        },
    )


@login_required
@require_http_methods(["GET"])
@entry_view(JournalEntry, "search")
def entry_search(request: AuthedRequest) -> HttpResponse:
    query = request.GET.get("q", "")[:200]
    results = selectors.journal_search_for_reader(request.user, query) if query.strip() else []
    page = Paginator(results, PAGE_SIZE).get_page(request.GET.get("page"))
    record_reads(request.user, page, channel="search")
    return render(request, "journal/search.html", {"query": query, "entries": page})


@login_required
@require_http_methods(["GET", "POST"])
def entry_new(request: AuthedRequest) -> HttpResponse:
    allowed = allowed_audiences(request.user, JournalEntry.entry_type_label)
    et = for_model(JournalEntry)
    if request.method == "POST":
        form = JournalEntryForm(request.POST, allowed=allowed)
        if form.is_valid():
            try:
                entry, _ = services.journal_entry_create(
                    author=request.user,
                    idempotency_key=request.POST.get("idempotency_key", "")[:80],
                    **form.cleaned_data,
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            except services.IdempotencyMismatch:
                form.add_error(None, "This form was already used for a different entry. Reload.")
            else:
                messages.success(request, "Saved.")
                return redirect("journal:detail", pk=entry.pk)
    else:
        key = request.GET.get("prompt", "")
        prompt = BY_KEY.get(key)
        form = JournalEntryForm(
            allowed=allowed,
            initial={
                "audience": default_audience(request.user, et),
                "prompt_key": prompt.key if prompt else "",
                "kind": "gratitude" if key.startswith("gratitude") else "journal",
            },
        )
    prompt = BY_KEY.get(form["prompt_key"].value() or "")
    return render(
        request,
        "journal/new.html",
        {
            "form": form,
            "prompt": prompt,
            "prompts": PROMPTS,
            "audience_explained": AUDIENCE_EXPLAINED,
        },
    )


@login_required
@require_http_methods(["GET"])
@entry_view(JournalEntry, "read")
def entry_detail(request: AuthedRequest, pk: str) -> HttpResponse:
    entry = selectors.journal_entry_for_reader(request.user, pk, channel="page")
    is_author = entry.author_id == request.user.pk
    form = audience_form_for(request, entry) if is_author else None
    return render(
        request,
        "journal/detail.html",
        {
            "entry": entry,
            "form": form,
            "prompt": BY_KEY.get(entry.prompt_key),
            "is_author": is_author,
            "audience_explained": AUDIENCE_EXPLAINED,
        },
    )


@login_required
@require_http_methods(["GET"])
@entry_view(JournalEntry, "read")
def entry_card(request: AuthedRequest, pk: str) -> HttpResponse:
    entry = selectors.journal_entry_for_reader(request.user, pk, channel="fragment")
    return render(request, "journal/list_card.html", {"entry": entry})


@login_required
@require_http_methods(["GET", "POST"])
@entry_view(JournalEntry, "author")
def entry_edit(request: AuthedRequest, pk: str) -> HttpResponse:
    entry = selectors.journal_entry_for_author(request.user, pk)
    conflict = None
    if request.method == "POST":
        form = JournalEditForm(request.POST)
        if form.is_valid():
            try:
                services.journal_entry_update(
                    author=request.user,
                    entry=entry,
                    title=form.cleaned_data["title"],
                    body=form.cleaned_data["body"],
                    expected_version=form.cleaned_data["version"],
                )
            except services.StaleVersion as stale:
                conflict = stale.current
                form.add_error(
                    None,
                    "This entry was changed in another window after you opened it. Your text "
                    "is still below; the saved version is shown underneath. Copy what you "
                    "need, then save again.",
                )
                # Keep the person's text; move the form onto the version now saved.
                data = request.POST.copy()
                data["version"] = str(stale.current.version)
                errors = form.errors
                form = JournalEditForm(data)
                form.is_valid()
                form._errors = errors  # type: ignore[attr-defined]
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, "Saved.")
                return redirect("journal:detail", pk=entry.pk)
    else:
        form = JournalEditForm(
            initial={"title": entry.title, "body": entry.body, "version": entry.version}
        )
    return render(
        request,
        "journal/edit.html",
        {"form": form, "entry": entry, "conflict": conflict},
        status=409 if conflict else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
@entry_view(JournalEntry, "author")
def entry_delete(request: AuthedRequest, pk: str) -> HttpResponse:
    entry = selectors.journal_entry_for_author(request.user, pk)
    if request.method == "POST":
        services.journal_entry_delete(author=request.user, entry=entry)
        messages.success(request, "The entry was deleted.")
        return redirect("journal:list")
    return render(request, "journal/delete.html", {"entry": entry})


@login_required
@require_http_methods(["GET", "POST"])
@entry_view(JournalEntry, "author")
def entry_audience(request: AuthedRequest, pk: str) -> HttpResponse:
    """The audience picker: an htmx fragment in place, or a plain page without JavaScript."""
    entry = selectors.journal_entry_for_author(request.user, pk)
    return audience_picker(
        request, entry, audience_url_name="journal:audience", detail_url_name="journal:detail"
    )


@login_required
@require_http_methods(["GET"])
@entry_view(JournalEntry, "author")
def entry_readers(request: AuthedRequest, pk: str) -> HttpResponse:
    """Who has seen this: the author's view of reads, audience changes and exports."""
    entry = selectors.journal_entry_for_author(request.user, pk)
    events = readers_of_entry(request.user, entry)[:200]
    return render(request, "journal/readers.html", {"entry": entry, "events": events})
