"""The API docs work on a desk with no way out to the internet: Swagger UI and ReDoc come
from the project's own static files (drf-spectacular-sidecar); no request leaves the host."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.django_db(transaction=True)

LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "[::1]"}


def _network_off(page: Any) -> tuple[list[str], list[str]]:
    """Abort every request that would leave the host; return (attempted, loaded paths)."""
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
    return attempted, loaded


def _refused_by_the_policy(page: Any) -> list[str]:
    """What the page asked for and the CSP refused before it reached the network."""
    refused: list[str] = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text)
            if "Content Security Policy" in message.text or "https://" in message.text
            else None
        ),
    )
    return refused


def test_swagger_ui_lists_the_operations_with_the_network_off(login):
    page = login("agent.ash", "agent")
    attempted, loaded = _network_off(page)
    refused = _refused_by_the_policy(page)

    page.goto("/api/docs/")
    page.locator(".opblock").first.wait_for()

    assert page.locator(".opblock").count() > 10
    assert "/api/v1/suggestions/" in page.locator("#swagger-ui").inner_text()
    assert any(path.startswith("/static/drf_spectacular_sidecar/") for path in loaded)
    assert "/api/schema/" in loaded
    assert attempted == []
    assert refused == []


def test_redoc_lists_the_operations_with_the_network_off(login):
    page = login("agent.ash", "agent")
    attempted, loaded = _network_off(page)
    refused = _refused_by_the_policy(page)

    page.goto("/api/redoc/")
    page.get_by_text("/api/v1/suggestions/", exact=False).first.wait_for()

    assert page.locator("[data-role='search:result'], li[data-item-id]").count() > 10
    assert any(path.startswith("/static/drf_spectacular_sidecar/redoc/") for path in loaded)
    assert "/api/schema/" in loaded
    assert attempted == []
    # ReDoc's bundle always asks for its maker's logo from their CDN; the policy refuses it
    # before any request is made (and ReDoc then leaves the logo out). Nothing else.
    assert all("cdn.redoc.ly/redoc/logo-mini.svg" in text for text in refused), refused
