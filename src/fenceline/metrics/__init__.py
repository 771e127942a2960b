"""Indicators, timelines and inter-analyst agreement, computed from a project snapshot."""

from __future__ import annotations

from fenceline.metrics.engine import Engine
from fenceline.metrics.indicators import compute_metrics

__all__ = ["Engine", "compute_metrics"]
