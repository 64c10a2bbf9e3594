"""Projections: the inline patient profile and the checkpointed catch-up projections."""
