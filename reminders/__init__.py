"""SMS reminders and two-way texting: schedule projection, dispatcher, SMS backends."""
