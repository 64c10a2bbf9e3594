"""The agent desktop REST API (/api/v1/): screen pop, profile, timeline and commands.

Reads come from the profile read model and the event log; every write goes through a
command handler. See docs/api.md for the contract integrators code against.
"""
