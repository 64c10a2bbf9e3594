"""SMS-safe names: what a text may call a location or a provider, set by supervisors; without
an alias nothing is named in a text (reminders/dispatch/texts.py)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models

from reminders.domain.sms_safe import LOCATION, PROVIDER, SafeNames, clinical_words, name_key


class SmsAlias(models.Model):
    class Kind(models.TextChoices):
        LOCATION = LOCATION, "location"
        PROVIDER = PROVIDER, "provider"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    name = models.CharField(
        max_length=200,
        help_text="As the front desk records it on appointments (case and spacing aside), "
        "e.g. Riverside Behavioral Health, Suite 4.",
    )
    # Matching is on this spelling of the name, so "Main St  Clinic" and "main st clinic"
    # cannot get two different aliases.
    name_key = models.CharField(max_length=200, editable=False)
    alias = models.CharField(
        max_length=60,
        help_text="What texts call it, e.g. Riverside, Suite 4. No word that hints at the "
        "care given there (therapy, behavioral, psychiatry, ...).",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "reminders_sms_alias"
        ordering = ["kind", "name_key"]
        verbose_name = "SMS-safe name"
        constraints = [
            models.UniqueConstraint(fields=["kind", "name_key"], name="reminders_sms_alias_once")
        ]

    def __str__(self) -> str:
        return f"{self.name} -> {self.alias}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.name_key = name_key(self.name)
        super().save(*args, **kwargs)

    def clean(self) -> None:
        self.name_key = name_key(self.name)
        if not self.name_key:
            raise ValidationError({"name": "Give the name as appointments record it."})
        alias = " ".join(self.alias.split())
        if not alias:
            raise ValidationError({"alias": "Give the name texts may use."})
        found = clinical_words(alias)
        if found:
            raise ValidationError(
                {"alias": f"{', '.join(found)} hints at the care given; texts must not say it."}
            )
        if "{" in alias or "}" in alias:
            raise ValidationError({"alias": "Braces are not allowed in a name."})
        self.alias = alias
        # The form leaves name_key out, so Django would not check the constraint itself.
        taken = SmsAlias.objects.filter(kind=self.kind, name_key=self.name_key)
        if taken.exclude(pk=self.pk).exists():
            raise ValidationError({"name": f"This {self.kind} already has an SMS-safe name."})

    @classmethod
    def safe_names(cls) -> SafeNames:
        """Every SMS-safe name the clinic set, for checking or rendering a batch in one query."""
        return SafeNames.of(cls.objects.values_list("kind", "name", "alias"))
