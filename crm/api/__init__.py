"""The agent desktop REST API (/api/v1/): screen pop, profile, timeline and commands; reads from
the read models and the log, writes through command handlers (contract: docs/api.md)."""
