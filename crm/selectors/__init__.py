"""Selectors: the reads that more than one door (admin, API) shares."""
