"""Benchmarks of the CRM on PostgreSQL, outside the test suite: `python -m bench [name ...]`;
every figure is a ratio to a baseline measured in the same run (docs/benchmarks.md)."""
