"""Wording review (QUALITY U5, SPEC §2 principle 5): no shaming words in anything a person reads.

Recovery is told as a story that one slip never erases, so the words we put in front of people
avoid blame, counting-down and labels for people. This test reads every piece of user-facing text
in the project and fails on a banned word, printing every hit as ``path:line: word — snippet``.

What counts as user-facing text
-------------------------------
Templates — every file under ``templates/``:
  * text nodes between tags;
  * the attributes people read or hear: ``alt``, ``title``, ``aria-label``, ``placeholder``,
    ``hx-confirm``/``hx-prompt``/``data-confirm``, and ``value`` of buttons, options and
    submit/button/reset inputs;
  * string literals inside ``{{ }}``/``{% %}`` that are prose (contain a space), e.g.
    ``|default:"your partner"``, but only where the tag itself sits in text;
  * NOT: ``{# #}``/``{% comment %}`` and ``<!-- -->`` comments, ``<script>``/``<style>`` bodies,
    other attributes (class, href, hx-*, data-*), template variables and tags themselves.

Python — every ``trellis/**/*.py`` except ``trellis/settings.py`` and migrations, parsed with
``ast`` (comments are never seen):
  * any string (even a single word) in a user-facing place: ``messages.*(...)``,
    ``ValidationError(...)`` (strings and dict values), ``HttpError(...)``, gettext calls,
    keyword arguments ``label``/``help_text``/``verbose_name``/``empty_label``/
    ``error_messages``/``placeholder``/``title``, dict values under ``"placeholder"``/
    ``"aria-label"``/``"title"``/``"alt"``, choices labels (``*Choices`` classes — including the
    label Django derives from a member's name — ``choices=`` and ``*_CHOICES`` lists);
  * anywhere else, every string of prose: at least two words and a space (prompts, suggestions,
    section hints, email subjects and bodies, ``PermissionError`` messages, f-strings...);
  * NOT: docstrings and other bare string statements, ``assert`` messages, logger calls
    (``log.*``, ``logger.*``, ``logging.*``, ``*_log.*``), developer errors (``RuntimeError``,
    ``ValueError``, ``ImproperlyConfigured``... see DEVELOPER_ERRORS), ``warnings.warn``, ``re.*``
    arguments, SQL (``execute``/``raw``/``RawSQL``) and strings that look like SQL or regexes.
  * From ``trellis/settings.py`` only the assignments in SETTINGS_WITH_USER_TEXT (the crisis
    lines every page links to).

Third party — the sign-in error messages of the configured allauth adapters, which people see on
our sign-in pages (override ``error_messages`` in ``trellis/accounts/adapter.py`` to reword).

Exceptions live in ALLOWED: (path glob, phrase, reason). A hit is allowed only when it lies inside
that phrase in that file. Keep it tiny; a stale entry fails ``test_allowlist_entries_are_used``.
"""

from __future__ import annotations

import ast
import fnmatch
import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = ROOT / "templates"
CODE_DIR = ROOT / "trellis"
SETTINGS_FILE = CODE_DIR / "settings.py"
SETTINGS_WITH_USER_TEXT = frozenset({"CRISIS_RESOURCES"})


# --- The banned words ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Banned:
    word: str
    pattern: re.Pattern[str]
    reason: str


def _ban(word: str, regex: str, reason: str) -> Banned:
    return Banned(word, re.compile(rf"\b(?:{regex})\b", re.IGNORECASE), reason)


