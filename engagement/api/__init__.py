"""The agent's queue of suggestions over the REST API (docs/api.md, "Suggestions")."""
