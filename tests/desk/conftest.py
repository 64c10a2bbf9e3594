"""Fixtures for the desk's stream: the API's staff fixtures, a reader of SSE messages, and
the process's broadcaster stopped after each test (it holds a connection while it runs)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from crm.desk.broadcast import BROADCASTER
from tests.api.conftest import (  # noqa: F401  (fixtures)
    _answers_follow_the_schema,
    _fresh_throttle_counts,
    agent,
    client_for,
    clinician,
    front_desk,
    make_user,
    supervisor,
)

STREAM = "/api/v1/desk/stream"


@pytest.fixture(autouse=True)
def _broadcaster_stopped() -> Iterator[None]:
    yield
    BROADCASTER.stop()


@pytest.fixture
def committed(_empty_append_only_tables: None) -> Iterator[None]:
    """For tests that commit (the broadcaster reads only what is committed): the broadcaster
    lets go of its connection before the log and the audit are emptied at the end."""
    yield
    BROADCASTER.stop()


@dataclass
class Message:
    """One SSE message: its fields as sent, and comments (keep-alives) seen before it."""

    id: int | None = None
    event: str = "message"
    data: str = ""
    retry: int | None = None
    comments: list[str] = field(default_factory=list)

    def json(self) -> Any:
        return json.loads(self.data)


def parse(text: str) -> list[Message]:
    """Messages in a chunk of the stream, by the SSE rules (fields up to a blank line)."""
    found: list[Message] = []
    current = Message()
    for line in text.split("\n"):
        if line == "":
            if current.id is not None or current.data or current.retry or current.comments:
                found.append(current)
            current = Message()
        elif line.startswith(":"):
            current.comments.append(line[1:].strip())
        else:
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "id":
                current.id = int(value)
            elif name == "event":
                current.event = value
            elif name == "data":
                current.data = value
            elif name == "retry":
                current.retry = int(value)
    return found


class Reader:
    """Reads a streaming response's chunks (the test client's, or a socket's) as messages."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.chunks = chunks

    def next_messages(self) -> list[Message]:
        return parse(next(self.chunks).decode())

    def events(self, count: int, *, within: float = 5.0) -> list[Message]:
        """The next `count` events (keep-alives skipped), failing after `within` seconds."""
        deadline = time.monotonic() + within
        found: list[Message] = []
        while len(found) < count:
            assert time.monotonic() < deadline, f"only {len(found)} of {count} events came"
            found += [m for m in self.next_messages() if m.id is not None]
        return found
