"""Twilio Voice: calls come in through the clinic's queue, are popped on the desk and logged
once when they end."""
