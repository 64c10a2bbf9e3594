"""The patient domain in plain Python: events, the state fold and the decisions; nothing here
imports Django, so it is tested without a database."""
