"""Deployment checks of our own (`manage.py check --deploy`): settings that only a real
set-up behind a proxy gets wrong."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register
from rest_framework.settings import api_settings


@register(Tags.security, deploy=True)
def client_address_behind_the_proxy(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Behind a TLS proxy with NUM_PROXIES=0 every request comes from the proxy's address:
    the audit records it instead of the client's, and one guesser's failures lock the whole
    clinic out of the admin (the per-address limit counts everyone together)."""
    if settings.SECURE_PROXY_SSL_HEADER is None or api_settings.NUM_PROXIES:
        return []
    return [
        Warning(
            "SECURE_PROXY_SSL_HEADER says a proxy sits in front, but NUM_PROXIES is 0: every "
            "request would come from the proxy's address, in the access audit and in the "
            "sign-in lockout (one address for the whole clinic).",
            hint="Set NUM_PROXIES to the number of proxies that append X-Forwarded-For "
            "(1 for one TLS proxy); deploy/README.md.",
            id="crm.W001",
        )
    ]
