"""manage.py createuser, for login mode."""

import io

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db


def create(*args):
    """Run the command; the password comes from sys.stdin, set by the test."""
    out = io.StringIO()
    call_command("createuser", *args, "--password-stdin", stdout=out)
    return out.getvalue()


def test_it_creates_a_user_who_can_sign_in(monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("a long passphrase 42\n"))
    out = create("ada", "--email", "ada@example.com")
    assert "Created user 'ada'" in out
    user = authenticate(username="ada", password="a long passphrase 42")
    assert user is not None and user.email == "ada@example.com" and not user.is_staff


def test_staff_users_are_marked_staff(monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("a long passphrase 42\n"))
    create("bob", "--staff")
    assert User.objects.get(username="bob").is_staff


def test_it_refuses_a_user_that_exists(monkeypatch):
    User.objects.create_user("ada", password="x")
    monkeypatch.setattr("sys.stdin", io.StringIO("a long passphrase 42\n"))
    with pytest.raises(CommandError, match="exists already"):
        create("ada")


@pytest.mark.parametrize("password, message", [("\n", "may not be empty"), ("1234\n", "too short")])
def test_it_refuses_a_weak_or_empty_password(monkeypatch, password, message):
    monkeypatch.setattr("sys.stdin", io.StringIO(password))
    with pytest.raises(CommandError, match=message):
        create("ada")
    assert not User.objects.filter(username="ada").exists()
