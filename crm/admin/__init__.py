"""The Django admin of the core: the front desk's patient pages and actions, the supervisor's
dashboard, and read-only views of the log, read models and job tables (registered on import)."""

from crm.admin import calls, contact_reasons, ehr, patients, pipeline, readonly, signin, tokens

readonly.register_remaining_read_only()
tokens.register()
signin.register()

__all__ = [
    "calls",
    "contact_reasons",
    "ehr",
    "patients",
    "pipeline",
    "readonly",
    "signin",
    "tokens",
]
