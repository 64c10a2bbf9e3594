"""One way to the log: only crm's `execute` appends (besides the store and the benchmark's
seeder), the write side reads no read model's module, and every event says who recorded it
in one shape, whichever door the command came through."""

from __future__ import annotations

import ast
import datetime as dt
import re
import uuid
from collections.abc import Collection, Iterator
from pathlib import Path

import pytest
from django.db import transaction

from crm import handlers
from crm.domain import events as ev
from crm.models import Event
from reminders.handlers import recording
from reminders.handlers.inbound import InboundSms, sms_receive

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("config", "crm", "engagement", "reminders", "fixtures", "bench", "deploy", "docs")
# Who may call the store's writers: the store itself, the one command path, the seeders
# (the benchmarks' large logs by COPY, held equal to the store's rows by
# tests/bench/test_copyseed.py).
WRITERS = ("crm/eventstore/", "crm/handlers/base.py", "bench/seed.py", "bench/copyseed.py")
STORE_WRITERS = frozenset({"append", "_append", "command_transaction", "CommandTransaction"})
EVENT_WRITES = frozenset({"create", "bulk_create", "get_or_create", "update_or_create"})
# The write side, and the read side it must not import: the selectors and screens, the API
# and admin, every projection's module, and every read model (the projections' own, and
# the inline profile's PatientProfile).
WRITE_SIDE = (
    "crm/handlers/",
    "engagement/handlers",
    "reminders/handlers",
)
READ_SIDE = (
    "crm.projections",
    "engagement.projection",
    "reminders.projections",
    "crm.api",
    "crm.admin",
    "engagement.api",
    "engagement.admin",
    "reminders.api",
    "reminders.admin",
)
READ_SIDE_PARTS = ("selectors", "screens")
# What the write side still takes from there, and why it is not a decision on a read model.
LOOKUPS = {
    "crm.projections.profile.save_profile": "the inline projection execute runs in its transaction",
    "reminders.projections.numbers.patients_with": (
        "an index from a number to the records with it; each command then reads the stream"
    ),
    "reminders.models.Reminder": (
        "the visit a reminder was scheduled for; the command checks it against the stream"
    ),
    "reminders.projections.numbers.number_status": (
        "a number's block (opt-out, holds) spans every stream that texted from it: the store "
        "has no index by number, so it is the read model brought up to the log's tail"
    ),
}
METADATA_KEYS = {"actor", "actor_id", "role", "channel", "correlation_id", "causation_id"}


def _modules() -> Iterator[tuple[str, ast.Module]]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            name = path.relative_to(ROOT).as_posix()
            if "/migrations/" not in name:
                yield name, ast.parse(path.read_text(), filename=name)
    yield "manage.py", ast.parse((ROOT / "manage.py").read_text())


def _the_logs_manager(owner: str) -> bool:
    """`Event.objects` or `models.Event.objects`; not another model whose name ends in Event
    (the desk's DeskEvent is a feed, not the log)."""
    return owner == "Event.objects" or owner.endswith(".Event.objects")


def _store_names(tree: ast.Module) -> set[str]:
    """The names a module reaches the store (or its writing module) by, aliases included."""
    names = {"eventstore", "writing"}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module in {"crm", "crm.eventstore"}:
            names |= {a.asname or a.name for a in node.names if a.name in names}
        elif isinstance(node, ast.Import):
            names |= {a.asname or a.name for a in node.names if a.name.startswith("crm.eventstore")}
    return names


# SQL that writes rows into the log, as a string anywhere in a module (f-strings included).
_SQL_WRITE = re.compile(r"\b(insert\s+into|copy)\s+crm_event\b", re.IGNORECASE)


def store_writes(tree: ast.Module) -> list[str]:
    """Where a module reaches the store's writers: `eventstore.append(...)`, one of them
    imported from crm.eventstore (under any alias), `Event.objects.create` and the like, or
    an INSERT into the event table."""
    found: list[str] = []
    store = _store_names(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("crm.eventstore"):
            found += [
                f"line {node.lineno}: imports {a.name}"
                for a in node.names
                if a.name in STORE_WRITERS
            ]
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name | ast.Attribute):
            owner = ast.unparse(node.value)
            if (
                node.attr in STORE_WRITERS and (owner in store or owner.split(".")[-1] in store)
            ) or (node.attr in EVENT_WRITES and _the_logs_manager(owner)):
                found.append(f"line {node.lineno}: {ast.unparse(node)}")
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and (written := _SQL_WRITE.search(node.value))
        ):
            found.append(f"line {node.lineno}: {' '.join(written.group(0).split()).upper()}")
    return found


def imported_names(tree: ast.Module) -> set[str]:
    """Every module, or name from a module, a file imports, at the top or inside a function."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def read_models() -> set[str]:
    """The class names of every read model: the catch-up projections' and the profile."""
    from crm.projections import runner

    return {"PatientProfile"} | {
        model.__name__
        for projection in runner.registered().values()
        for model in projection.read_models
    }


def is_read_side(name: str, models: Collection[str] = ()) -> bool:
    parts = name.split(".")
    return (
        any(name == r or name.startswith(f"{r}.") for r in READ_SIDE)
        or any(part in READ_SIDE_PARTS for part in parts)
        or ("models" in parts and parts[-1] in models)
    )


