"""The reminders' rules in plain Python: the schedule, inbound keywords, text checks, the
number-level block list and delivery reports. Nothing here imports Django."""
