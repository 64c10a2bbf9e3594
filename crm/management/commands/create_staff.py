"""Create a staff account: `python manage.py create_staff USERNAME --role ROLE`."""

from __future__ import annotations

import getpass
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from crm import staff
from crm.api.roles import ROLES

ATTEMPTS = 3


class Command(BaseCommand):
    """At a terminal it asks for the password twice and checks it against the password
    validators; otherwise (or with --generate-password) it makes a strong one and prints it
    once, alone on stdout."""

    help = "Create a staff user in one clinic role, or a service account for the API."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", required=True, help=f"One of: {', '.join(ROLES)}.")
        parser.add_argument("--email", default="")
        parser.add_argument(
            "--generate-password",
            action="store_true",
            help="Make a strong password and print it once instead of asking for one.",
        )
        parser.add_argument(
            "--service",
            action="store_true",
            help="A desktop integration's account: no password, no admin; give it a key "
            "with create_api_token.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        username: str = options["username"]
        role: str = options["role"]
        email: str = options["email"]
        if options["service"] and options["generate_password"]:
            raise CommandError("A service account has no password; drop --generate-password.")
        try:
            staff.check_new_account(username=username, role=role, email=email)
            password, shown = self._password(options, username=username, email=email)
            staff.staff_create(username=username, role=role, email=email, password=password)
        except staff.StaffRefused as refused:
            raise CommandError(str(refused)) from None
        if password is None:
            self.stderr.write(
                f"Created service account {username!r} ({role}): it cannot sign in to the "
                f"admin. Issue its API key with: manage.py create_api_token {username}"
            )
        elif shown:
            self.stderr.write(
                f"Created {role} {username!r}. The password follows; it is shown only once."
            )
            self.stdout.write(password)
        else:
            self.stderr.write(f"Created {role} {username!r}; they can sign in to the admin.")

    def _password(
        self, options: dict[str, Any], *, username: str, email: str
    ) -> tuple[str | None, bool]:
        """The password and whether it must be shown (it was generated)."""
        if options["service"]:
            return None, False
        if options["generate_password"] or not sys.stdin.isatty():
            return staff.generated_password(), True
        return self._ask(username=username, email=email), False

    def _ask(self, *, username: str, email: str) -> str:
        for _ in range(ATTEMPTS):
            password = getpass.getpass(f"Password for {username}: ")
            if password != getpass.getpass("Password (again): "):
                self.stderr.write("The two passwords differ; try again.")
                continue
            problems = staff.password_problems(password, username=username, email=email)
            if not problems:
                return password
            for problem in problems:
                self.stderr.write(problem)
        raise CommandError(f"No acceptable password after {ATTEMPTS} tries; nothing was created.")
