"""The events of a patient's stream, catalogue v1: validated when built from data
(`base.build`) and before they are stored."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from crm.domain.events.base import Bounded, DomainEvent, EventDataInvalid, registered
from crm.domain.events.messaging import ErrorCode, InboundBody, Phone, ProviderSid

__all__ = [
    "OTHER_REASON",
    "AppointmentCancelled",
    "AppointmentCompleted",
    "AppointmentConfirmed",
    "AppointmentNoShowRecorded",
    "AppointmentRescheduled",
    "AppointmentScheduled",
    "AppointmentType",
    "CallDirection",
    "CallDisposition",
    "CallLogged",
    "CallWrappedUp",
    "CancelledBy",
    "Channel",
    "ConsentPurpose",
    "ConsentRecorded",
    "ConsentRevoked",
    "ConsentSource",
    "ContactDetailsChanged",
    "CrisisContactRecorded",
    "CrisisFlagCleared",
    "CrisisHandoff",
    "DemographicsChanged",
    "Modality",
    "NoteAdded",
    "PatientDeceased",
    "PatientIdentifierRecorded",
    "PatientMergedInto",
    "PatientRegistered",
    "PatientsMerged",
    "RiskLevel",
    "SafetyPlan",
    "SatisfactionRecorded",
    "SmsDelivered",
    "SmsFailed",
    "SmsIntent",
    "SmsReceived",
    "SmsSent",
    "TestCompleted",
    "TestOrdered",
]


# Text that lands in a read model's column is no longer than the column (crm/models,
# engagement/models.py; tests/crm/test_event_bounds.py holds them together), and text the
# desk types is no longer than its forms take: an event is forever, so a longer value is
# refused at every door.
Name = Annotated[str, Bounded(200)]  # PatientProfile.first_name, last_name, preferred_name
Email = Annotated[str, Bounded(254, example="rowan@example.org")]  # PatientProfile.email
Language = Annotated[str, Bounded(16, example="es")]  # PatientProfile.language, Reminder's
TimeZone = Annotated[str, Bounded(64, example="America/Chicago")]  # PatientProfile's, Reminder's
Staff = Annotated[str, Bounded(150, example="agent.avery")]  # a username; Suggestion.assignee
SuggestionId = Annotated[str, Bounded(200)]  # Suggestion.suggestion_id
SuggestionKind = Annotated[str, Bounded(40)]  # Suggestion.kind
Label = Annotated[str, Bounded(200)]  # a provider, a location, a test's name
Reason = Annotated[str, Bounded(1000)]  # why: a call, a move, a cancellation, an outcome
# A contact reason's code from the clinic's list (crm.models.ContactReason.code), or "other".
ReasonCode = Annotated[str, Bounded(40, example="billing")]
# The reason of a contact the clinic's list does not name; free text counts as this one.
OTHER_REASON = "other"


class Channel(enum.StrEnum):
    SMS = "sms"
    VOICE = "voice"
    EMAIL = "email"
    CHAT = "chat"


class ConsentPurpose(enum.StrEnum):
    APPOINTMENT_REMINDERS = "appointment_reminders"
    CARE_MESSAGES = "care_messages"
    SURVEYS = "surveys"


class ConsentSource(enum.StrEnum):
    VERBAL = "verbal"
    WRITTEN = "written"
    PORTAL = "portal"
    SMS_KEYWORD = "sms_keyword"
    CARRIER = "carrier"
    UNKNOWN = "unknown"


class CallDirection(enum.StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class CallDisposition(enum.StrEnum):
    CONNECTED = "connected"
    VOICEMAIL = "voicemail"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    ABANDONED = "abandoned"
    MISSED = "missed"
    WRONG_NUMBER = "wrong_number"


class AppointmentType(enum.StrEnum):
    ANNUAL_WELLNESS = "annual_wellness"
    NEW_PATIENT = "new_patient"
    FOLLOW_UP = "follow_up"
    THERAPY = "therapy"
    PSYCHIATRY = "psychiatry"
    TEST = "test"


class Modality(enum.StrEnum):
    IN_PERSON = "in_person"
    TELEHEALTH = "telehealth"


class CancelledBy(enum.StrEnum):
    PATIENT = "patient"
    CLINIC = "clinic"


class RiskLevel(enum.StrEnum):
    LOW = "low"
    MODERATE = "moderate"
    HIGH = "high"
    IMMINENT = "imminent"


class CrisisHandoff(enum.StrEnum):
    NONE = "none"
    CLINICIAN = "clinician"
    MOBILE_CRISIS_TEAM = "mobile_crisis_team"
    CRISIS_LINE = "crisis_line"
    EMERGENCY_SERVICES = "emergency_services"


class SmsIntent(enum.StrEnum):
    """What an inbound text asks for, as read by the inbound SMS webhook."""

    UNREAD = ""  # recorded before replies were read (older events) or not read yet
    OPT_OUT = "opt_out"  # STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT, REVOKE, OPTOUT
    OPT_IN = "opt_in"  # START, YES, UNSTOP
    HELP = "help"  # HELP, INFO
    CONFIRM = "confirm"  # C, CONFIRM
    RESCHEDULE = "reschedule"  # R, RESCHEDULE: an agent calls to find a new time
    SATISFACTION = "satisfaction"  # 1-5 after a satisfaction text
    STOP_REQUEST = "stop_request"  # free text that asks us to stop: an agent reviews it
    FREE_TEXT = "free_text"  # anything else: an agent calls back


class SafetyPlan(enum.StrEnum):
    NONE = "none"
    REVIEWED = "reviewed"
    CREATED = "created"
    UPDATED = "updated"


# --- registration and demographics -------------------------------------------------------


@registered("PatientRegistered")
@dataclass(frozen=True, kw_only=True, slots=True)
class PatientRegistered(DomainEvent):
    first_name: Name
    last_name: Name
    date_of_birth: dt.date
    preferred_name: Name = ""
    phone: Phone | None = None
    email: Email = ""
    language: Language = "en"
    timezone: TimeZone = ""


@registered("DemographicsChanged")
@dataclass(frozen=True, kw_only=True, slots=True)
class DemographicsChanged(DomainEvent):
    """The full set of demographics after the change."""

    first_name: Name
    last_name: Name
    date_of_birth: dt.date
    preferred_name: Name = ""
    language: Language = "en"


@registered("ContactDetailsChanged")
@dataclass(frozen=True, kw_only=True, slots=True)
class ContactDetailsChanged(DomainEvent):
    """The full set of contact details after the change."""

    phone: Phone | None = None
    email: Email = ""
    timezone: TimeZone = ""


# --- consent -------------------------------------------------------------------------------


def _consent_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    # v1 recorded SMS opt-ins for reminders only, with no source.
    return {**data, "purpose": ConsentPurpose.APPOINTMENT_REMINDERS.value, "source": "unknown"}


@registered("ConsentRecorded", version=2, upcasters={1: _consent_v1_to_v2})
@dataclass(frozen=True, kw_only=True, slots=True)
class ConsentRecorded(DomainEvent):
    channel: Channel
    purpose: ConsentPurpose
    source: ConsentSource


@registered("ConsentRevoked")
@dataclass(frozen=True, kw_only=True, slots=True)
class ConsentRevoked(DomainEvent):
    """Consent withdrawn on a channel, for one purpose or (purpose None) for all of them."""

    channel: Channel
    source: ConsentSource
    purpose: ConsentPurpose | None = None
    phone: Phone | None = None


# --- calls, notes, crisis ------------------------------------------------------------------


def _call_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    # v1 kept whole minutes and had no hold or wrap-up time.
    upgraded = {key: value for key, value in data.items() if key != "duration_minutes"}
    minutes = data.get("duration_minutes", 0)
    if isinstance(minutes, bool) or not isinstance(minutes, int):
        raise EventDataInvalid("duration_minutes", "must be a whole number.")
    upgraded["duration_seconds"] = minutes * 60
    return upgraded


def _call_v2_to_v3(data: dict[str, Any]) -> dict[str, Any]:
    # v2 kept the reason as free text only: a stated one is an "other" reason, its words kept.
    reason = data.get("reason", "")
    stated = isinstance(reason, str) and bool(reason.strip())
    return {**data, "reason_code": OTHER_REASON if stated else ""}


def _call_v3_to_v4(data: dict[str, Any]) -> dict[str, Any]:
    # v3 calls were typed in by hand: no phone system's id, no time in its queue.
    return {**data, "call_sid": "", "queue_seconds": 0}


# Twilio's id of a call: CA and 32 hex digits.
CallSid = Annotated[
    str,
    Bounded(
        34,
        r"CA[0-9a-fA-F]{32}",
        shape="a Twilio call id: CA and 32 hex digits",
        example="CA0123456789abcdef0123456789abcdef",
    ),
]
Note = Annotated[str, Bounded(2000)]  # an agent's words typed at a call's wrap-up


@registered(
    "CallLogged",
    version=4,
    upcasters={1: _call_v1_to_v2, 2: _call_v2_to_v3, 3: _call_v3_to_v4},
)
@dataclass(frozen=True, kw_only=True, slots=True)
class CallLogged(DomainEvent):
    call_id: uuid.UUID
    direction: CallDirection
    channel: Channel
    agent: Staff
    started_at: dt.datetime
    duration_seconds: int
    disposition: CallDisposition
    # The reason's code in the clinic's list ("other" when the list names none; "" when no
    # reason was given), and its words: the list's label when it was logged, or what the
    # agent wrote. Repeat contacts are matched on the code, never on the words.
    reason_code: ReasonCode = ""
    reason: Reason = ""
    resolved_first_contact: bool = False  # the agent's answer: nothing left to follow up
    hold_seconds: int = 0
    wrap_up_seconds: int = 0
    # Logged by the phone system (crm.voice): its id of the call, and how long the caller
    # waited in the clinic's queue before an agent answered or the call ended there.
    call_sid: CallSid = ""
    queue_seconds: int = 0


@registered("CallWrappedUp")
@dataclass(frozen=True, kw_only=True, slots=True)
class CallWrappedUp(DomainEvent):
    """An agent's wrap-up of a call logged before it (by the phone system): the reason, whether
    it was resolved on first contact, and a note. It completes that call: not a second one."""

    call_id: uuid.UUID
    agent: Staff
    reason_code: ReasonCode = ""
    reason: Reason = ""
    resolved_first_contact: bool = False
    note: Note = ""
    wrap_up_seconds: int = 0


@registered("NoteAdded")
@dataclass(frozen=True, kw_only=True, slots=True)
class NoteAdded(DomainEvent):
    note_id: uuid.UUID
    text: str
    author: Staff
    restricted: bool = False


@registered("CrisisContactRecorded")
@dataclass(frozen=True, kw_only=True, slots=True)
class CrisisContactRecorded(DomainEvent):
    crisis_id: uuid.UUID
    risk_level: RiskLevel
    handoff: CrisisHandoff
    safety_plan: SafetyPlan
    agent: Staff
    summary: str = ""


@registered("CrisisFlagCleared")
@dataclass(frozen=True, kw_only=True, slots=True)
class CrisisFlagCleared(DomainEvent):
    cleared_by: Staff
    reason: str


# --- appointments and tests ----------------------------------------------------------------


@registered("AppointmentScheduled")
@dataclass(frozen=True, kw_only=True, slots=True)
class AppointmentScheduled(DomainEvent):
    appointment_id: uuid.UUID
    appointment_type: AppointmentType
    modality: Modality
    starts_at: dt.datetime
    duration_minutes: int
    provider: Label
    location: Label


@registered("AppointmentRescheduled")
@dataclass(frozen=True, kw_only=True, slots=True)
class AppointmentRescheduled(DomainEvent):
    appointment_id: uuid.UUID
    starts_at: dt.datetime
    previous_starts_at: dt.datetime
    reason: Reason = ""


@registered("AppointmentConfirmed")
@dataclass(frozen=True, kw_only=True, slots=True)
class AppointmentConfirmed(DomainEvent):
    appointment_id: uuid.UUID
    via: Channel


@registered("AppointmentCancelled")
@dataclass(frozen=True, kw_only=True, slots=True)
class AppointmentCancelled(DomainEvent):
    appointment_id: uuid.UUID
    cancelled_by: CancelledBy
    reason: Reason = ""


@registered("AppointmentCompleted")
@dataclass(frozen=True, kw_only=True, slots=True)
class AppointmentCompleted(DomainEvent):
    appointment_id: uuid.UUID


@registered("AppointmentNoShowRecorded")
@dataclass(frozen=True, kw_only=True, slots=True)
class AppointmentNoShowRecorded(DomainEvent):
    appointment_id: uuid.UUID


@registered("TestOrdered")
@dataclass(frozen=True, kw_only=True, slots=True)
class TestOrdered(DomainEvent):
    __test__ = False  # not a pytest test class

    test_id: uuid.UUID
    test_name: Label
    due_by: dt.date
    ordered_by: Staff


@registered("TestCompleted")
@dataclass(frozen=True, kw_only=True, slots=True)
class TestCompleted(DomainEvent):
    __test__ = False

    test_id: uuid.UUID


# --- text messages ----------------------------------------------------------------------


@registered("SmsSent")
@dataclass(frozen=True, kw_only=True, slots=True)
class SmsSent(DomainEvent):
    message_id: uuid.UUID
    to: str
    body: str
    purpose: ConsentPurpose
    provider_message_id: ProviderSid = ""
    reminder_id: uuid.UUID | None = None
    appointment_id: uuid.UUID | None = None  # the visit a reminder is about


@registered("SmsDelivered")
@dataclass(frozen=True, kw_only=True, slots=True)
class SmsDelivered(DomainEvent):
    message_id: uuid.UUID
    provider_message_id: ProviderSid = ""


@registered("SmsFailed")
@dataclass(frozen=True, kw_only=True, slots=True)
class SmsFailed(DomainEvent):
    message_id: uuid.UUID
    error_code: ErrorCode
    error_message: str
    permanent: bool
    reminder_id: uuid.UUID | None = None


@registered("SmsReceived")
@dataclass(frozen=True, kw_only=True, slots=True)
class SmsReceived(DomainEvent):
    message_id: uuid.UUID
    from_number: Phone
    body: InboundBody = ""
    provider_message_id: ProviderSid = ""
    intent: SmsIntent = SmsIntent.UNREAD


# --- satisfaction ------------------------------------------------------------------------


@registered("SatisfactionRecorded")
@dataclass(frozen=True, kw_only=True, slots=True)
class SatisfactionRecorded(DomainEvent):
    score: int
    channel: Channel
    appointment_id: uuid.UUID | None = None


# --- identifiers in other systems -----------------------------------------------------------

# An identifier another system gives the patient (the EHR's MRN): a URI and a value, as
# FHIR's Identifier.system and .value; crm.models.PatientIdentifier keeps the same bounds.
IdentifierSystem = Annotated[str, Bounded(255, example="urn:oid:1.2.36.146.595.217.0.1")]
IdentifierValue = Annotated[str, Bounded(100, example="12345")]
IdentifierKind = Annotated[str, Bounded(20, example="MR")]


@registered("PatientIdentifierRecorded")
@dataclass(frozen=True, kw_only=True, slots=True)
class PatientIdentifierRecorded(DomainEvent):
    """The patient is known as `value` in `system` (an EHR's medical record number, or the
    EHR's own id of the record): later imports and the desk find them by it."""

    system: IdentifierSystem
    value: IdentifierValue
    kind: IdentifierKind = ""  # the identifier's type code (HL7 v2-0203: MR, SS, ...)


# --- end of a record ---------------------------------------------------------------------


@registered("PatientDeceased")
@dataclass(frozen=True, kw_only=True, slots=True)
class PatientDeceased(DomainEvent):
    recorded_by: Staff
    date_of_death: dt.date | None = None


@registered("PatientsMerged")
@dataclass(frozen=True, kw_only=True, slots=True)
class PatientsMerged(DomainEvent):
    """On the surviving record: a duplicate record was merged into this one."""

    merged_patient_id: uuid.UUID
    merged_by: Staff


@registered("PatientMergedInto")
@dataclass(frozen=True, kw_only=True, slots=True)
class PatientMergedInto(DomainEvent):
    """On the duplicate record: it now lives on as `surviving_patient_id`."""

    surviving_patient_id: uuid.UUID
    merged_by: Staff
