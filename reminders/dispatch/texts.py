"""The words of a text as it leaves: its kind's editable template in the patient's language,
checked again (reminders.domain.texts) and filled with only what a text may carry."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from django.conf import settings

from crm.domain.phones import format_national
from reminders.domain.sms_safe import SafeNames
from reminders.domain.texts import (
    DEFAULTS,
    PLACEHOLDERS,
    TemplateError,
    base_language,
    check_template,
)
from reminders.models import MessageTemplate, SmsAlias

__all__ = ["load_templates", "render"]

logger = logging.getLogger(__name__)


def load_templates() -> dict[tuple[str, str], str]:
    """Every editable text, for rendering a whole batch with one query."""
    return {
        (kind, language): body
        for kind, language, body in MessageTemplate.objects.values_list("kind", "language", "body")
    }


def render(
    kind: str,
    language: str,
    context: Mapping[str, str],
    *,
    templates: Mapping[tuple[str, str], str] | None = None,
    names: SafeNames | None = None,
) -> str:
    """The text of `kind` in the patient's language (English when we have none)."""
    wanted = base_language(language)
    if templates is None:
        templates = {
            (kind, lang): body
            for lang, body in MessageTemplate.objects.filter(
                kind=kind, language__in={wanted, "en"}
            ).values_list("language", "body")
        }
    body = (
        templates.get((kind, wanted))
        or templates.get((kind, "en"))
        or DEFAULTS.get((kind, wanted))
        or DEFAULTS[(kind, "en")]
    )
    values = {
        "clinic": settings.CLINIC_SHORT_NAME,
        "clinic_phone": format_national(settings.CLINIC_PHONE),
        **context,
    }
    try:
        check_template(kind, body, SmsAlias.safe_names() if names is None else names)
    except TemplateError as error:
        # Saved before an alias or a rule existed: the default words go out instead, so a
        # stored template never sends a name or stops the reminders.
        logger.error("The %s text (%s) is refused, sending the default: %s", kind, wanted, error)
        body = DEFAULTS.get((kind, wanted)) or DEFAULTS[(kind, "en")]
    return body.format_map({name: values.get(name, "") for name in PLACEHOLDERS[kind]})