BANNED: tuple[Banned, ...] = (
    # A lapse is a learnable event, not a pass/fail exam (SPEC: no red "failed" states).
    _ban("fail", r"fail(?:s|ed|ing|ures?)?", "pass/fail framing; say what happened instead"),
    # Counting down to nothing erases the story; totals and longest run stay (SPEC principle 5).
    _ban(
        "reset/start over",
        r"reset(?:s|ting)?\s+to\s+zero|back\s+to\s+(?:zero|square\s+one|day\s+(?:one|1))"
        r"|start(?:s|ing|ed)?\s+(?:all\s+)?over",
        "one slip never erases the story",
    ),
    # "Clean"/"dirty" label a person's worth; banned as adjectives in user text altogether.
    _ban("clean/dirty", r"clean|dirty", "moral label for a person; say 'days in recovery'"),
    # Person-first language: "a person in recovery", "had a lapse".
    _ban("relapsed", r"relapsed", "labels the person; say 'had a lapse' / 'a return to use'"),
    _ban("addict", r"addicts?", "person-first: 'a person in recovery'"),
    _ban("junkie", r"junkies?", "slur"),
    # "alcoholic" as a noun for a person ("an alcoholic", "alcoholics"); "alcoholic drinks" is OK.
    _ban(
        "alcoholic (noun)",
        r"alcoholics|(?:an|the|a|recovering|fellow|functional|functioning|my|your|his|her|their)"
        r"\s+alcoholic(?!\s+(?:drinks?|beverages?|content))",
        "person-first: 'a person with alcohol use disorder'",
    ),
    _ban("slip-up", r"slip[- ]?ups?", "belittling; say 'a lapse'"),
    # Our prose never names the betrayal for the person; their own words are theirs.
    _ban("cheat", r"cheat(?:s|ed|er|ers|ing)?", "accusatory; our prose stays neutral"),
    # No streak shaming (SPEC C-list of things we never build).
    _ban("streak", r"streaks?", "streak framing; state counts of days"),
    _ban("broke your", r"broke\s+your", "blame; say what happened"),
    _ban("shame", r"(?:should|ought\s+to)\s+be\s+ashamed|shame\s+on", "shaming"),
    _ban("weak", r"weak(?:ness|nesses)?", "moral judgement of a person"),
    # Clinically "abstinence violation effect"; in user text it reads as an offence.
    _ban("violation", r"violat(?:e|es|ed|ing|ion|ions)", "legal/offence framing"),
    _ban("punish", r"punish(?:es|ed|ing|ment|ments)?", "punitive framing"),
    _ban("guilty", r"guilty", "verdict framing"),
    _ban("disgusting", r"disgusting", "contempt"),
    _ban("pathetic", r"pathetic", "contempt"),
    _ban("excuse", r"excuses?", "presumes bad faith"),
)


# --- Exceptions ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Allowed:
    path: str  # glob over the hit's path, e.g. "templates/core/crisis.html"
    phrase: str  # the banned word must lie inside this phrase (case-insensitive)
    reason: str


ALLOWED: tuple[Allowed, ...] = (
    # Example shape — a service's proper name quoted on the crisis page:
    # Allowed("trellis/settings.py", "Alcoholics Anonymous", "name of a support service"),
)


# --- Hits ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Hit:
    path: str
    line: int | str
    word: str  # the text that matched
    banned: Banned
    snippet: str
    allowed_by: Allowed | None = None

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.word} — {self.snippet}"


def _snippet(text: str, start: int, end: int, width: int = 60) -> str:
    lo, hi = max(0, start - width), min(len(text), end + width)
    out = " ".join(text[lo:hi].split())
    return ("…" if lo else "") + out + ("…" if hi < len(text) else "")


def _allowed(path: str, text: str, start: int, end: int) -> Allowed | None:
    for entry in ALLOWED:
        if not fnmatch.fnmatch(path, entry.path):
            continue
        for m in re.finditer(re.escape(entry.phrase), text, re.IGNORECASE):
            if m.start() <= start and end <= m.end():
                return entry
    return None


def find_banned(text: str, path: str) -> Iterator[tuple[re.Match[str], Banned, Allowed | None]]:
    for banned in BANNED:
        for m in banned.pattern.finditer(text):
            yield m, banned, _allowed(path, text, m.start(), m.end())


# --- Templates ----------------------------------------------------------------------------------
_BLANK_FIRST = re.compile(
    r"\{#.*?#\}"  # template comment
    r"|\{%\s*comment\b.*?%\}.*?\{%\s*endcomment\s*%\}"  # comment block
    r"|<!--.*?-->"  # HTML comment
    r"|<(script|style)\b.*?</\1\s*>",  # code, not prose
    re.DOTALL | re.IGNORECASE,
)
_CODE = r"\{\{.*?\}\}|\{%.*?%\}"
_HTML_TAG = re.compile(rf"<[A-Za-z/!](?:{_CODE}|[^>])*>", re.DOTALL)
_TAG_NAME = re.compile(r"<\s*/?\s*([\w-]+)")
_ATTR = re.compile(
    rf"""([\w:.@-]+)\s*=\s*(?:"((?:{_CODE}|[^"])*)"|'((?:{_CODE}|[^'])*)')""", re.DOTALL
)
_TEMPLATE_CODE = re.compile(_CODE, re.DOTALL)
_LITERAL = re.compile(r""""([^"]*)"|'([^']*)'""")
TEXT_ATTRS = frozenset(
    {"alt", "title", "aria-label", "placeholder", "hx-confirm", "hx-prompt", "data-confirm"}
)
VALUE_SHOWN_BY = frozenset({"button", "option"})
INPUT_TYPES_SHOWING_VALUE = frozenset({"submit", "button", "reset"})


