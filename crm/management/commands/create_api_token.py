"""Issue an API token for a user: `python manage.py create_api_token <username>`; only the key
goes to stdout, so a script can capture it, and notes go to stderr."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from crm.api import tokens
from crm.api.roles import ROLES, roles_of


class Command(BaseCommand):
    help = "Issue an API token (Authorization: Token <key>) for an existing user."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--rotate",
            action="store_true",
            help="Replace the user's existing token; the old key stops working at once.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        username: str = options["username"]
        user_model = get_user_model()
        try:
            user = user_model._default_manager.get_by_natural_key(username)
        except user_model.DoesNotExist:
            raise CommandError(f"No user named {username!r}; create the user first.") from None
        if not user.is_active:
            raise CommandError(f"User {username!r} is inactive; activate the account first.")
        with transaction.atomic():
            existing = Token.objects.filter(user=user).first()
            if existing is not None and not options["rotate"]:
                raise CommandError(
                    f"{username!r} already has a token. Use --rotate to replace it "
                    "(the old key stops working)."
                )
            if existing is not None:
                existing.delete()
            token = Token.objects.create(user=user)
        if not roles_of(user):
            self.stderr.write(
                f"Warning: {username!r} is in no clinic role group ({', '.join(ROLES)}); "
                "the API will answer 403 until they are."
            )
        expiry = timezone.localtime(tokens.expires_at(token))
        self.stderr.write(
            f"The key works until {expiry:%Y-%m-%d %H:%M %Z} (API_TOKEN_TTL_HOURS); "
            "rotate it before then."
        )
        self.stdout.write(token.key)
