"""FastFormRenderer (lib/form_renderer.py) renders exactly what Django's template renderer does.

Every form class of the project and a list of widget edge cases are rendered with both
renderers and compared byte for byte. A recording subclass also checks which path was taken:
the Python builders for the built-in widget templates, the template engine for the rest.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

import pytest
from django import forms
from django.conf import settings
from django.forms.boundfield import BoundWidget
from django.forms.forms import BaseForm
from django.forms.models import ModelChoiceIteratorValue
from django.forms.renderers import DjangoTemplates, get_default_renderer
from django.forms.utils import ErrorDict
from django.forms.widgets import ChoiceWidget
from django.http import QueryDict
from django.test import override_settings
from django.utils import timezone, translation
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy

import trellis
from trellis.lib import form_renderer
from trellis.lib.form_renderer import FastFormRenderer
from trellis.sharing.audiences import Audience
from trellis.sharing.registry import entry_types

HOSTILE = "<b>\"x\" & 'y'</b>"


# Django's renderer, the reference. Its engine (and template cache) is shared with Recording.
DJANGO = DjangoTemplates()


class Recording(FastFormRenderer):
    """Notes every template asked for and every one handed to the template engine."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[str] = []
        self.fell_back: list[str] = []

    @property
    def engine(self) -> Any:
        return DJANGO.engine

    def render(self, template_name: str, context: Any, request: Any = None) -> str:
        self.asked.append(template_name)
        return super().render(template_name, context, request)

    def fallback_render(self, template_name: str, context: Any, request: Any = None) -> str:
        self.fell_back.append(template_name)
        return super().fallback_render(template_name, context, request)

    @property
    def built(self) -> list[str]:
        """Templates produced by the Python builders."""
        rest = list(self.fell_back)
        out = []
        for name in self.asked:
            if name in rest:
                rest.remove(name)
            else:
                out.append(name)
        return out


# --- settings ------------------------------------------------------------------------------


def test_settings_point_at_the_fast_renderer() -> None:
    assert settings.FORM_RENDERER == "trellis.lib.form_renderer.FastFormRenderer"
    assert type(get_default_renderer()) is FastFormRenderer
    assert type(forms.Form().renderer) is FastFormRenderer


# --- every form of the project -------------------------------------------------------------


def _project_modules() -> Iterator[str]:
    for info in pkgutil.walk_packages(trellis.__path__, "trellis."):
        if ".migrations" in info.name:
            continue
        yield info.name


def _project_form_classes() -> list[type[BaseForm]]:
    found: dict[str, type[BaseForm]] = {}
    for name in _project_modules():
        module = importlib.import_module(name)  # an import error fails the collection: loud
        for obj in vars(module).values():
            if (
                inspect.isclass(obj)
                and issubclass(obj, BaseForm)
                and obj.__module__ == module.__name__
            ):
                found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return [found[k] for k in sorted(found)]


FORM_CLASSES = _project_form_classes()


