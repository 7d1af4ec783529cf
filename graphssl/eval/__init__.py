"""Evaluation heads and protocols."""

from graphssl.eval.linear_probe import ProbeResult, linear_probe

__all__ = ["ProbeResult", "linear_probe"]
