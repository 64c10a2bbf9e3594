"""Twilio's webhooks for inbound texts and delivery status (plain Django views)."""
