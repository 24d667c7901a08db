"""The page chrome (safety row, main menu, footer) built once per role and section.

Every page carries the same header and menu; rendering them through the template engine cost
about as much as a whole simple page (QUALITY P2: ~0.9 ms of `{% url %}` and `{% if %}` per
request). Their HTML depends only on the signed-in person's role and on which section the page
belongs to, so it is built in Python, escaped, and kept in a small in-process cache; the one
per-request part, the sign-out form's CSRF token, is put in afterwards. The words and markup are
exactly those the template used to produce.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from django import template
from django.conf import settings
from django.middleware.csrf import get_token
from django.urls import reverse
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

Match = Callable[[str, str], bool]


def _app(name: str) -> Match:
    return lambda app, view: app == name


def _views(*names: str) -> Match:
    return lambda app, view: view in names


def _recovery(app: str, view: str) -> bool:
    return app == "recovery" and view != "recovery:struggling"


_HOME: tuple[str, str, Match] = ("core:home", "Home", _views("core:home", "home"))
_TAIL: tuple[tuple[str, str, Match], ...] = (
    ("sharing:overview", "Sharing", _app("sharing")),
    ("accounts:profile", "Settings", _app("accounts")),
)
MENU: dict[str, tuple[tuple[str, str, Match], ...]] = {
    "therapist": (_HOME, ("clinic:caseload", "Caseload", _app("clinic")), *_TAIL),
    "member": (
        _HOME,
        ("checkins:today", "Check-in", _app("checkins")),
        ("meetings:list", "Meeting", _app("meetings")),
        ("agreements:home", "Agreement", _app("agreements")),
        ("dashboard:home", "Dashboard", _app("dashboard")),
        ("journal:list", "Journal", _app("journal")),
        ("recovery:home", "Recovery", _recovery),
        ("couples:home", "Couple", _app("couples")),
        (
            "clinic:therapists",
            "Our therapist",
            _views("clinic:therapists", "clinic:consent", "clinic:link_end"),
        ),
        ("clinic:my_homework", "Homework", _views("clinic:my_homework", "clinic:homework")),
        *_TAIL,
    ),
    "clinic_admin": (_HOME, ("clinic:admin", "Clinic", _app("clinic")), *_TAIL),
}


@lru_cache(maxsize=256)
def _url(name: str) -> str:
    return reverse(name)


def _where(request) -> tuple[str, str]:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "", ""
    return match.app_name or "", match.view_name or ""


@lru_cache(maxsize=2048)
def _top(role: str, signed_in: bool, app: str, view: str) -> tuple[str, str]:
    """The header and menu for one role and section, split where the CSRF token goes."""
    member = signed_in and role == "member"
    parts = [
        '<a class="skip" href="#main">Skip to content</a>\n',
        f'  <header class="top{" with-struggling" if member else ""}">\n',
        '    <div class="top-row">\n',
        f'      <a class="brand" href="{escape(_url("home"))}">{escape(settings.APP_NAME)}</a>\n',
        '      <div class="safety">\n        ',
    ]
    if member:
        current = ' aria-current="page"' if view == "recovery:struggling" else ""
        parts.append(
            f'<a class="btn struggling" href="{escape(_url("recovery:struggling"))}"{current}>'
            "I'm struggling</a>"
        )
    parts += [
        f'\n        <a class="btn help-now" href="{escape(_url("core:crisis"))}">Help now</a>\n',
        f'        <a class="btn quick-exit" id="quick-exit" href="{escape(settings.QUICK_EXIT_URL)}"'
        ' rel="noreferrer"\n           aria-keyshortcuts="Escape Escape"'
        ' title="Leave this site now (or press Esc twice)">Quick exit</a>\n',
        "      </div>\n    </div>\n  </header>\n",
    ]
    if not signed_in:
        return "".join(parts), ""
    parts.append('  <nav class="nav" aria-label="Main">\n    <ul>\n')
    for name, label, matches in MENU.get(role, (_HOME, *_TAIL)):
        current = ' aria-current="page"' if matches(app, view) else ""
        parts.append(
            f'      <li><a href="{escape(_url(name))}"{current}>{escape(label)}</a></li>\n'
        )
    parts.append(
        f'      <li>\n        <form method="post" action="{escape(_url("account_logout"))}"'
        ' class="inline">'
    )
    head = "".join(parts)
    tail = (
        '\n          <button type="submit" class="linklike">Sign out</button>\n'
        "        </form>\n      </li>\n    </ul>\n  </nav>\n"
    )
    return head, tail


@register.simple_tag(takes_context=True)
def chrome_top(context) -> SafeString:
    """Skip link, safety row (I'm struggling, Help now, Quick exit) and the main menu."""
    request = context.get("request")
    user = context.get("user") or getattr(request, "user", None)
    signed_in = bool(user is not None and user.is_authenticated)
    role = str(getattr(user, "role", "")) if signed_in else ""
    head, tail = _top(role, signed_in, *_where(request))
    if not signed_in:
        return mark_safe(head)  # noqa: S308 - built from escaped, constant parts above
    token = get_token(request) if request is not None else ""
    csrf = format_html('<input type="hidden" name="csrfmiddlewaretoken" value="{}">', token)
    return mark_safe(head + csrf + tail)  # noqa: S308 - escaped parts, token via format_html


@lru_cache(maxsize=1)
def _foot() -> str:
    return (
        '<footer class="foot">\n'
        f"    <p>{escape(settings.APP_NAME)} is not an emergency service and nobody watches it"
        " in real time.\n"
        f'      If you are in danger, <a href="{escape(_url("core:crisis"))}">see who to call'
        " now</a>.</p>\n"
        f'    <p><a href="{escape(_url("core:privacy"))}">Privacy and safety</a></p>\n'
        "  </footer>"
    )


@register.simple_tag
def chrome_foot() -> SafeString:
    """The footer: not an emergency service, who to call, privacy."""
    return mark_safe(_foot())  # noqa: S308 - constant, escaped parts
