"""Only Twilio may post to the SMS webhooks: X-Twilio-Signature or 403, and nothing recorded."""

from __future__ import annotations

import pytest

from crm.models import Event
from tests.reminders.sms_webhook import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    CLINIC_NUMBER,
    INBOUND,
    STATUS,
    new_sid,
    post,
    sign,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _twilio(settings):
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_WEBHOOK_BASE_URL = ""


def a_text(body: str = "Thanks, see you then") -> dict[str, str]:
    return {
        "AccountSid": ACCOUNT_SID,
        "MessageSid": new_sid(),
        "From": "+16175550134",
        "To": CLINIC_NUMBER,
        "Body": body,
    }


def test_a_text_signed_with_our_auth_token_is_taken_and_answered_with_empty_twiml(client):
    response = post(client, INBOUND, a_text())

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    assert response.content.decode().endswith("<Response/>")


@pytest.mark.parametrize("path", [INBOUND, STATUS])
def test_a_request_without_a_signature_is_refused_and_records_nothing(client, path):
    response = post(client, path, a_text(), signature=None)

    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
    assert "X-Twilio-Signature" in response.json()["detail"]
    assert Event.objects.count() == 0


@pytest.mark.parametrize("path", [INBOUND, STATUS])
def test_a_wrong_signature_is_refused(client, path):
    form = a_text()
    forged = sign(f"http://testserver{path}", form, token="someone-elses-token")

    response = post(client, path, form, signature=forged)

    assert response.status_code == 403
    assert response.json()["status"] == 403
    assert Event.objects.count() == 0


def test_a_body_changed_after_signing_is_refused(client):
    form = a_text("Thanks, see you then")
    signature = sign(f"http://testserver{INBOUND}", form)
    form["Body"] = "STOP"

    response = post(client, INBOUND, form, signature=signature)

    assert response.status_code == 403
    assert Event.objects.count() == 0


def test_a_signature_for_another_url_is_refused(client):
    form = a_text()
    signature = sign(f"http://testserver{STATUS}", form)

    assert post(client, INBOUND, form, signature=signature).status_code == 403


def test_behind_a_proxy_the_signature_covers_the_public_url_twilio_called(client, settings):
    settings.TWILIO_WEBHOOK_BASE_URL = "https://crm.harbor-clinic.example"
    form = a_text()
    public = sign(f"https://crm.harbor-clinic.example{INBOUND}", form)
    internal = sign(f"http://testserver{INBOUND}", form)

    assert post(client, INBOUND, form, signature=internal).status_code == 403
    assert post(client, INBOUND, form, signature=public).status_code == 200


def test_without_an_auth_token_configured_every_webhook_is_refused(client, settings):
    form = a_text()
    signature = sign(f"http://testserver{INBOUND}", form)
    settings.TWILIO_AUTH_TOKEN = ""

    assert post(client, INBOUND, form, signature=signature).status_code == 403
    assert Event.objects.count() == 0


def test_a_shared_key_signature_is_not_accepted(client):
    form = a_text()
    response = client.post(
        INBOUND,
        form,
        HTTP_X_TWILIO_SIGNATURE=sign(f"http://testserver{INBOUND}", form),
        HTTP_X_TWILIO_WEBHOOKS_SIGNATURE_SETTINGS="key=webhooks_sharedkey_x,algorithm=HMAC_SHA256",
    )

    assert response.status_code == 403


def test_only_post_is_allowed(client):
    assert client.get(INBOUND).status_code == 405
    assert client.get(STATUS).status_code == 405
