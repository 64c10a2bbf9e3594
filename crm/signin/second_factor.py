"""The rules of the TOTP second factor of staff sign-in (django-otp's TOTPDevice); the login
form and the setup page call these."""

from __future__ import annotations

from base64 import b32encode
from typing import Any

import django_otp
import segno
from django.conf import settings
from django.http import HttpRequest
from django.utils.safestring import SafeString, mark_safe
from django_otp.plugins.otp_totp.models import TOTPDevice

from crm.api.roles import SUPERVISOR, roles_of

DEVICE_NAME = "Authenticator app"
_CACHE_ATTRIBUTE = "_crm_confirmed_totp"


def confirmed_device(user: Any) -> TOTPDevice | None:
    """The user's confirmed authenticator, read once per user object."""
    if user is None or not user.is_authenticated:
        return None
    if not hasattr(user, _CACHE_ATTRIBUTE):
        device = TOTPDevice.objects.devices_for_user(user, confirmed=True).first()
        setattr(user, _CACHE_ATTRIBUTE, device)
    found: TOTPDevice | None = getattr(user, _CACHE_ATTRIBUTE)
    return found


def required_for(user: Any) -> bool:
    return bool(settings.STAFF_2FA_REQUIRED) and SUPERVISOR in roles_of(user)


def verified(user: Any) -> bool:
    """Whether this session's sign-in included a code (OTPMiddleware sets otp_device)."""
    return getattr(user, "otp_device", None) is not None


def satisfied(user: Any) -> bool:
    """May this signed-in user use the admin as far as the second factor goes?

    Optional for everyone: whoever has a confirmed device must give its code when signing
    in; with STAFF_2FA_REQUIRED=1 a supervisor without one is sent to add one first.
    """
    if verified(user):
        return True
    if confirmed_device(user) is not None:
        return False  # a session from before the device was added: sign in again
    return not required_for(user)


def setup_required(user: Any) -> bool:
    """A signed-in staff member who must add an authenticator before anything else."""
    return (
        user.is_authenticated
        and user.is_active
        and user.is_staff
        and confirmed_device(user) is None
        and required_for(user)
    )


def pending_device(user: Any) -> TOTPDevice:
    """The device being set up: the same secret until it is confirmed, so reloading the
    page does not invalidate a code the app was already given."""
    device = TOTPDevice.objects.devices_for_user(user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def check_code(device: TOTPDevice, code: str) -> bool:
    """One try at a code; django-otp throttles repeated misses and refuses a code twice."""
    code = code.strip().replace(" ", "")
    if not code.isdigit():
        return False
    return django_otp.verify_token(device.user, device.persistent_id, code) is not None


def confirm(request: HttpRequest, device: TOTPDevice, code: str) -> bool:
    """Confirm the pending device with a first code; the session then counts as verified."""
    if not check_code(device, code):
        return False
    device.refresh_from_db()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=device.user, confirmed=False).delete()
    django_otp.login(request, device)
    setattr(request.user, _CACHE_ATTRIBUTE, device)
    return True


def secret_text(device: TOTPDevice) -> str:
    """The secret as apps ask for it when typed in: base32, in groups of four."""
    secret = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def qr_code(device: TOTPDevice) -> SafeString:
    """The otpauth URI as an inline SVG (no image request, nothing for a CSP to allow)."""
    svg = segno.make(device.config_url, error="m").svg_inline(
        scale=4, light="#fff", title="QR code for your authenticator app"
    )
    # Safe: the title is ours, and the URI only shapes the paths segno draws.
    return mark_safe(svg)