def _key(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


ALL = list(Audience)
SOME = [Audience.PARTNER, Audience.PARTNER_THERAPIST]

# Constructor keyword arguments for the forms that require some. Every form whose __init__ has
# a required parameter besides data/files must be listed here (the test below fails otherwise).
VARIANTS: dict[str, list[dict[str, Any]]] = {
    "trellis.accounts.forms.DefaultAudienceForm": [
        {"entry_types": entry_types(), "initial_map": {}},
        {"entry_types": entry_types(), "initial_map": {et.label: "me" for et in entry_types()}},
    ],
    "trellis.agreements.forms.ProposalForm": [
        {"kind": kind, "mode": mode}
        for kind in ("add", "change", "retire")
        for mode in ("propose", "counter", "revise")
        if (kind, mode) != ("retire", "counter")  # a retirement is countered as a change
    ],
    "trellis.checkins.forms.CheckinForm": [
        {"allowed": ALL, "in_recovery": True},
        {"allowed": SOME, "in_recovery": False},
    ],
    "trellis.clinic.forms.CompleteForm": [{"allowed": ALL}],
    "trellis.clinic.forms.HomeworkForm": [
        {
            "partners": [("1", "Sam <Smith>"), ("2", "Alex & Jo")],
            "journal_prompts": [("p1", 'What "went" well?'), ("p2", "It's <hard>")],
            "prompt_sets": [("s1", "Set one")],
        },
        {"partners": [], "journal_prompts": [], "prompt_sets": []},
    ],
    "trellis.journal.forms.JournalEntryForm": [{"allowed": ALL}, {"allowed": SOME}],
    "trellis.recovery.forms.LapseForm": [
        {"allowed": ALL, "partner_name": "Sam <b>&"},
        {"allowed": SOME},
    ],
    "trellis.recovery.forms.SupportForm": [{"allowed": ALL, "partner_name": 'Sam "S" <b>'}],
    "trellis.recovery.forms.TrackForm": [{"allowed": ALL}],
    "trellis.sharing.audience_views.AudienceForm": [{"allowed": ALL}, {"allowed": SOME}],
}


def _required_params(cls: type[BaseForm]) -> list[str]:
    names = []
    for p in list(inspect.signature(cls.__init__).parameters.values())[1:]:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or p.default is not p.empty:
            continue
        if p.name in ("data", "files"):
            continue
        names.append(p.name)
    return names


def test_every_form_class_is_covered() -> None:
    """Discovery found the forms, and each one can be built: no form is skipped silently."""
    keys = {_key(c) for c in FORM_CLASSES}
    assert len(FORM_CLASSES) >= 20, sorted(keys)
    for expected in (
        "trellis.journal.forms.JournalEntryForm",
        "trellis.accounts.forms.ProfileForm",  # a ModelForm
        "trellis.couples.views.CoupleForm",  # defined in a views module
    ):
        assert expected in keys
    uncovered = [k for c in FORM_CLASSES if _required_params(c) and (k := _key(c)) not in VARIANTS]
    assert not uncovered, f"add constructor arguments for these forms to VARIANTS: {uncovered}"
    stale = set(VARIANTS) - keys
    assert not stale, f"VARIANTS names forms that no longer exist: {stale}"


FORM_CASES = [
    pytest.param(cls, i, kwargs, id=f"{cls.__qualname__}-{i}")
    for cls in FORM_CLASSES
    for i, kwargs in enumerate(VARIANTS.get(_key(cls), [{}]))
]


def _choice_values(field: forms.Field) -> list[str]:
    out = []
    for value, label in getattr(field, "choices", []):
        if isinstance(label, (list, tuple)):
            out.extend(str(v) for v, _ in label)
        elif value not in ("", None):
            out.append(str(value))
    return out


def _datasets(form: BaseForm) -> dict[str, QueryDict]:
    """Data that leaves every field empty, hostile, or on a valid choice (with hostile text)."""
    empty = QueryDict(mutable=True)
    hostile = QueryDict(mutable=True)
    chosen = QueryDict(mutable=True)
    for name, field in form.fields.items():
        key = form.add_prefix(name)
        choices = _choice_values(field)
        if isinstance(field, forms.BooleanField):
            hostile[key] = "on"
            chosen[key] = "on"
        elif isinstance(field, forms.MultipleChoiceField):
            hostile.setlist(key, [HOSTILE, *choices[:1]])
            chosen.setlist(key, choices)
        else:
            hostile[key] = HOSTILE
            chosen[key] = choices[-1] if choices else HOSTILE
    return {"empty": empty, "hostile": hostile, "chosen": chosen}


def _renders(form: BaseForm) -> list[tuple[str, str]]:
    """Everything a template can render of a form: whole, per field, per radio/checkbox."""
    out = [("str", str(form)), ("as_p", form.as_p()), ("as_table", form.as_table())]
    for bf in form:
        out.append((f"{bf.name}", str(bf)))
        out.append((f"{bf.name}.as_hidden", bf.as_hidden()))
        for i, sub in enumerate(bf.subwidgets):
            out.append((f"{bf.name}[{i}].tag", sub.tag()))
            out.append((f"{bf.name}[{i}].str", str(sub)))
    return out


def _build(cls: type[BaseForm], kwargs: dict[str, Any], renderer: Any, **extra: Any) -> BaseForm:
    return cls(**kwargs, **extra, renderer=renderer)


@pytest.mark.parametrize(("cls", "variant", "kwargs"), FORM_CASES)
def test_project_form_renders_identically(cls, variant, kwargs) -> None:
    fast = Recording()
    probe = cls(**kwargs)
    states: list[dict[str, Any]] = [{}, {"prefix": "pre"}]
    initial = {name: data for name, data in _datasets(probe)["chosen"].lists()}
    states.append({"initial": {k: v[0] if len(v) == 1 else v for k, v in initial.items()}})
    for label, data in _datasets(probe).items():
        states.append({"data": data, "_label": label})
        pre = _datasets(cls(**kwargs, prefix="pre"))[label]
        states.append({"data": pre, "prefix": "pre", "_label": label})
    compared = 0
    for state in states:
        extra = {k: v for k, v in state.items() if not k.startswith("_")}
        for auto_id in ("id_%s", False):
            ours = _build(cls, kwargs, fast, auto_id=auto_id, **extra)
            theirs = _build(cls, kwargs, DJANGO, auto_id=auto_id, **extra)
            if "data" in extra:
                assert ours.is_valid() == theirs.is_valid()
                if state["_label"] == "hostile":
                    # Errors on every field and on the form, whatever the validation said.
                    for form in (ours, theirs):
                        for name in form.fields:
                            form.add_error(name, f"{HOSTILE} ({name})")
                        form.add_error(None, HOSTILE)
                    assert ours.errors
            for (what, a), (_, b) in zip(_renders(ours), _renders(theirs), strict=True):
                assert a == b, f"{what} (state={state}, auto_id={auto_id})"
                compared += 1
    assert compared
    # The built-in widget templates were built in Python, never handed to the engine...
    assert not set(fast.fell_back) & set(form_renderer.BUILDERS), fast.fell_back
    # ... and they were used whenever the form has a field.
    if probe.fields:
        assert set(fast.built) & set(form_renderer.BUILDERS)


# --- widget edge cases ---------------------------------------------------------------------

AWARE = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
CHOICES = [("a", "Alpha"), ("<&>", "<b>Bold</b> & \"q\" 'x'"), ("s", mark_safe("<i>safe</i>"))]
GROUPED = [
    ("", "---------"),
    ("Fruit <&>", [("apple", "Apple"), ("pear", "Pear")]),
    (mark_safe("<em>Veg</em>"), [("leek", "Leek")]),
    ("z", "Zed"),
]
ODD_LABELS = [
    (1, 1),
    (2.5, 1234567.25),
    (Decimal("3.10"), Decimal("1234.50")),
    ("d", date(2026, 3, 1)),
    ("t", AWARE),
    ("b", True),
    ("n", None),
    ("lazy", gettext_lazy("Yes")),
    (None, "None value"),
]

EDGE: list[tuple[str, Callable[[], forms.Widget], Any, dict[str, Any] | None, bool]] = [
    # (id, widget factory, value, render attrs, expect the template engine fallback)
    ("text-hostile", forms.TextInput, HOSTILE, {"id": "id_f"}, False),
    ("text-none", forms.TextInput, None, None, False),
    ("text-empty", forms.TextInput, "", None, False),
    ("text-zero", forms.TextInput, 0, None, False),
    ("text-safe", forms.TextInput, mark_safe("<b>safe</b>"), None, False),
    ("text-lazy", forms.TextInput, gettext_lazy("Yes"), None, False),
    (
        "text-attrs",
        lambda: forms.TextInput(
            attrs={
                "required": True,
                "disabled": False,
                "data-none": None,
                "data-zero": 0,
                "data-one": 1,
                "data-neg": -5,
                "data-float": 1.5,
                "data-dec": Decimal("1.10"),
                "placeholder": gettext_lazy("Enter <it>"),
                "class": "a b",
                "title": HOSTILE,
                "data-safe": mark_safe("<i>"),
                "data-tuple": (1, "<"),
                "data-list": [1, "<"],
                "data-dict": {"k": "&"},
                "data-date": date(2026, 3, 1),
                "<odd name>": "x",
            }
        ),
        "v",
        {"id": "i<d>"},
        False,
    ),
    ("text-safe-name", forms.TextInput, "v", {mark_safe("data-<b>"): "x"}, False),
    ("text-type-attr", lambda: forms.TextInput(attrs={"type": "date"}), "2026-03-01", None, False),
    ("number-int", forms.NumberInput, 42, {"min": 0, "max": 10_000}, False),
    ("number-float", forms.NumberInput, 3.5, None, False),
    ("number-decimal", forms.NumberInput, Decimal("1234.50"), None, False),
    ("email", forms.EmailInput, "a&b@example.org", {"autocomplete": "email"}, False),
    ("url", forms.URLInput, "https://x.test/?a=1&b=<2>", None, False),
    ("password-hidden", forms.PasswordInput, "secret", None, False),
    ("password-shown", lambda: forms.PasswordInput(render_value=True), "s<e>c", None, False),
    ("hidden", forms.HiddenInput, HOSTILE, {"id": "h"}, False),
    ("hidden-int", forms.HiddenInput, 7, None, False),
    ("search", forms.SearchInput, "q&", None, False),
    ("tel", forms.TelInput, "+1 <2>", None, False),
    ("color", forms.ColorInput, "#ffffff", None, False),
    ("file", forms.FileInput, "ignored.txt", {"accept": "image/*"}, False),
    ("date", forms.DateInput, date(2026, 3, 1), None, False),
    ("date-format", lambda: forms.DateInput(format="%d/%m/%Y"), date(2026, 3, 1), None, False),
    ("date-str", forms.DateInput, "not <a> date", None, False),
    ("datetime-aware", forms.DateTimeInput, AWARE, None, False),
    (
        "datetime-local",
        lambda: forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        AWARE,
        None,
        False,
    ),
    ("time", forms.TimeInput, time(9, 5), None, False),
    ("checkbox-true", forms.CheckboxInput, True, {"id": "c"}, False),
    ("checkbox-false", forms.CheckboxInput, False, None, False),
    ("checkbox-none", forms.CheckboxInput, None, None, False),
    ("checkbox-value", forms.CheckboxInput, "on<&>", None, False),
    ("checkbox-empty", forms.CheckboxInput, "", None, False),
    ("checkbox-required", lambda: forms.CheckboxInput(attrs={"required": True}), 1, None, False),
    ("textarea-hostile", forms.Textarea, HOSTILE + "\n\nline", {"id": "t"}, False),
    ("textarea-none", forms.Textarea, None, None, False),
    ("textarea-empty", forms.Textarea, "", None, False),
    ("textarea-zero", forms.Textarea, 0, None, False),
    ("textarea-safe", forms.Textarea, mark_safe("<b>kept</b>"), None, False),
    (
        "textarea-attrs",
        lambda: forms.Textarea(attrs={"rows": 3, "maxlength": 500}),
        "x",
        None,
        False,
    ),
    ("select", lambda: forms.Select(choices=CHOICES), "<&>", {"id": "s"}, False),
    ("select-none", lambda: forms.Select(choices=CHOICES), None, None, False),
    ("select-no-match", lambda: forms.Select(choices=CHOICES), "zzz", None, False),
    ("select-empty-choices", lambda: forms.Select(choices=[]), None, {"id": "s"}, False),
    ("select-groups", lambda: forms.Select(choices=GROUPED), "pear", {"required": True}, False),
    ("select-odd-labels", lambda: forms.Select(choices=ODD_LABELS), "2.5", None, False),
    (
        "select-disabled",
        lambda: forms.Select(choices=CHOICES, attrs={"disabled": True, "class": "c"}),
        "a",
        None,
        False,
    ),
    ("select-multiple", lambda: forms.SelectMultiple(choices=CHOICES), ["a", "s"], None, False),
    ("select-multiple-none", lambda: forms.SelectMultiple(choices=GROUPED), None, None, False),
    (
        "select-multiple-groups",
        lambda: forms.SelectMultiple(choices=GROUPED),
        ["apple", "leek", "z"],
        {"id": "m"},
        False,
    ),
    ("nullboolean", forms.NullBooleanSelect, True, None, False),
    ("nullboolean-none", forms.NullBooleanSelect, None, None, False),
    (
        "select-model-values",
        lambda: forms.Select(choices=[(ModelChoiceIteratorValue(1, object()), "One"), ("", "---")]),
        "1",
        None,
        False,
    ),
    ("radio", lambda: forms.RadioSelect(choices=CHOICES), "<&>", {"id": "r"}, False),
    ("radio-no-id", lambda: forms.RadioSelect(choices=CHOICES), "a", None, False),
    ("radio-none", lambda: forms.RadioSelect(choices=CHOICES), None, {"id": "r"}, False),
    ("radio-empty-choices", lambda: forms.RadioSelect(choices=[]), None, {"id": "r"}, False),
    (
        "radio-groups",
        lambda: forms.RadioSelect(choices=GROUPED),
        "leek",
        {"id": "r", "required": True},
        False,
    ),
    ("radio-odd-labels", lambda: forms.RadioSelect(choices=ODD_LABELS), "1", {"id": "r"}, False),
    (
        "radio-class",
        lambda: forms.RadioSelect(choices=CHOICES, attrs={"class": "row <x>"}),
        "s",
        {"id": "r<"},
        False,
    ),
    (
        "radio-safe-id",
        lambda: forms.RadioSelect(choices=CHOICES),
        "a",
        {"id": mark_safe("r&amp;")},
        False,
    ),
    (
        "radio-empty-group-name",
        lambda: forms.RadioSelect(choices=[("", [("a", "A")]), ("b", "B")]),
        "a",
        {"id": "r"},
        False,
    ),
    (
        "radio-disabled",
        lambda: forms.RadioSelect(choices=CHOICES, attrs={"disabled": True}),
        "a",
        {"id": "r"},
        False,
    ),
    (
        "checkboxes",
        lambda: forms.CheckboxSelectMultiple(choices=CHOICES),
        ["a", "<&>"],
        {"id": "cb"},
        False,
    ),
    ("checkboxes-none", lambda: forms.CheckboxSelectMultiple(choices=CHOICES), None, None, False),
    (
        "checkboxes-groups",
        lambda: forms.CheckboxSelectMultiple(choices=GROUPED),
        ["apple", "z"],
        {"id": "cb", "class": "grid"},
        False,
    ),
    # What the builders do not reproduce goes to the template engine, with the same result.
    (
        "fallback-callable-attr",
        lambda: forms.TextInput(attrs={"data-cb": lambda: "<x>"}),
        "v",
        None,
        True,
    ),
    # (Django itself fails on this one: "Need 2 values to unpack in for loop"; so do we.)
    ("fallback-items-attr", lambda: forms.TextInput(attrs={"items": "x"}), "v", None, True),
    ("fallback-split-datetime", forms.SplitDateTimeWidget, AWARE, None, True),
    ("fallback-multiple-hidden", forms.MultipleHiddenInput, ["a", "<b>"], {"id": "mh"}, True),
    ("fallback-clearable-file", forms.ClearableFileInput, None, {"id": "f"}, True),
]


def _render_widget(
    make: Callable[[], forms.Widget], value: Any, attrs: Any, renderer: Any
) -> list[Any]:
    """The widget, then each option alone and wrapped in its label; an exception counts too."""
    widget = make()
    calls = [lambda: widget.render("f<n>", value, attrs=attrs, renderer=renderer)]
    if isinstance(widget, ChoiceWidget):
        for data in widget.subwidgets("f<n>", value, attrs):
            bound = BoundWidget(widget, data, renderer)
            calls += [bound.tag, lambda bound=bound: bound.tag(wrap_label=True)]
    out: list[Any] = []
    for call in calls:
        try:
            out.append(call())
        except Exception as exc:
            out.append((type(exc), str(exc)))
    return out


@pytest.mark.parametrize(
    ("make", "value", "attrs", "fallback"), [pytest.param(*c[1:], id=c[0]) for c in EDGE]
)
@pytest.mark.parametrize("locale", ["plain", "de-thousands-berlin"])
def test_widget_edge_case_renders_identically(make, value, attrs, fallback, locale) -> None:
    fast = Recording()
    if locale == "plain":
        ours = _render_widget(make, value, attrs, fast)
        theirs = _render_widget(make, value, attrs, DJANGO)
    else:
        with (
            translation.override("de"),
            override_settings(USE_THOUSAND_SEPARATOR=True),
            timezone.override("Europe/Berlin"),
        ):
            ours = _render_widget(make, value, attrs, fast)
            theirs = _render_widget(make, value, attrs, DJANGO)
    assert ours == theirs
    assert all(type(s) is SafeString for s in ours) or fallback
    if fallback:
        assert fast.fell_back
    else:
        assert not fast.fell_back, fast.fell_back
        assert fast.built


def test_unknown_template_falls_back_to_the_engine() -> None:
    """A template the builders do not know (a form template, any custom one) is the engine's."""
    fast = Recording()
    form = forms.Form(renderer=fast)
    context = form.get_context()
    for name in ("django/forms/div.html", "django/forms/errors/list/ul.html"):
        ctx = context if name.endswith("div.html") else {"errors": ["<x>"], "error_class": "e"}
        assert fast.render(name, ctx) == DJANGO.render(name, ctx)
    assert {"django/forms/div.html", "django/forms/errors/list/ul.html"} <= set(fast.fell_back)
    assert fast.asked == fast.fell_back  # nothing was built in Python


def test_custom_option_template_falls_back() -> None:
    """An option template the builders do not know makes the whole widget the engine's."""

    class Custom(forms.RadioSelect):
        option_template_name = "django/forms/widgets/input.html"  # known, but not as an option

    class Unknown(forms.RadioSelect):
        option_template_name = "no/such/option.html"

    fast = Recording()
    widget = Custom(choices=CHOICES)
    assert widget.render("f", "a", {"id": "x"}, fast) == widget.render(
        "f", "a", {"id": "x"}, DJANGO
    )
    assert not fast.fell_back  # input.html is built as an option too: same bytes
    from django.template import TemplateDoesNotExist

    with pytest.raises(TemplateDoesNotExist):
        Unknown(choices=CHOICES).render("f", "a", {"id": "x"}, fast)
    assert fast.fell_back == ["django/forms/widgets/radio.html"]


# --- the allauth forms the project's account pages render -----------------------------------


def _allauth_forms() -> list[Any]:
    from allauth.account import forms as account

    from trellis.accounts.models import User

    return [
        pytest.param(account.LoginForm, {"request": None}, id="LoginForm"),
        pytest.param(account.SignupForm, {}, id="SignupForm"),
        pytest.param(account.ResetPasswordForm, {}, id="ResetPasswordForm"),
        pytest.param(account.AddEmailForm, {"user": User()}, id="AddEmailForm"),
        pytest.param(account.ChangePasswordForm, {"user": User()}, id="ChangePasswordForm"),
        pytest.param(account.SetPasswordForm, {"user": User()}, id="SetPasswordForm"),
        pytest.param(account.ReauthenticateForm, {"user": User()}, id="ReauthenticateForm"),
    ]


@pytest.mark.parametrize(("cls", "kwargs"), _allauth_forms())
def test_allauth_form_renders_identically(cls, kwargs) -> None:
    fast = Recording()
    for data in (None, "hostile"):
        forms_ = []
        for renderer in (fast, DJANGO):
            form = cls(**kwargs, renderer=renderer)
            if data:
                # Bound, with errors everywhere, but not validated (validation may query the DB).
                form = cls(data={n: HOSTILE for n in form.fields}, **kwargs, renderer=renderer)
                form._errors = ErrorDict(renderer=renderer)
                form.cleaned_data = {}
                for name in form.fields:
                    form.add_error(name, f"{HOSTILE} ({name})")
                form.add_error(None, HOSTILE)
            forms_.append(form)
        ours, theirs = forms_
        for (what, a), (_, b) in zip(_renders(ours), _renders(theirs), strict=True):
            assert a == b, f"{what} ({data})"
    assert not set(fast.fell_back) & set(form_renderer.BUILDERS), fast.fell_back
    assert set(fast.built) & set(form_renderer.BUILDERS)
