"""A body sent in chunks (Transfer-Encoding: chunked, no Content-Length) is never read as
empty: read to its end when the server says it ends (gunicorn de-chunks it and sets
wsgi.input_terminated), refused with 411 when nothing says where it ends."""

from __future__ import annotations

import io
import json
from types import SimpleNamespace

import pytest
from django.test import override_settings
from gunicorn.http.body import Body, ChunkedReader  # type: ignore[import-untyped]
from gunicorn.http.unreader import IterUnreader  # type: ignore[import-untyped]

from crm import eventstore
from crm.domain import events as ev
from crm.models import Event
from tests.api.conftest import problem, stream, url

pytestmark = pytest.mark.django_db


def chunked(client, method: str, path: str, body: bytes, *, terminated: bool, **extra):
    """As a server hands Django a chunked request: the header, no CONTENT_LENGTH, and (for
    gunicorn) a de-chunked stream that reads short at its end."""
    content_type = extra.pop("content_type", "application/json")
    environ = {
        "HTTP_TRANSFER_ENCODING": "chunked",
        "wsgi.input": io.BytesIO(body),
        **extra,
    }
    if terminated:
        environ["wsgi.input_terminated"] = True
    # No data: the client then sets no CONTENT_LENGTH, as a server does for a chunked body.
    return client.generic(method, path, b"", content_type=content_type, **environ)


def confirm(patient, booked) -> str:
    return url(patient, f"appointments/{booked}/confirm/")


def test_a_chunked_confirmation_nothing_can_read_to_its_end_is_a_411(front_desk, patient, booked):
    before = Event.objects.filter(stream_id=patient).count()

    body = problem(
        chunked(front_desk, "POST", confirm(patient, booked), b'{"via": "sms"}', terminated=False),
        411,
    )

    assert list(body["errors"]) == ["Content-Length"]
    assert "Nothing was recorded" in body["detail"]
    assert Event.objects.filter(stream_id=patient).count() == before


def test_a_chunked_confirmation_gunicorn_de_chunked_is_recorded_as_sent(
    front_desk, patient, booked
):
    response = chunked(
        front_desk, "POST", confirm(patient, booked), b'{"via": "sms"}', terminated=True
    )

    assert response.status_code == 200, response.content
    confirmed = eventstore.read_stream(patient)[-1].event
    assert isinstance(confirmed, ev.AppointmentConfirmed)
    assert confirmed.via is ev.Channel.SMS  # what was sent, not the default (voice)


@pytest.mark.parametrize(
    ("tail", "document"),
    [
        ("notes/", {"text": "Asked for a callback after 5 pm."}),
        ("crisis-contacts/", {"risk_level": "low", "handoff": "none", "safety_plan": "none"}),
    ],
)
def test_every_command_reads_a_de_chunked_body_whole(agent, patient, tail, document):
    body = json.dumps(document).encode()

    response = chunked(agent, "POST", url(patient, tail), body, terminated=True)

    assert response.status_code == 201, response.content


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH"])
def test_every_writing_method_refuses_a_body_it_cannot_read(agent, patient, method):
    response = chunked(agent, method, url(patient, "notes/"), b'{"text": "hi"}', terminated=False)

    problem(response, 411)
    assert stream(patient) == ["PatientRegistered"]


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1024)
def test_a_de_chunked_body_past_the_size_limit_is_a_413(agent, patient):
    body = json.dumps({"text": "a" * 2000}).encode()

    problem(chunked(agent, "POST", url(patient, "notes/"), body, terminated=True), 413)

    assert stream(patient) == ["PatientRegistered"]


def test_a_read_is_not_refused_for_a_transfer_encoding_header(agent, patient):
    response = chunked(agent, "GET", url(patient), b"", terminated=False)

    assert response.status_code == 200


def test_a_body_with_its_length_is_untouched(front_desk, patient, booked):
    response = front_desk.post(
        confirm(patient, booked),
        {"via": ev.Channel.SMS.value},
        format="json",
        HTTP_TRANSFER_ENCODING="identity",
    )

    assert response.status_code == 200, response.content


def gunicorn_stream(wire: bytes) -> Body:
    """What gunicorn hands Django as wsgi.input for a chunked body: it de-chunks as it is
    read, so malformed framing raises only once the application reads."""
    return Body(ChunkedReader(SimpleNamespace(trailers=[]), IterUnreader([wire])))


@pytest.mark.parametrize(
    "wire",
    [
        pytest.param(b'zz\r\n{"via": "sms"}\r\n0\r\n\r\n', id="a chunk size that is no number"),
        pytest.param(b'e\r\n{"via": "sms"}XX0\r\n\r\n', id="a chunk without its CRLF"),
        pytest.param(b'ff\r\n{"via": "sms"}', id="a body cut off mid-chunk"),
    ],
)
def test_a_confirmation_in_malformed_chunks_is_a_400_and_confirms_nothing(
    front_desk, patient, booked, wire
):
    before = stream(patient)

    body = problem(
        chunked(
            front_desk,
            "POST",
            confirm(patient, booked),
            b"",
            terminated=True,
            **{"wsgi.input": gunicorn_stream(wire)},
        ),
        400,
    )

    assert list(body["errors"]) == ["body"]
    assert "Nothing was recorded" in body["errors"]["body"][0]
    assert stream(patient) == before


def test_well_formed_chunks_through_gunicorns_reader_are_recorded(front_desk, patient, booked):
    wire = b'e\r\n{"via": "sms"}\r\n0\r\n\r\n'

    response = chunked(
        front_desk,
        "POST",
        confirm(patient, booked),
        b"",
        terminated=True,
        **{"wsgi.input": gunicorn_stream(wire)},
    )

    assert response.status_code == 200, response.content
    assert eventstore.read_stream(patient)[-1].event.via is ev.Channel.SMS  # type: ignore[attr-defined]
