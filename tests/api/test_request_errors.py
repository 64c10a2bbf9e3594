"""What a malformed request gets back, on any endpoint: a problem document a person can
act on (400, 405, 406, 413, 415), never a 500, and nothing recorded."""

from __future__ import annotations

import pytest
from django.test import override_settings

from tests.api.conftest import problem, stream, url

pytestmark = pytest.mark.django_db


def post_raw(client, path, body, content_type="application/json", **headers):
    return client.generic("POST", path, body, content_type=content_type, **headers)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('{"text": "unterminated', "not valid JSON"),
        ("", "This field is required."),  # no body is an empty object: `text` is missing
        ('{"text": NaN}', "not valid JSON"),
        ('{"text": "a", "text": "b"}', "appears twice"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        (b'{"text": "\xff\xfe"}', "not UTF-8"),
        ('["a list"]', "Expected a dictionary"),
        ('"just text"', "Expected a dictionary"),
        ('{"text": "' + "9" * 5000 + '"}', None),
    ],
)
def test_a_body_that_is_not_a_json_object_is_a_400(agent, patient, body, message):
    response = post_raw(agent, url(patient, "notes/"), body)

    if message is None:  # a long string of digits is a perfectly good note
        assert response.status_code == 201
        return
    body = problem(response, 400)
    assert message in " ".join(m for ms in body["errors"].values() for m in ms)
    assert stream(patient) == ["PatientRegistered"]


def test_an_oversized_body_is_a_413_before_it_is_read(agent, patient):
    huge = '{"text": "' + "a" * 300_000 + '"}'

    body = problem(post_raw(agent, url(patient, "notes/"), huge), 413)

    assert "larger than 262144 bytes" in body["detail"]
    assert list(body["errors"]) == ["body"]
    assert stream(patient) == ["PatientRegistered"]


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1024)
def test_the_size_limit_follows_the_setting(agent, patient):
    problem(post_raw(agent, url(patient, "notes/"), '{"text": "' + "a" * 2000 + '"}'), 413)


def test_django_refusing_an_oversized_body_also_becomes_a_413():
    from django.core.exceptions import RequestDataTooBig

    from crm.api.problems import exception_handler

    response = exception_handler(RequestDataTooBig("too big"), {"request": None})

    assert response is not None
    assert response.status_code == 413
    assert response.data["errors"] == {"body": ["is larger than 262144 bytes."]}


def test_a_form_instead_of_json_is_a_415_saying_what_to_send(agent, patient):
    body = problem(
        post_raw(agent, url(patient, "notes/"), "text=hi", "application/x-www-form-urlencoded"), 415
    )

    assert "application/json" in body["detail"]


def test_a_client_that_only_accepts_html_still_gets_a_problem_document(agent, patient):
    response = agent.get(url(patient), HTTP_ACCEPT="text/html")

    problem(response, 406)


@pytest.mark.parametrize(
    "accept", [None, "*/*", "application/json", "application/*", "application/json; indent=4", ""]
)
def test_the_answer_s_media_type_is_what_drf_s_negotiation_gives(agent, patient, accept):
    # The API answers the usual Accept headers without DRF's negotiation: the same answer.
    from rest_framework.exceptions import NotAcceptable
    from rest_framework.negotiation import DefaultContentNegotiation
    from rest_framework.renderers import JSONRenderer
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    headers = {} if accept is None else {"HTTP_ACCEPT": accept}
    asked = Request(APIRequestFactory().get("/", **headers))
    try:
        _, expected = DefaultContentNegotiation().select_renderer(asked, [JSONRenderer()])
    except NotAcceptable:
        expected = None

    response = agent.get(url(patient), **headers)

    if expected is None:
        problem(response, 406)
    else:
        assert response.status_code == 200
        assert response.accepted_media_type == expected
        assert response["Content-Type"] == "application/json"
        assert response.json()["patient_id"] == str(patient)


def test_a_method_the_endpoint_does_not_have_is_a_405_with_allow(agent, patient):
    response = agent.delete(url(patient, "notes/"))

    problem(response, 405)
    assert response["Allow"] == "POST"
    problem(agent.get(url(patient, "notes/")), 405)


def test_an_unknown_query_parameter_on_a_command_is_a_400(agent, patient):
    body = problem(
        agent.post(url(patient, "notes/") + "?dry_run=1", {"text": "hi"}, format="json"), 400
    )

    assert list(body["errors"]) == ["dry_run"]
    assert stream(patient) == ["PatientRegistered"]


def test_a_crash_under_api_is_a_problem_document_not_an_html_page(rf):
    from crm.api.problems import server_error

    response = server_error(rf.get("/api/v1/patients/lookup"))

    assert response.status_code == 500
    assert response["Content-Type"] == "application/problem+json"


def test_a_request_for_a_host_we_do_not_serve_is_a_problem_document(agent):
    response = agent.get("/api/v1/patients/lookup", HTTP_HOST="evil.example")

    problem(response, 400)
