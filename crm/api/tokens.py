"""API tokens' lifetime and revocation: a key works for API_TOKEN_TTL_HOURS after it was
issued, and a supervisor can revoke one sooner (crm.admin.tokens)."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.contrib.admin.models import DELETION, LogEntry
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import QuerySet
from rest_framework.authtoken.models import Token, TokenProxy

logger = logging.getLogger("crm.security")

# How much of a key a list may show: enough to match it with a desktop's configuration,
# far too little to use it (the remaining 32 hex digits are 128 bits).
SHOWN_PREFIX = 8


def lifetime() -> dt.timedelta:
    return dt.timedelta(hours=settings.API_TOKEN_TTL_HOURS)


def expires_at(token: Token) -> dt.datetime:
    created: dt.datetime = token.created
    return created + lifetime()


def is_expired(token: Token, *, now: dt.datetime) -> bool:
    return expires_at(token) <= now


def masked(key: str) -> str:
    return key[:SHOWN_PREFIX] + "…"


def describe(token: Token) -> str:
    """How the audit names a token: whose it is and the start of its key, never the key."""
    return f"API token {masked(token.key)} of {token.user.get_username()}"


def revoke(token: Token, *, by: AbstractBaseUser) -> str:
    """Delete the token (its key stops working at once) and record who did it, in the
    admin's history (django_admin_log) and the security log; returns the description."""
    description = describe(token)
    with transaction.atomic():
        Token.objects.filter(key=token.key).delete()
        LogEntry.objects.create(
            user_id=by.pk,
            content_type=_token_type(),
            # The list addresses a token by its user (TokenProxy): never log the key.
            object_id=str(token.user_id),
            object_repr=description[:200],
            action_flag=DELETION,
            change_message="Revoked",
        )
    logger.warning("%s revoked by %s", description, by.get_username())
    return description


def revocations() -> QuerySet[LogEntry]:
    """Revoked tokens, latest first: who revoked whose key, and when."""
    return LogEntry.objects.filter(content_type=_token_type(), action_flag=DELETION)


def _token_type() -> ContentType:
    return ContentType.objects.get_for_model(TokenProxy, for_concrete_model=False)
