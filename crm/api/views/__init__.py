"""API views: reads (lookup, search, profile, timeline, audit) and one view per command."""