def template_text(text: str) -> str:
    """The text a person reads, at its original offsets (everything else becomes spaces)."""
    keep = [True] * len(text)

    def blank(start: int, end: int) -> None:
        keep[start:end] = [False] * (end - start)

    def unblank(start: int, end: int) -> None:
        keep[start:end] = [True] * (end - start)

    def masked() -> str:
        return "".join(c if keep[i] or c == "\n" else " " for i, c in enumerate(text))

    for m in _BLANK_FIRST.finditer(text):
        blank(m.start(), m.end())
    work = masked()

    for tag in _HTML_TAG.finditer(work):
        blank(tag.start(), tag.end())
        name_match = _TAG_NAME.match(tag.group(0))
        name = name_match.group(1).lower() if name_match else ""
        attrs = list(_ATTR.finditer(tag.group(0)))
        input_type = next(
            ((a.group(2) or a.group(3) or "").lower() for a in attrs if a.group(1) == "type"), ""
        )
        value_shown = name in VALUE_SHOWN_BY or (
            name == "input" and input_type in INPUT_TYPES_SHOWING_VALUE
        )
        for attr in attrs:
            attr_name = attr.group(1).lower()
            if attr_name in TEXT_ATTRS or (attr_name == "value" and value_shown):
                group = 2 if attr.group(2) is not None else 3
                unblank(tag.start() + attr.start(group), tag.start() + attr.end(group))

    for code in _TEMPLATE_CODE.finditer(work):
        in_text = keep[code.start()]
        blank(code.start(), code.end())
        if not in_text:
            continue
        for lit in _LITERAL.finditer(code.group(0)):
            group = 1 if lit.group(1) is not None else 2
            value = lit.group(group)
            if " " in value.strip() and re.search(r"[A-Za-z]{2}", value):
                unblank(code.start() + lit.start(group), code.start() + lit.end(group))
    return masked()


def scan_template_file(path: Path, root: Path = ROOT) -> list[Hit]:
    rel = path.relative_to(root).as_posix()
    text = template_text(path.read_text(encoding="utf-8"))
    lines = text.split("\n")
    hits = []
    for m, banned, allowed in find_banned(text, rel):
        line = text.count("\n", 0, m.start()) + 1
        col = m.start() - (text.rfind("\n", 0, m.start()) + 1)
        src = lines[line - 1]
        hits.append(
            Hit(rel, line, m.group(0), banned, _snippet(src, col, col + len(m.group(0))), allowed)
        )
    return hits


# --- Python -------------------------------------------------------------------------------------
LOG_METHODS = frozenset(
    {"debug", "info", "warning", "warn", "error", "exception", "critical", "log", "fatal"}
)
_LOGGER_NAME = re.compile(r"(?:^|_)(?:log|logger|logging)$", re.IGNORECASE)
DEVELOPER_ERRORS = frozenset(
    {
        "AssertionError",
        "AttributeError",
        "ImportError",
        "ImproperlyConfigured",
        "IndexError",
        "KeyError",
        "LookupError",
        "NotImplementedError",
        "RuntimeError",
        "SystemExit",
        "TypeError",
        "ValueError",
    }
)
SQL_CALLS = frozenset({"execute", "executemany", "executescript", "raw", "extra", "RawSQL"})
USER_CALLS = frozenset(
    {
        "ValidationError",
        "HttpError",
        "_",
        "gettext",
        "gettext_lazy",
        "ngettext",
        "ngettext_lazy",
        "pgettext",
        "pgettext_lazy",
        "format_lazy",
    }
)
USER_KWARGS = frozenset(
    {
        "label",
        "help_text",
        "verbose_name",
        "verbose_name_plural",
        "empty_label",
        "error_messages",
        "placeholder",
        "title",
    }
)
USER_DICT_KEYS = frozenset({"placeholder", "aria-label", "title", "alt"})
_SQL = re.compile(r"^\s*(?:SELECT|INSERT|UPDATE|DELETE|WITH|CREATE|ALTER|DROP|PRAGMA|EXPLAIN)\b")
_REGEX = re.compile(r"\\[dwsbDWSB]|\(\?|\[\^|\.\*|\.\+|\[[a-z0-9]-[a-z0-9]\]|\{\d+,\d*\}")
_WORD = re.compile(r"[A-Za-z]{2,}")


