"""What a web process does once before it serves, so the first request a worker takes costs
what the others do (gunicorn restarts workers every GUNICORN_MAX_REQUESTS)."""

from __future__ import annotations

import phonenumbers
from django.conf import settings
from django.urls import get_resolver

from crm.api.lookup import render_lookup
from crm.domain.phones import format_national, normalize_phone


def warm_up() -> None:
    """Import every view through the URLconf, compile the URL patterns' and the default
    region's phone expressions and the screen pop's renderer: a new worker's first screen
    pop did all that and took 95 ms against 3 ms. Under gunicorn's preload this runs once in
    the master and every forked worker inherits it; without preload, in each worker as it
    boots. It opens no database connection: none may cross a fork (deploy/gunicorn.conf.py).
    """
    resolver = get_resolver()
    resolver.url_patterns  # noqa: B018  imports the URLconf: every view and serializer
    resolver.reverse_dict  # noqa: B018  compiles every pattern's expression
    example = phonenumbers.example_number(settings.PHONE_DEFAULT_REGION)
    if example is not None:  # the region's metadata and expressions, loaded on first use
        e164 = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
        format_national(normalize_phone(e164, region=settings.PHONE_DEFAULT_REGION))
    render_lookup()
