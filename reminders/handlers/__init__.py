"""Commands of the reminders app: inbound texts, delivery status reports, recording outcomes."""
