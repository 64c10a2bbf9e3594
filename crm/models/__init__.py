"""Tables of the core: the event log (the record) and the read models built from it."""

from crm.models.audit import AccessAction, AccessLogEntry
from crm.models.calls import LiveCall
from crm.models.churn import ChurnAppointment, ChurnContact, ChurnPatient
from crm.models.contact_reasons import ContactReason, offered_reasons
from crm.models.desk import DeskEvent
from crm.models.ehr import EhrMatchReview, EhrSync, MatchDecision, PatientIdentifier
from crm.models.events import CommandRecord, Event
from crm.models.metrics import (
    DailyAppointmentStats,
    DailyCallStats,
    DailyReminderStats,
    DailySatisfactionStats,
    LoggedCall,
    RemindedAppointment,
)
from crm.models.profile import PatientProfile
from crm.models.projections import ParkedStream, ProjectionCheckpoint

__all__ = [
    "AccessAction",
    "AccessLogEntry",
    "ChurnAppointment",
    "ChurnContact",
    "ChurnPatient",
    "CommandRecord",
    "ContactReason",
    "DailyAppointmentStats",
    "DailyCallStats",
    "DailyReminderStats",
    "DailySatisfactionStats",
    "DeskEvent",
    "EhrMatchReview",
    "EhrSync",
    "Event",
    "LiveCall",
    "LoggedCall",
    "MatchDecision",
    "ParkedStream",
    "PatientIdentifier",
    "PatientProfile",
    "ProjectionCheckpoint",
    "RemindedAppointment",
    "offered_reasons",
]
