"""manage.py createuser: a user who may sign in when INSPECTOR_REQUIRE_LOGIN is on."""

import getpass
import sys

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Create a user who can sign in to Inspector (login mode, INSPECTOR_REQUIRE_LOGIN)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--email", default="")
        parser.add_argument(
            "--password-stdin",
            action="store_true",
            help="Read the password from the first line of standard input (for scripts).",
        )
        parser.add_argument("--staff", action="store_true", help="Also let them into admin tools.")

    def handle(self, username, email, password_stdin, staff, **options):
        users = get_user_model()
        if users.objects.filter(username=username).exists():
            raise CommandError(
                f"A user named {username!r} exists already; "
                "change their password with manage.py changepassword."
            )
        password = self.read_password(password_stdin)
        user = users(username=username, email=email, is_staff=staff)
        try:
            validate_password(password, user)
        except ValidationError as problem:
            raise CommandError(" ".join(problem.messages)) from None
        user.set_password(password)
        user.save()
        self.stdout.write(f"Created user {username!r}; they can sign in now.")

    def read_password(self, from_stdin):
        if from_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
        else:
            password = getpass.getpass("Password: ")
            if getpass.getpass("Password (again): ") != password:
                raise CommandError("The two passwords differ.")
        if not password:
            raise CommandError("The password may not be empty.")
        return password
