"""The patient domain in plain Python: events, the state fold and the decisions.

Nothing in this package imports Django; it is tested without a database.
"""
