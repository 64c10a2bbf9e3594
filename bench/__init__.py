"""Benchmarks of the CRM on PostgreSQL: `python -m bench [name ...]` (see docs/benchmarks.md).

Not tests: they never run under `make test`, and every figure they print is a ratio against
a baseline measured in the same run, because the machine they run on is shared and noisy.
"""
