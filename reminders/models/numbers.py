"""The number-level block list: the read model of the `sms_numbers` projection, which alone
writes it (reminders/projections/numbers.py reads it with the log's tail)."""

from __future__ import annotations

from django.db import models

__all__ = ["SmsNumber", "SmsNumberHold"]


class SmsNumber(models.Model):
    """A number that opted out at some point, and whether it opted back in since."""

    phone = models.CharField(max_length=20, primary_key=True)  # E.164
    opted_out = models.BooleanField(default=False)
    opted_out_at = models.DateTimeField(null=True)
    # sms_keyword (the person texted STOP...) or carrier (Twilio error 21610).
    opt_out_source = models.CharField(max_length=16, blank=True)
    opt_out_keyword = models.CharField(max_length=16, blank=True)
    opted_in_at = models.DateTimeField(null=True)

    class Meta:
        db_table = "reminders_sms_number"
        ordering = ["phone"]

    def __str__(self) -> str:
        return f"{self.phone} ({'opted out' if self.opted_out else 'may be texted'})"


class SmsNumberHold(models.Model):
    """Texts to `phone` are held: someone asked us to stop in their own words."""

    phone = models.CharField(max_length=20)
    # The patient whose stop-review suggestion releases the hold; "" when the text came
    # from a number no patient has (only START from the number lifts that one).
    held_for = models.CharField(max_length=36, blank=True)
    since = models.DateTimeField()
    message_id = models.UUIDField()  # the SmsReceived that asked us to stop

    class Meta:
        db_table = "reminders_sms_number_hold"
        ordering = ["phone", "since"]
        constraints = [
            models.UniqueConstraint(fields=["phone", "held_for"], name="reminders_hold_once")
        ]
        indexes = [models.Index(fields=["held_for"], name="reminders_hold_patient")]

    def __str__(self) -> str:
        return f"{self.phone} held since {self.since:%Y-%m-%d %H:%M}"