@dataclass(frozen=True)
class PyText:
    line: int
    end_line: int
    text: str


def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Call):
        return _name(node.func)
    return ""


def is_prose(text: str) -> bool:
    return " " in text.strip() and len(_WORD.findall(text)) >= 2


def looks_technical(text: str) -> bool:
    return bool(_SQL.match(text) or _REGEX.search(text))


class _Collector(ast.NodeVisitor):
    """Collects the user-facing strings of one module (see the module docstring for the rules)."""

    def __init__(self) -> None:
        self.texts: list[PyText] = []
        self.user = 0  # > 0 while inside a user-facing place

    def add(self, node: ast.AST, text: str) -> None:
        line = getattr(node, "lineno", 0)
        self.texts.append(PyText(line, getattr(node, "end_lineno", None) or line, text))

    def visit_user(self, node: ast.AST | None) -> None:
        if node is None:
            return
        self.user += 1
        try:
            self.visit(node)
        finally:
            self.user -= 1

    def visit_not_user(self, node: ast.AST | None) -> None:
        if node is None:
            return
        saved, self.user = self.user, 0
        try:
            self.visit(node)
        finally:
            self.user = saved

    # Strings ------------------------------------------------------------------------------
    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str) and (
            self.user or (is_prose(node.value) and not looks_technical(node.value))
        ):
            self.add(node, node.value)

    def visit_JoinedStr(self, node: ast.JoinedStr) -> None:
        text = "".join(
            v.value if isinstance(v, ast.Constant) and isinstance(v.value, str) else "{…}"
            for v in node.values
        )
        if self.user or (is_prose(text) and not looks_technical(text)):
            self.add(node, text)
        for v in node.values:
            if isinstance(v, ast.FormattedValue):
                self.visit(v.value)

    # Places that are never user text ------------------------------------------------------
    def visit_Expr(self, node: ast.Expr) -> None:
        if isinstance(node.value, ast.Constant | ast.JoinedStr):
            return  # docstrings and other bare strings
        self.generic_visit(node)

    def visit_Assert(self, node: ast.Assert) -> None:
        self.visit(node.test)  # the message is for developers

    # Calls --------------------------------------------------------------------------------
    def visit_Call(self, node: ast.Call) -> None:
        name = _name(node.func)
        receiver = _name(node.func.value) if isinstance(node.func, ast.Attribute) else ""
        if (
            (name in LOG_METHODS and _LOGGER_NAME.search(receiver))
            or name == "getLogger"
            or name in DEVELOPER_ERRORS
            or (receiver == "warnings" and name == "warn")
            or receiver == "re"
            or name in SQL_CALLS
        ):
            return
        if receiver == "messages" or name in USER_CALLS:
            self.visit(node.func)
            for arg in node.args:
                self.visit_user(arg)
            for kw in node.keywords:
                self.visit_user(kw.value)
            return
        self.visit(node.func)
        for arg in node.args:
            self.visit(arg)
        for kw in node.keywords:
            if kw.arg in USER_KWARGS:
                self.visit_user(kw.value)
            elif kw.arg == "choices":
                self.visit_choices(kw.value)
            else:
                self.visit(kw.value)

    def visit_Dict(self, node: ast.Dict) -> None:
        for key, value in zip(node.keys, node.values, strict=True):
            self.visit_not_user(key)  # keys are field names and the like
            if isinstance(key, ast.Constant) and key.value in USER_DICT_KEYS:
                self.visit_user(value)
            else:
                self.visit(value)

    # Choices ------------------------------------------------------------------------------
    def visit_choices(self, node: ast.AST) -> None:
        """A literal list of (value, label) pairs: the labels are user text."""
        if isinstance(node, ast.List | ast.Tuple) and all(
            isinstance(e, ast.Tuple) and len(e.elts) >= 2 for e in node.elts
        ):
            for pair in node.elts:
                assert isinstance(pair, ast.Tuple)
                for e in pair.elts[:-1]:
                    self.visit_not_user(e)
                self.visit_user(pair.elts[-1])
        else:
            self.visit(node)

    def visit_Assign(self, node: ast.Assign) -> None:
        if any(isinstance(t, ast.Name) and t.id.endswith("CHOICES") for t in node.targets):
            self.visit_choices(node.value)
        else:
            self.generic_visit(node)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        if not any(_name(b).endswith("Choices") for b in node.bases):
            self.generic_visit(node)
            return
        for stmt in node.body:
            if not (
                isinstance(stmt, ast.Assign)
                and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], ast.Name)
            ):
                self.visit(stmt)
                continue
            member, value = stmt.targets[0].id, stmt.value
            if isinstance(value, ast.Tuple) and len(value.elts) >= 2:
                for e in value.elts[:-1]:
                    self.visit_not_user(e)
                self.visit_user(value.elts[-1])
            elif isinstance(value, ast.Constant) and not member.startswith("_"):
                # No explicit label: Django shows the member's name, title-cased.
                self.add(stmt, member.replace("_", " ").title())
            else:
                self.visit(stmt)


