"""A form renderer that builds Django's built-in widget HTML in Python.

Django's template-based renderer renders every ``{{ field }}`` and every ``{{ radio.tag }}``
through ``django/forms/widgets/*.html`` and their nested ``{% include %}``s (input.html -> attrs.html,
multiple_input.html -> radio_option.html -> input_option.html -> input.html ...). That is one of
the largest costs of our pages. ``FastFormRenderer`` produces the very same bytes for those
templates directly, and hands everything else (form, field, label and error templates, any
widget template it does not know) to Django's ``DjangoTemplates`` renderer unchanged.

Exactness rules (tests/lib/test_form_renderer.py compares byte for byte with Django):

* The output of each template is rebuilt with its literal whitespace, including the trailing
  newline every template file ends with (an ``{% include %}`` keeps it; only the outermost
  render is ``strip()``ped, as in ``BaseRenderer.render``).
* ``{{ x }}`` is ``render_value_in_context``: local time, ``localize``, ``str``, then
  ``conditional_escape`` (a SafeString is not escaped again).
* ``{{ x|stringformat:'s' }}`` is ``"%s" % x`` (a tuple is ``str()``-ed first), escaped unless
  ``x`` itself was safe.
* ``{% if x %}``, ``is not False``, ``is not True`` and ``!= None`` keep their Python meaning.
* Anything the template language would treat specially and we do not reproduce (a callable
  value, which the template would call; a mapping that is not a plain ``dict``; an attrs dict
  with an ``items`` key, which would shadow ``dict.items``; a key missing from the widget
  dict; an included option template we do not know; a context that rebinds
  ``True``/``False``/``None``; a request) makes the whole render fall back to the template
  renderer, so the result is always Django's.

The string returned is plain; ``Widget._render`` marks it safe, as it does the template output.
Every piece of it is either literal markup or a value passed through the escaping above.
"""

from __future__ import annotations

import html
from typing import Any

from django.forms.renderers import DjangoTemplates
from django.utils.formats import localize
from django.utils.html import conditional_escape
from django.utils.safestring import SafeData, SafeString
from django.utils.timezone import template_localtime  # type: ignore[attr-defined]  # not in stubs

__all__ = ["FastFormRenderer"]

_escape = html.escape  # django.utils.html.escape is SafeString(html.escape(str(text)))
_MISSING = object()


class _Fallback(Exception):
    """Raised while building HTML when only the template engine would give the exact bytes."""


def _var(value: Any) -> str:
    """``{{ value }}`` with autoescape on (django.template.base.render_value_in_context)."""
    cls = type(value)
    if cls is str:
        return _escape(value)
    if cls is SafeString:
        return value
    if callable(value):  # a template variable that is callable is called: not reproduced
        raise _Fallback
    value = template_localtime(value, use_tz=None)
    value = localize(value, use_l10n=None)
    if not issubclass(type(value), str):
        value = str(value)
    return conditional_escape(value)


def _fmt(value: Any) -> str:
    """``{{ value|stringformat:'s' }}`` with autoescape on."""
    cls = type(value)
    if cls is str:
        return _escape(value)
    if cls is int:
        return str(value)  # digits and a minus sign: nothing to escape
    if cls is SafeString:
        return value  # "%s" % value, marked safe again by the is_safe filter: not escaped
    if callable(value):
        raise _Fallback
    safe = isinstance(value, SafeData)  # the filter is is_safe=True
    if isinstance(value, tuple):
        value = str(value)
    try:
        out = "%s" % value  # noqa: UP031 - exactly the filter's ("%" + "s") % value
    except (ValueError, TypeError):
        out = ""
    return out if safe else _escape(out)


def _truthy(value: Any) -> bool:
    """``{% if value %}``."""
    if callable(value):
        raise _Fallback
    return bool(value)


def _lookup(mapping: Any, key: str) -> Any:
    """``mapping.key`` for a widget/option dict: a plain dict with the key present."""
    if type(mapping) is not dict:
        raise _Fallback
    try:
        value = mapping[key]
    except KeyError:
        raise _Fallback from None
    if callable(value):
        raise _Fallback
    return value


def _attrs_dict(widget: dict[str, Any]) -> dict[str, Any]:
    attrs = _lookup(widget, "attrs")
    # `widget.attrs.items` would resolve to attrs["items"] before dict.items.
    if type(attrs) is not dict or "items" in attrs:
        raise _Fallback
    return attrs


def _attr_get(attrs: dict[str, Any], key: str) -> Any:
    """``widget.attrs.id`` / ``widget.attrs.class``: a missing key resolves to "" (falsy)."""
    value = attrs.get(key, "")
    if callable(value):
        raise _Fallback
    return value


# --- one function per template: each returns the template's full output, trailing newline and
# --- all, exactly as an {% include %} of it would insert it.


def _attrs(widget: dict[str, Any]) -> str:
    """attrs.html (the one template without a trailing newline)."""
    parts = []
    for name, value in _attrs_dict(widget).items():
        if callable(value):
            raise _Fallback
        if value is False:
            continue
        if value is True:
            parts.append(" " + _var(name))
        else:
            parts.append(" " + _var(name) + '="' + _fmt(value) + '"')
    return "".join(parts)


def _input(widget: dict[str, Any]) -> str:
    """input.html"""
    value = _lookup(widget, "value")
    try:
        has_value = value != None  # noqa: E711 - the template's `!= None`
    except Exception:  # the template's smart-if operators turn errors into False
        has_value = False
    return (
        '<input type="'
        + _var(_lookup(widget, "type"))
        + '" name="'
        + _var(_lookup(widget, "name"))
        + '"'
        + ((' value="' + _fmt(value) + '"') if has_value else "")
        + _attrs(widget)
        + ">\n"
    )


