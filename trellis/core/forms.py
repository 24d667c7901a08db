from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError


def apply_errors(form: forms.Form, exc: ValidationError) -> None:
    """Put a service's ValidationError onto the form, field by field where it names one."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)
