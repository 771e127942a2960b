"""Indicators, timelines and inter-analyst agreement, computed from a project snapshot.

Metrics read only what ``store.snapshot()`` returns and never write.
"""

from __future__ import annotations

from fenceline.metrics.agreement import agreement
from fenceline.metrics.engine import Engine
from fenceline.metrics.indicators import compute_metrics
from fenceline.metrics.timeline import compute_timeline, step_dates, timeline_rows

__all__ = [
    "Engine",
    "agreement",
    "compute_metrics",
    "compute_timeline",
    "step_dates",
    "timeline_rows",
]
