"""The operator's commands: a clinic with its administrator, an independent therapist."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.personas import make_couple, make_user
from trellis.accounts.models import User
from trellis.clinic.models import Clinic, ClinicMember

pytestmark = pytest.mark.django_db


def _run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_create_clinic_makes_the_admin_and_says_what_comes_next():
    out = _run(
        "create_clinic", "--name", "Harbour Counselling", "--admin-email", "Ada@Example.test"
    )
    clinic = Clinic.objects.get()
    admin = User.objects.get(email="ada@example.test")
    assert clinic.name == "Harbour Counselling"
    assert admin.role == "clinic_admin" and not admin.has_usable_password()
    assert ClinicMember.objects.get(clinic=clinic).user == admin
    assert str(clinic.pk) in out
    assert "Forgot your password" in out and "Two-factor" in out
    # Again: nothing new.
    again = _run(
        "create_clinic", "--name", "Harbour Counselling", "--admin-email", "ada@example.test"
    )
    assert "already administers" in again
    assert Clinic.objects.count() == 1


def test_create_clinic_promotes_an_existing_account_but_never_a_partner():
    loner = make_user("solo@example.test", "Solo")
    out = _run("create_clinic", "--name", "Harbour", "--admin-email", "solo@example.test")
    loner.refresh_from_db()
    assert loner.role == "clinic_admin" and loner.has_usable_password()
    assert "Sign in as usual" in out

    alex = make_user("alex@example.test", "Alex")
    make_couple(alex)
    with pytest.raises(CommandError, match="partner"):
        _run("create_clinic", "--name", "Other", "--admin-email", "alex@example.test")
    therapist = make_user("lee@example.test", "Dr. Lee", role="therapist")
    with pytest.raises(CommandError, match="therapist"):
        _run("create_clinic", "--name", "Other", "--admin-email", therapist.email)
    with pytest.raises(CommandError, match="not an email"):
        _run("create_clinic", "--name", "Other", "--admin-email", "nobody")
    with pytest.raises(CommandError, match="name"):
        _run("create_clinic", "--name", "  ", "--admin-email", "x@example.test")
    assert Clinic.objects.count() == 1
    alex.refresh_from_db()
    assert alex.role == "member"


def test_create_therapist_makes_an_independent_account_that_needs_two_factor():
    out = _run("create_therapist", "--email", "kim@example.test", "--name", "Dr. Kim")
    kim = User.objects.get(email="kim@example.test")
    assert (kim.role, kim.display_name) == ("therapist", "Dr. Kim")
    assert kim.needs_two_factor and not kim.has_usable_password()
    assert not ClinicMember.objects.exists()
    assert "Two-factor authentication" in out and "first sign-in" in out
    again = _run("create_therapist", "--email", "kim@example.test", "--name", "Dr. Kim")
    assert "Ready" in again and User.objects.filter(email="kim@example.test").count() == 1


def test_create_therapist_joins_a_clinic_by_id():
    _run("create_clinic", "--name", "Harbour", "--admin-email", "ada@example.test")
    clinic = Clinic.objects.get()
    out = _run(
        "create_therapist",
        "--email",
        "kim@example.test",
        "--name",
        "Dr. Kim",
        "--clinic-id",
        str(clinic.pk),
    )
    member = ClinicMember.objects.get(user__email="kim@example.test")
    assert (member.clinic, member.role) == (clinic, "therapist")
    assert "Added to the clinic" in out
    again = _run(
        "create_therapist",
        "--email",
        "kim@example.test",
        "--name",
        "Dr. Kim",
        "--clinic-id",
        str(clinic.pk),
    )
    assert "Already in the clinic" in again
    assert ClinicMember.objects.filter(user__email="kim@example.test").count() == 1
    for bad in ("not-a-uuid", "00000000-0000-0000-0000-000000000000"):
        with pytest.raises(CommandError):
            _run("create_therapist", "--email", "z@example.test", "--name", "Z", "--clinic-id", bad)
    assert not User.objects.filter(email="z@example.test").exists()


def test_create_therapist_refuses_a_partner_or_an_administrator():
    alex = make_user("alex@example.test", "Alex")
    make_couple(alex)
    with pytest.raises(CommandError, match="couple space"):
        _run("create_therapist", "--email", "alex@example.test", "--name", "Alex")
    make_user("admin@example.test", "Ada", role="clinic_admin")
    with pytest.raises(CommandError, match="administers"):
        _run("create_therapist", "--email", "admin@example.test", "--name", "Ada")
    alex.refresh_from_db()
    assert alex.role == "member"
    # A member with no couple space may become a therapist.
    make_user("pat@example.test", "Pat")
    _run("create_therapist", "--email", "pat@example.test", "--name", "Pat")
    assert User.objects.get(email="pat@example.test").role == "therapist"
