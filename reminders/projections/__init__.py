"""The reminders' catch-up projections and their reads: the schedule and the number block list."""
