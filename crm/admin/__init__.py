"""The Django admin of the core: the front desk's patient pages and actions, the
supervisor's dashboard, and read-only views of the log, read models and job tables.

Importing the package registers everything on the clinic's admin site (crm.admin_site).
"""

from crm.admin import contact_reasons, patients, pipeline, readonly, signin, tokens

readonly.register_remaining_read_only()
tokens.register()
signin.register()

__all__ = ["contact_reasons", "patients", "pipeline", "readonly", "signin", "tokens"]