def _input_alias(widget: dict[str, Any]) -> str:
    """text.html, email.html, checkbox.html, ...: ``{% include "input.html" %}`` + newline."""
    return _input(widget) + "\n"


def _textarea(widget: dict[str, Any]) -> str:
    """textarea.html"""
    value = _lookup(widget, "value")
    return (
        '<textarea name="'
        + _var(_lookup(widget, "name"))
        + '"'
        + _attrs(widget)
        + ">\n"
        + (_var(value) if _truthy(value) else "")
        + "</textarea>\n"
    )


def _select_option(widget: dict[str, Any]) -> str:
    """select_option.html"""
    return (
        '<option value="'
        + _fmt(_lookup(widget, "value"))
        + '"'
        + _attrs(widget)
        + ">"
        + _var(_lookup(widget, "label"))
        + "</option>\n"
    )


def _input_option(widget: dict[str, Any]) -> str:
    """input_option.html"""
    wrap = _truthy(_lookup(widget, "wrap_label"))
    if not wrap:
        return _input(widget) + "\n"
    id_ = _attr_get(_attrs_dict(widget), "id")
    return (
        "<label"
        + ((' for="' + _var(id_) + '"') if _truthy(id_) else "")
        + ">"
        + _input(widget)
        + " "
        + _var(_lookup(widget, "label"))
        + "</label>\n"
    )


def _option_alias(widget: dict[str, Any]) -> str:
    """radio_option.html, checkbox_option.html: ``{% include "input_option.html" %}`` + newline."""
    return _input_option(widget) + "\n"


def _include_option(option: Any) -> str:
    """``{% include option.template_name with widget=option %}``"""
    name = _lookup(option, "template_name")
    render = BUILDERS.get(name) if type(name) is str else None
    if render is None:
        raise _Fallback
    return render(option)


def _optgroups(widget: dict[str, Any]) -> list[tuple[Any, Any]]:
    groups = _lookup(widget, "optgroups")
    if type(groups) is not list:
        raise _Fallback
    out = []
    for item in groups:
        if type(item) is not tuple or len(item) != 3:
            raise _Fallback
        group, options, _index = item
        if callable(group) or type(options) is not list:
            raise _Fallback
        out.append((group, options))
    return out


def _select(widget: dict[str, Any]) -> str:
    """select.html"""
    parts = ['<select name="', _var(_lookup(widget, "name")), '"', _attrs(widget), ">"]
    for group, options in _optgroups(widget):
        grouped = _truthy(group)
        if grouped:
            parts.append('\n  <optgroup label="' + _var(group) + '">')
        for option in options:
            parts.append("\n  ")
            parts.append(_include_option(option))
        if grouped:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>\n")
    return "".join(parts)


def _multiple_input(widget: dict[str, Any]) -> str:
    """multiple_input.html"""
    attrs = _attrs_dict(widget)
    id_ = _attr_get(attrs, "id")
    css = _attr_get(attrs, "class")
    parts = [
        "<div",
        (' id="' + _var(id_) + '"') if _truthy(id_) else "",
        (' class="' + _var(css) + '"') if _truthy(css) else "",
        ">",
    ]
    for group, options in _optgroups(widget):
        grouped = _truthy(group)
        if grouped:
            parts.append("\n  <div><label>" + _var(group) + "</label>")
        for option in options:
            parts.append("<div>\n    ")
            parts.append(_include_option(option))
            parts.append("</div>")
        if grouped:
            parts.append("\n  </div>")
    parts.append("\n</div>\n")
    return "".join(parts)


def _multiple_input_alias(widget: dict[str, Any]) -> str:
    """radio.html, checkbox_select.html: ``{% include "multiple_input.html" %}`` + newline."""
    return _multiple_input(widget) + "\n"


_W = "django/forms/widgets/"
_INPUT_ALIASES = (
    *("text", "checkbox", "color", "date", "datetime", "email", "file", "hidden"),
    *("number", "password", "search", "tel", "time", "url"),
)

_OPTION_TEMPLATES = {
    _W + "select_option.html": _select_option,
    _W + "input_option.html": _input_option,
    _W + "radio_option.html": _option_alias,
    _W + "checkbox_option.html": _option_alias,
}

BUILDERS = {
    _W + "attrs.html": _attrs,
    _W + "input.html": _input,
    **{_W + name + ".html": _input_alias for name in _INPUT_ALIASES},
    _W + "textarea.html": _textarea,
    _W + "select.html": _select,
    _W + "multiple_input.html": _multiple_input,
    _W + "radio.html": _multiple_input_alias,
    _W + "checkbox_select.html": _multiple_input_alias,
    **_OPTION_TEMPLATES,
}
"""The built-in widget templates rendered in Python (template name -> builder)."""

_SHADOWING_NAMES = ("True", "False", "None")


class FastFormRenderer(DjangoTemplates):
    """``DjangoTemplates``, with Django's built-in widget templates built directly in Python.

    The built-in widget templates always come from django/forms/templates under this renderer
    (its engine lists that directory before any app's), so their output is fixed and can be
    reproduced; every other template is rendered by the template engine as before.
    """

    def render(self, template_name: str, context: Any, request: Any = None) -> str:
        build = BUILDERS.get(template_name) if type(template_name) is str else None
        if build is not None and request is None and type(context) is dict:
            widget = context.get("widget", _MISSING)
            if type(widget) is dict and not any(n in context for n in _SHADOWING_NAMES):
                try:
                    return build(widget).strip()
                except _Fallback:
                    pass
        return self.fallback_render(template_name, context, request)

    def fallback_render(self, template_name: str, context: Any, request: Any = None) -> str:
        """The template engine's rendering (a separate method so tests can observe it)."""
        return super().render(template_name, context, request)
