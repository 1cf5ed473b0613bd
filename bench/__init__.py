"""Benchmarks: `make bench` runs `bench/run.py`; not part of the bot."""
