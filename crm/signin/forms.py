"""The admin's sign-in form: username and password, and the authenticator's code for
whoever has set one up. A wrong code counts as a failed sign-in for the lockout."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.signals import user_login_failed

from crm.signin import second_factor

CODE_REQUIRED = "Enter the 6-digit code your authenticator app shows for this account."
CODE_WRONG = (
    "That code is not right, or it was used already. Enter the code your authenticator app "
    "shows now; after several misses, wait a minute before the next try."
)


class StaffLoginForm(AdminAuthenticationForm):
    otp_token = forms.CharField(
        label="Authentication code",
        required=False,
        max_length=10,
        help_text="From your authenticator app, if you set one up.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()  # the password, checked behind the lockout
        user = self.get_user()
        device = second_factor.confirmed_device(user)
        if device is None:
            return cleaned
        code = cleaned.get("otp_token") or ""
        if not code:
            raise forms.ValidationError(CODE_REQUIRED, code="code_required")
        if not second_factor.check_code(device, code):
            user_login_failed.send(
                sender=__name__,
                credentials={"username": user.get_username()},
                request=self.request,
            )
            raise forms.ValidationError(CODE_WRONG, code="code_wrong")
        user.otp_device = device  # type: ignore[attr-defined]  # django-otp keeps it at login
        return cleaned
