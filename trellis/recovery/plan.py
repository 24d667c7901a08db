"""The shape of a relapse-prevention plan (Marlatt & Gordon structure, clinical/REFERENCE.md
§3.3), its cleaning, and the section texts written by us."""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError

MAX_ITEMS = 12
MAX_TEXT = 600
HALT = ("hungry", "angry", "lonely", "tired")

# key -> (title, hint). Hints are ours, calm and practical.
SECTIONS: dict[str, tuple[str, str]] = {
    "situations": (
        "High-risk situations and what I will do",
        "Places, people, times or feelings that make a lapse more likely, each with a step you "
        "can take when it comes up.",
    ),
    "warning_signs": (
        "Early warning signs",
        "The small changes you notice before things get hard: in sleep, mood, habits or thoughts.",
    ),
    "lifestyle": (
        "Keeping my life in balance",
        "What keeps your days steady: rest, food, movement, people, things you enjoy.",
    ),
    "lapse_plan": (
        "If a lapse happens",
        "What you will do in the first hours: who you will tell, how you will be kind to "
        "yourself, and how you will get back on track.",
    ),
    "contacts": (
        "People I can reach",
        "Who you can call or message when it is hard, and how to reach them.",
    ),
    "reasons": (
        "Why my recovery matters to me",
        "Your own reasons, in your own words. They help most when they are specific.",
    ),
    "partner_can": (
        "What my partner can do",
        "What helps when you are struggling, and what does not, so your partner knows how to "
        "support you.",
    ),
}


def empty() -> dict[str, Any]:
    return {
        "situations": [],
        "warning_signs": [],
        "halt": [],
        "lifestyle": "",
        "lapse_plan": "",
        "contacts": [],
        "reasons": "",
        "partner_can": "",
    }


def decode(raw: str) -> dict[str, Any]:
    try:
        data = json.loads(raw or "{}")
    except json.JSONDecodeError:
        data = {}
    out = empty()
    if isinstance(data, dict):
        out.update({k: v for k, v in data.items() if k in out})
    return out


def _text(value: Any, field: str, errors: dict[str, str]) -> str:
    text = str(value or "").strip()
    if len(text) > MAX_TEXT:
        errors[field] = f"Keep this under {MAX_TEXT} characters."
    return text


def clean(data: dict[str, Any]) -> dict[str, Any]:
    """A plan from untrusted input: known keys only, bounded sizes, blank rows dropped.
    Raises ValidationError naming the field (e.g. "situations.2.coping")."""
    errors: dict[str, str] = {}
    out = empty()
    situations = data.get("situations") or []
    if not isinstance(situations, list) or len(situations) > MAX_ITEMS:
        errors["situations"] = f"List up to {MAX_ITEMS} situations."
        situations = []
    for i, item in enumerate(situations):
        item = item if isinstance(item, dict) else {}
        situation = _text(item.get("situation"), f"situations.{i}.situation", errors)
        coping = _text(item.get("coping"), f"situations.{i}.coping", errors)
        if situation or coping:
            if situation and not coping:
                errors[f"situations.{i}.coping"] = "Add one thing you will do when this comes up."
            out["situations"].append({"situation": situation, "coping": coping})
    signs = data.get("warning_signs") or []
    if not isinstance(signs, list) or len(signs) > MAX_ITEMS:
        errors["warning_signs"] = f"List up to {MAX_ITEMS} warning signs."
        signs = []
    texts = [_text(v, f"warning_signs.{i}", errors) for i, v in enumerate(signs)]
    out["warning_signs"] = [s for s in texts if s]
    halt = data.get("halt") or []
    if not isinstance(halt, list) or any(h not in HALT for h in halt):
        errors["halt"] = "Choose from hungry, angry, lonely and tired."
    else:
        out["halt"] = [h for h in HALT if h in halt]
    contacts = data.get("contacts") or []
    if not isinstance(contacts, list) or len(contacts) > MAX_ITEMS:
        errors["contacts"] = f"List up to {MAX_ITEMS} people."
        contacts = []
    for i, item in enumerate(contacts):
        item = item if isinstance(item, dict) else {}
        name = _text(item.get("name"), f"contacts.{i}.name", errors)[:80]
        how = _text(item.get("how"), f"contacts.{i}.how", errors)[:200]
        email = str(item.get("email") or "").strip()[:254]
        if email and ("@" not in email or " " in email):
            errors[f"contacts.{i}.email"] = "Give an email address like name@example.org."
        notify = bool(item.get("notify")) and bool(email)
        if name or how or email:
            if not name:
                errors[f"contacts.{i}.name"] = "Add a name for this person."
            out["contacts"].append({"name": name, "how": how, "email": email, "notify": notify})
    for key in ("lifestyle", "lapse_plan", "reasons", "partner_can"):
        out[key] = _text(data.get(key), key, errors)
    if errors:
        raise ValidationError(errors)
    return out


def coping_steps(plan: dict[str, Any]) -> list[dict[str, str]]:
    return [s for s in plan.get("situations", []) if s.get("coping")]