def python_texts(source: str, *, only_assignments: frozenset[str] | None = None) -> list[PyText]:
    tree = ast.parse(source)
    collector = _Collector()
    if only_assignments is None:
        collector.visit(tree)
    else:
        for stmt in tree.body:
            if isinstance(stmt, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id in only_assignments for t in stmt.targets
            ):
                collector.visit(stmt.value)
    return collector.texts


def _python_hits(rel: str, source: str, texts: Iterable[PyText]) -> list[Hit]:
    lines = source.splitlines()
    hits = []
    for t in texts:
        for m, banned, allowed in find_banned(t.text, rel):
            line = next(
                (
                    n
                    for n in range(t.line, t.end_line + 1)
                    if n <= len(lines) and banned.pattern.search(lines[n - 1])
                ),
                t.line,
            )
            hits.append(
                Hit(rel, line, m.group(0), banned, _snippet(t.text, m.start(), m.end()), allowed)
            )
    return hits


def scan_python_file(
    path: Path, root: Path = ROOT, *, only_assignments: frozenset[str] | None = None
) -> list[Hit]:
    rel = path.relative_to(root).as_posix()
    source = path.read_text(encoding="utf-8")
    return _python_hits(rel, source, python_texts(source, only_assignments=only_assignments))


# --- The whole project --------------------------------------------------------------------------
def template_files() -> list[Path]:
    return sorted(p for p in TEMPLATES_DIR.rglob("*") if p.is_file() and p.suffix != ".pyc")


def python_files() -> list[Path]:
    return sorted(
        p
        for p in CODE_DIR.rglob("*.py")
        if "migrations" not in p.relative_to(CODE_DIR).parts and p != SETTINGS_FILE
    )


@functools.cache
def project_hits() -> tuple[Hit, ...]:
    hits: list[Hit] = []
    for path in template_files():
        hits += scan_template_file(path)
    for path in python_files():
        hits += scan_python_file(path)
    hits += scan_python_file(SETTINGS_FILE, only_assignments=SETTINGS_WITH_USER_TEXT)
    return tuple(hits)


def _report(hits: Iterable[Hit]) -> str:
    hits = list(hits)
    reasons = {h.banned.word: h.banned.reason for h in hits}
    return "\n".join(
        [f"{len(hits)} shaming word(s) in user-facing text (QUALITY U5):"]
        + [f"  {h}" for h in hits]
        + ["why:"]
        + [f"  {word}: {reason}" for word, reason in reasons.items()]
        + ["Reword the text; only a quoted proper name may go in ALLOWED (tests/test_wording.py)."]
    )


def test_templates_have_no_shaming_words() -> None:
    hits = [h for h in project_hits() if h.path.startswith("templates/") and not h.allowed_by]
    if hits:
        pytest.fail(_report(hits), pytrace=False)


def test_python_user_text_has_no_shaming_words() -> None:
    hits = [h for h in project_hits() if h.path.startswith("trellis/") and not h.allowed_by]
    if hits:
        pytest.fail(_report(hits), pytrace=False)


def test_sign_in_error_messages_have_no_shaming_words() -> None:
    """allauth's own messages appear on our sign-in pages (e.g. throttling after wrong passwords)."""
    from allauth.account.adapter import get_adapter as account_adapter
    from allauth.mfa.adapter import get_adapter as mfa_adapter

    hits = []
    for adapter in (account_adapter(), mfa_adapter()):
        where = f"{type(adapter).__module__}.{type(adapter).__qualname__}.error_messages"
        for key, message in adapter.error_messages.items():
            text = str(message)
            for m, banned, allowed in find_banned(text, where):
                if not allowed:
                    hits.append(
                        Hit(where, key, m.group(0), banned, _snippet(text, m.start(), m.end()))
                    )
    if hits:
        pytest.fail(_report(hits), pytrace=False)


