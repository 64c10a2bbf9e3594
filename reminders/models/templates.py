"""The texts we send, editable in the admin per kind and language."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models

from reminders.domain.texts import TemplateError, check_template
from reminders.models.aliases import SmsAlias
from reminders.models.outbox import MessageKind


class MessageTemplate(models.Model):
    kind = models.CharField(max_length=32, choices=MessageKind.choices)
    language = models.CharField(max_length=16, help_text="A language code: en, es, ...")
    body = models.TextField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "reminders_message_template"
        ordering = ["kind", "language"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "language"], name="reminders_template_once")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.language})"

    def clean(self) -> None:
        try:
            check_template(self.kind, self.body, SmsAlias.safe_names())
        except TemplateError as error:
            raise ValidationError({"body": str(error)}) from None
