"""Errors the domain raises; each carries a message a clinic's staff can act on."""

from __future__ import annotations


class DomainError(Exception):
    """Base class for every error raised by the domain."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(DomainError):
    """A value is malformed (bad phone number, empty name...). Maps to HTTP 400."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.detail = message


class CommandRefused(DomainError):
    """The command is well formed but the patient's current state forbids it. HTTP 409."""


class PatientNotFound(DomainError):
    def __init__(self, patient_id: object) -> None:
        super().__init__(f"No patient with id {patient_id}.")
        self.patient_id = patient_id


class UnknownEventType(DomainError):
    """A stored event names a type or schema version this code does not know."""
