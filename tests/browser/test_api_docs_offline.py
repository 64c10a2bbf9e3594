"""The API docs work on a desk with no way out to the internet: Swagger UI comes from the
project's own static files (drf-spectacular-sidecar), and no request leaves the host."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.django_db(transaction=True)

LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "[::1]"}


def test_swagger_ui_lists_the_operations_with_the_network_off(login):
    page = login("agent.ash", "agent")
    attempted: list[str] = []
    loaded: list[str] = []

    def network_off(route: Any) -> None:
        url = route.request.url
        if urlsplit(url).hostname in LOCAL_HOSTS:
            loaded.append(urlsplit(url).path)
            route.continue_()
        else:
            attempted.append(url)
            route.abort("internetdisconnected")

    page.context.route("**/*", network_off)
    # What the policy refused before it reached the network counts as an attempt too.
    page.on(
        "console",
        lambda message: attempted.append(message.text) if "https://" in message.text else None,
    )

    page.goto("/api/docs/")
    page.locator(".opblock").first.wait_for()

    assert page.locator(".opblock").count() > 10
    assert "/api/v1/suggestions/" in page.locator("#swagger-ui").inner_text()
    assert any(path.startswith("/static/drf_spectacular_sidecar/") for path in loaded)
    assert "/api/schema/" in loaded
    assert attempted == []