def test_allowlist_entries_are_used() -> None:
    used = {h.allowed_by for h in project_hits() if h.allowed_by}
    stale = [a for a in ALLOWED if a not in used]
    assert not stale, f"ALLOWED entries that no longer match anything; remove them: {stale}"


def test_scanner_sees_the_project() -> None:
    """Guard against a scanner that silently reads nothing (e.g. a moved folder)."""
    assert len(template_files()) >= 20
    texts = sum(len(python_texts(p.read_text(encoding="utf-8"))) for p in python_files())
    assert texts >= 100
    crisis = python_texts(
        SETTINGS_FILE.read_text(encoding="utf-8"), only_assignments=SETTINGS_WITH_USER_TEXT
    )
    assert crisis, "the crisis lines in settings.py were not read"


# --- The scanner is real ------------------------------------------------------------------------
def test_self_test_template(tmp_path: Path) -> None:
    page = tmp_path / "templates" / "page.html"
    page.parent.mkdir()
    page.write_text(
        "{% extends 'base.html' %}\n"
        "{# the old page said you failed #}\n"
        "<!-- streak counter removed -->\n"
        '<div class="dirty-flag" data-x="weak">\n'
        "  <p>You failed today.</p>\n"
        '  <img src="x.png" alt="A clean slate">\n'
        "  <button value=\"{{ x }}\">{{ label|default:'Start over' }}</button>\n"
        '  <input type="hidden" name="action" value="cheat">\n'
        "  <script>const punish = 1;</script>\n"
        "</div>\n",
        encoding="utf-8",
    )
    hits = scan_template_file(page, root=tmp_path)
    assert {(h.line, h.word.lower()) for h in hits} == {
        (5, "failed"),
        (6, "clean"),
        (7, "start over"),
    }, [str(h) for h in hits]
    assert str(hits[0]).startswith("templates/page.html:5: failed — ")
    assert "You failed today." in str(hits[0])


def test_self_test_python(tmp_path: Path) -> None:
    module = tmp_path / "views.py"
    module.write_text(
        '"""Sign-in that failed is logged; this docstring may say failed."""\n'
        "import logging\n"
        "from django.contrib import messages\n"
        "from django.core.exceptions import ValidationError\n"
        "from django.db import models\n"
        "log = logging.getLogger(__name__)\n"
        "\n"
        "class Outcome(models.TextChoices):\n"
        '    LAPSE = "lapse", "Had a lapse"\n'
        '    RELAPSED = "relapsed"\n'
        "\n"
        "def view(request, days):\n"
        '    """Fail closed: a failed check denies."""\n'
        '    log.warning("sign-in failed for a request")\n'
        '    messages.error(request, "Sign-in failed.")\n'
        '    messages.info(request, f"You are {days} days clean")\n'
        '    raise ValidationError({"body": "That excuse is not enough."})\n'
        "\n"
        "def helper():\n"
        '    raise RuntimeError("the policy failed to load")\n'
        "\n"
        'SUGGESTION = ("We talk about it "\n'
        '              "without any punishment.")\n',
        encoding="utf-8",
    )
    hits = scan_python_file(module, root=tmp_path)
    assert sorted((h.line, h.word.lower()) for h in hits) == [
        (10, "relapsed"),  # the label Django derives from the member's name
        (15, "failed"),
        (16, "clean"),
        (17, "excuse"),
        (23, "punishment"),  # reported on the line of the implicit concatenation holding it
    ], [str(h) for h in hits]
    assert str(next(h for h in hits if h.line == 15)) == "views.py:15: failed — Sign-in failed."


def test_self_test_allowlist(monkeypatch: pytest.MonkeyPatch) -> None:
    entry = Allowed("templates/x.html", "Clean Water Fund", "a charity's proper name")
    monkeypatch.setitem(globals(), "ALLOWED", (entry,))
    text = "Donate to the Clean Water Fund. Stay clean."
    found = [(m.group(0), allowed) for m, _, allowed in find_banned(text, "templates/x.html")]
    assert found == [("Clean", entry), ("clean", None)]
    assert [a for _, _, a in find_banned(text, "templates/y.html")] == [None, None]
