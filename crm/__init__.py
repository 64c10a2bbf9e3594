"""The core: the event store, the patient domain, command handlers and projections."""
