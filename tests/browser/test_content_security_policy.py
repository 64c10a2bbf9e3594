"""Under the production Content Security Policy the admin and the API docs still work in a
real browser: nothing they need is refused, and the header is there."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def _refusals(page: Any) -> list[str]:
    """What the browser refused under the policy, as it reports it on the console."""
    refused: list[str] = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return refused


def test_a_supervisor_works_in_the_admin_with_nothing_refused(login):
    page = login("supervisor.oak", "supervisor")
    refused = _refusals(page)

    header = page.goto("/admin/").header_value("content-security-policy")
    page.get_by_role("link", name="Supervisor dashboard").click()
    page.goto("/admin/reminders/smsalias/add/")
    page.get_by_label("Kind").select_option("location")
    page.get_by_label("Name").fill("Riverside Behavioral Health, Suite 4")
    page.get_by_label("Alias").fill("Riverside, Suite 4")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url("**/admin/reminders/smsalias/")

    assert "script-src 'self'" in header and "frame-ancestors 'none'" in header
    assert "Riverside, Suite 4" in page.locator("#result_list").inner_text()
    assert refused == []


def test_the_api_docs_draw_every_operation_with_nothing_refused(login):
    page = login("agent.ash", "agent")
    refused = _refusals(page)

    page.goto("/api/docs/")
    page.locator(".opblock").first.wait_for()

    assert page.locator(".opblock").count() > 10
    assert "/api/v1/patients/lookup" in page.locator("#swagger-ui").inner_text()
    assert refused == []
