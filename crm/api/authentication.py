"""Token authentication that reads the user's clinic roles in the same query as the token,
and the admin's session once its second factor is done."""

from __future__ import annotations

import functools
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.authentication import SessionScheme
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token
from rest_framework.request import Request

from crm.api import tokens
from crm.api.roles import ROLES, remember_roles
from crm.signin import second_factor


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token authentication (same header, same errors), with the roles joined in.

    Every API request needs both (the permission check asks for a role), so the token, its
    user and the user's roles come back in one round trip of plain SQL instead of two ORM
    queries, whose building cost more than the database's work (docs/benchmarks.md). The
    same row says whether the token has outlived API_TOKEN_TTL_HOURS (crm.api.tokens).
    """

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        user_model = get_user_model()
        # One plain statement: 0.3 ms a call, the ORM's 3.3 ms (docs/benchmarks.md, 2026-12-06).
        sql, user_columns = _query()
        issued_after = connection.ops.adapt_datetimefield_value(timezone.now() - tokens.lifetime())
        with connection.cursor() as cursor:
            cursor.execute(sql, [issued_after, key])
            rows = cursor.fetchall()
        if not rows:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        first = rows[0]
        user = user_model.from_db(connection.alias, user_columns, first[3 : 3 + len(user_columns)])
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        if not first[2]:
            raise exceptions.AuthenticationFailed(
                f"Token expired: keys stop working {settings.API_TOKEN_TTL_HOURS} hours after "
                "they are issued. Ask a supervisor for a new one "
                "(manage.py create_api_token --rotate)."
            )
        token = Token.from_db(
            connection.alias, ["key", "user_id", "created"], [key, user.pk, first[1]]
        )
        token.user = user
        remember_roles(user, frozenset(row[-1] for row in rows if row[-1] in ROLES))
        return (user, token)


@functools.cache
def _query() -> tuple[str, list[str]]:
    user_model = get_user_model()
    memberships = user_model.groups.through
    columns = [field.attname for field in user_model._meta.concrete_fields]
    qn = connection.ops.quote_name
    user_table = qn(user_model._meta.db_table)
    selected = ", ".join(f"u.{qn(str(field.column))}" for field in user_model._meta.concrete_fields)
    sql = (
        f"SELECT t.key, t.created, t.created > %s, {selected}, g.name "
        f"FROM {qn(Token._meta.db_table)} t "
        f"JOIN {user_table} u ON u.{qn(str(user_model._meta.pk.column))} = t.user_id "
        f"LEFT JOIN {qn(memberships._meta.db_table)} m ON m.user_id = t.user_id "
        f"LEFT JOIN {qn(Group._meta.db_table)} g ON g.id = m.group_id "
        "WHERE t.key = %s"
    )
    return sql, columns


class SessionAuthentication(authentication.SessionAuthentication):
    """The admin's session, as far as the admin itself would let it in: a session whose
    owner still owes the second factor (crm.signin.second_factor) counts as no session."""

    def authenticate(self, request: Request) -> tuple[Any, None] | None:
        found = super().authenticate(request)
        if found is not None and not second_factor.satisfied(found[0]):
            return None
        return found


class SecondFactorSessionScheme(SessionScheme):  # type: ignore[no-untyped-call]
    """The schema describes it as the plain session cookie it is."""

    target_class = "crm.api.authentication.SessionAuthentication"