def test_only_the_command_path_appends_to_the_log():
    offenders = {
        name: found
        for name, tree in _modules()
        if not name.startswith(WRITERS) and (found := store_writes(tree))
    }

    assert offenders == {}


def test_the_check_catches_every_way_to_the_store_writers():
    for source in (
        "from crm import eventstore\neventstore.append(s, [], expected_version=0)",
        "import crm.eventstore\ncrm.eventstore.append(s, [], expected_version=0)",
        "from crm.eventstore import append as write\nwrite(s, [], expected_version=0)",
        "from crm import eventstore as log\nlog.append(s, [], expected_version=0)",
        "import crm.eventstore as log\nlog.append(s, [], expected_version=0)",
        "from crm.eventstore import writing as w\nw._append(s, [])",
        "from crm.eventstore.writing import command_transaction",
        "from crm import eventstore\nwith eventstore.command_transaction() as tx: pass",
        "from crm.models import Event\nEvent.objects.bulk_create(rows)",
        "from crm import models\nmodels.Event.objects.create(stream_id=s)",
        "cursor.execute('INSERT INTO crm_event (stream_id) VALUES (%s)', [s])",
        "cursor.execute('insert  into\\n crm_event(stream_id) VALUES (%s)', [s])",
        "cursor.copy('COPY crm_event (stream_id, version) FROM STDIN')",
        "cursor.copy(f'COPY crm_event ({columns}) FROM STDIN (FORMAT BINARY)')",
    ):
        assert store_writes(ast.parse(source)), source
    assert store_writes(ast.parse("events.append(1)\nfrom crm import eventstore")) == []
    assert store_writes(ast.parse("DeskEvent.objects.create(kind='screen_pop')")) == []
    assert store_writes(ast.parse("cursor.copy('COPY crm_event_archive FROM STDIN')")) == []


def test_the_write_side_never_imports_the_read_side():
    models = read_models()
    crossings = {
        name: sorted(m for m in imported_names(tree) if is_read_side(m, models))
        for name, tree in _modules()
        if name.startswith(WRITE_SIDE)
    }

    found = {name: found for name, found in crossings.items() if found}
    assert {n: [m for m in f if m not in LOOKUPS] for n, f in found.items()} == {
        n: [] for n in found
    }
    assert set(LOOKUPS) <= {m for f in found.values() for m in f}, "a lookup no longer used"
    assert is_read_side("engagement.projection") and is_read_side("crm.selectors.profile")
    assert is_read_side("crm.models.PatientProfile", models)
    assert is_read_side("engagement.models.Suggestion", models)
    assert is_read_side("reminders.projections.numbers.blocked_reasons")
    assert not is_read_side("crm.models.Event", models)


# --- one shape of metadata, every door -----------------------------------------------------


@pytest.mark.django_db
def test_a_merge_carries_a_key_and_the_metadata_every_command_carries(register, actor):
    survivor, duplicate = register(), register(first_name="Rowan J.")

    merged = handlers.patients_merge(
        surviving_patient_id=survivor,
        duplicate_patient_id=duplicate,
        actor=actor,
        idempotency_key="desk-7:merge-0001",
    )
    again = handlers.patients_merge(
        surviving_patient_id=survivor,
        duplicate_patient_id=duplicate,
        actor=actor,
        idempotency_key="desk-7:merge-0001",
    )

    assert again.duplicate and again.events == merged.events
    events = Event.objects.filter(event_type__in=["PatientsMerged", "PatientMergedInto"])
    assert sorted(e.stream_id for e in events) == sorted([survivor, duplicate])
    for event in events:
        assert set(event.metadata) - {"idempotency_key"} == METADATA_KEYS
        assert event.metadata["actor"] == actor.name


@pytest.mark.django_db
def test_a_text_a_dispatcher_outcome_and_a_desk_command_record_one_shape(register, actor, now):
    patient = register(phone="(617) 555-0148")
    handlers.note_add(patient_id=patient, text="Asked about parking", actor=actor)
    sms_receive(
        sms=InboundSms(
            provider_message_id="SM" + "4" * 32,
            from_number="+16175550148",
            body="Thanks, see you then",
            received_at=now,
        ),
        now=now,
    )
    with transaction.atomic():
        recording.record(
            [
                recording.Entry(
                    stream_id=patient,
                    events=(
                        ev.SmsFailed(
                            message_id=uuid.uuid4(),
                            error_code="30003",
                            error_message="The phone was unreachable.",
                            permanent=False,
                        ),
                    ),
                    idempotency_key=f"reminders:sms-failed:{patient}",
                    occurred_at=now + dt.timedelta(minutes=1),
                )
            ]
        )

    recorded = {e.event_type: e.metadata for e in Event.objects.filter(stream_id=patient)}
    channels = {t: recorded[t]["channel"] for t in ("NoteAdded", "SmsReceived", "SmsFailed")}
    assert channels == {"NoteAdded": actor.channel, "SmsReceived": "sms", "SmsFailed": "job"}
    shapes = {t: set(m) - {"idempotency_key"} for t, m in recorded.items()}
    assert all(shape == METADATA_KEYS for shape in shapes.values()), shapes
    assert recorded["SmsReceived"]["idempotency_key"].startswith("sms-in:")
    assert recorded["SmsFailed"]["idempotency_key"] == f"reminders:sms-failed:{patient}"
