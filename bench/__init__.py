"""Benchmarks: `make bench` (python -m bench) runs every module here and prints one table.

A bench module exposes `run() -> list[dict]`: one dict per result row, its keys the column names
(e.g. `case`, `median_us`, `p99_us`). Modules whose names start with `_` are helpers, not benches.
Benchmarks run against a scratch database (see `bench._db`), never the one in use.
"""
