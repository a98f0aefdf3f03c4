"""Benchmarks: ``python -m dynbooks.bench NAME [--json]`` (see ``docs/benchmarks.md``)."""
