"""Staff accounts: a person in one clinic role, or a desktop integration's service account
(an API key only, no password, no admin). Used by `manage.py create_staff`."""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser, Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Field

from crm.api.roles import ROLES


class StaffRefused(Exception):
    """Why an account was not created, in words the person at the terminal can act on."""


def generated_password() -> str:
    """24 URL-safe characters (144 random bits) from the operating system's source."""
    return secrets.token_urlsafe(18)


def check_new_account(*, username: str, role: str, email: str = "") -> None:
    """Refuse before anything is asked or written: unknown role, taken or malformed
    username, malformed address, role group not installed."""
    if role not in ROLES:
        raise StaffRefused(f"Unknown role {role!r}; choose one of: {', '.join(ROLES)}.")
    user_model = get_user_model()
    field = user_model._meta.get_field(user_model.USERNAME_FIELD)
    try:
        if isinstance(field, Field):  # max length and the characters a username may hold
            field.clean(username, None)
    except ValidationError as error:
        raise StaffRefused(f"Username {username!r}: {' '.join(error.messages)}") from None
    if user_model._default_manager.filter(**{user_model.USERNAME_FIELD: username}).exists():
        raise StaffRefused(f"A user named {username!r} already exists.")
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise StaffRefused(f"{email!r} is not an email address.") from None
    if not Group.objects.filter(name=role).exists():
        raise StaffRefused(
            f"The {role!r} role is not installed in this database; run `manage.py migrate`."
        )


def password_problems(password: str, *, username: str, email: str = "") -> list[str]:
    """What AUTH_PASSWORD_VALIDATORS say of this password for this user (empty: fine)."""
    user_model = get_user_model()
    candidate = user_model(**{user_model.USERNAME_FIELD: username, "email": email})
    try:
        validate_password(password, candidate)
    except ValidationError as error:
        return list(error.messages)
    return []


def staff_create(
    *, username: str, role: str, email: str = "", password: str | None
) -> AbstractUser:
    """A staff member who signs in to the admin with `password`; None makes a service
    account instead: no usable password and no admin access, for an API key only."""
    check_new_account(username=username, role=role, email=email)
    user_model = get_user_model()
    service = password is None
    with transaction.atomic():
        user: AbstractUser = user_model._default_manager.create_user(
            username=username, email=email, password=password, is_staff=not service
        )
        user.groups.add(Group.objects.get(name=role))
    return user
