"""Indicators over time: fence km, fenced border km and facilities at regular steps, with a
lower bound (features certainly present) and an upper bound (present or uncertain).

The corridor clip is done once; each step only re-evaluates the features' status.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from fenceline.dates import to_days
from fenceline.errors import ParameterError
from fenceline.geo import union_measure
from fenceline.metrics.engine import Engine
from fenceline.metrics.indicators import _r, parse_when, provenance
from fenceline.store.base import Snapshot
from fenceline.temporal import ABSENT, PRESENT

__all__ = ["STEPS", "compute_timeline", "step_dates", "timeline_rows"]

STEPS = ("day", "week", "month", "quarter", "year")


def step_dates(start: dt.date, end: dt.date, step: str = "month") -> list[dt.date]:
    """Dates from ``start`` to ``end`` (both included) every ``step``.

    Months keep the day of ``start`` where it exists, else the month's last day.

    >>> [d.isoformat() for d in step_dates(dt.date(2021, 1, 31), dt.date(2021, 4, 1))]
    ['2021-01-31', '2021-02-28', '2021-03-31', '2021-04-01']
    """
    if step not in STEPS:
        raise ParameterError("--step", f"must be one of {', '.join(STEPS)}, not {step!r}")
    if end <= start:
        raise ParameterError("--to", f"must be after --from ({end} is not after {start})")
    out: list[dt.date] = []
    if step in ("day", "week"):
        delta = dt.timedelta(days=1 if step == "day" else 7)
        d = start
        while d < end:
            out.append(d)
            d += delta
    else:
        months = {"month": 1, "quarter": 3, "year": 12}[step]
        k = 0
        while True:
            month0 = start.month - 1 + k * months
            year, month = start.year + month0 // 12, month0 % 12 + 1
            last = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
            d = dt.date(year, month, min(start.day, last))
            if d >= end:
                break
            out.append(d)
            k += 1
    out.append(end)
    return out


def compute_timeline(
    snapshot: Snapshot,
    start: str | dt.date,
    end: str | dt.date,
    step: str = "month",
    area: str | None = None,
    corridor_m: float = 3000.0,
    notice: str | None = None,
    engine: Engine | None = None,
) -> dict[str, Any]:
    """Fence km, fenced border km and facilities at every step, with lower and upper bounds.

    Returns ``{"from", "to", "step", "area", "steps": [{"date", "fence_km": {"lower",
    "upper"}, "fenced_border_km": {...}, "facilities": {...}}], "provenance"}`` for the named
    area, or the union of all areas.
    """
    start_date = parse_when("--from", start, bound="start")
    end_date = parse_when("--to", end)
    if start_date is None or end_date is None:
        raise ParameterError("--from/--to", "both dates are required")
    dates = step_dates(start_date, end_date, step)
    engine = engine or Engine(snapshot, corridor_m)
    region = engine.total(engine.select(area))
    clip = engine.clip(region)
    fac = clip.facility_index
    steps = []
    for date in dates:  # a few dozen dates; each step is vectorised over all features
        day = to_days(date)
        fence_status = engine.fence_timeline.status_at(day)
        facility_status = engine.facility_timeline.status_at(day)
        row: dict[str, Any] = {"date": date.isoformat()}
        for bound, fence_ok, fac_ok in (
            ("lower", fence_status == PRESENT, facility_status == PRESENT),
            ("upper", fence_status != ABSENT, facility_status != ABSENT),
        ):
            piece = fence_ok[clip.piece_fence]
            cover = fence_ok[clip.cover_fence]
            row.setdefault("fence_km", {})[bound] = _r(clip.piece_km[piece].sum())
            row.setdefault("fenced_border_km", {})[bound] = _r(
                union_measure(clip.cover_lo[cover], clip.cover_hi[cover], presorted=True)
            )
            row.setdefault("facilities", {})[bound] = int(np.count_nonzero(fac_ok[fac]))
        steps.append(row)
    params = {
        "from": start_date.isoformat(),
        "to": end_date.isoformat(),
        "step": step,
        "area": area,
        "corridor_m": float(corridor_m),
    }
    return {
        **params,
        "area": region.name,
        "border_km": _r(clip.border_km),
        "steps": steps,
        "provenance": provenance(engine, params, notice),
    }


def timeline_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Flat rows (one per date) for CSV."""
    rows = []
    for s in result["steps"]:
        row = {"date": s["date"], "area": result["area"]}
        for key in ("fence_km", "fenced_border_km", "facilities"):
            row[f"{key}_lower"] = s[key]["lower"]
            row[f"{key}_upper"] = s[key]["upper"]
        rows.append(row)
    return rows
