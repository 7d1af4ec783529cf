"""Pretext tasks that make targets from the data itself (see the design)."""
