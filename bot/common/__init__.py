"""Leaves every layer may use: the grade scale (`grades`), clocks, visible text, CSV-safe
cells, typed errors and structured logs."""
