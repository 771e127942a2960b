"""The indicators of DESIGN.md "Indicators", for areas at a date T and a baseline S.

Definitions, worked examples and edge cases: docs/metrics.md.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import shapely

from fenceline.dates import DateParseError, parse_date, to_days
from fenceline.errors import ParameterError
from fenceline.geo import union, union_measure
from fenceline.metrics.engine import Engine, RegionClip
from fenceline.store.base import Snapshot
from fenceline.temporal import ABSENT, PRESENT, UNCERTAIN

__all__ = ["compute_metrics", "evaluate", "parse_when", "provenance"]

#: decimals kept in JSON (km to the millimetre)
DECIMALS = 6


def _r(value: float | None) -> float | None:
    return None if value is None else round(float(value), DECIMALS)


def parse_when(name: str, value: str | dt.date | None, bound: str = "end") -> dt.date | None:
    """A date parameter; a month or year given alone means its last day (``bound``)."""
    if value is None:
        return None
    try:
        return parse_date(value, bound=bound)  # type: ignore[arg-type]
    except DateParseError as exc:
        raise ParameterError(name, str(exc)) from None


def _layer_cover(
    engine: Engine, clip: RegionClip, fence_mask: np.ndarray
) -> list[tuple[np.ndarray, np.ndarray]]:
    """For each layer with a masked fence, the union of the chainage its fences cover."""
    seg_mask = fence_mask[clip.cover_fence]
    layer_of = engine.fence_layer[clip.cover_fence]
    unions = []
    for code in range(len(engine.layers)):
        m = seg_mask & (layer_of == code)
        if m.any():
            unions.append(union(clip.cover_lo[m], clip.cover_hi[m], presorted=True))
    return unions


def _layers_km(
    engine: Engine, clip: RegionClip, fence_mask: np.ndarray, border_km: float
) -> dict[str, float]:
    """Border km covered by exactly 0, 1, 2 and 3+ distinct layers of the masked fences."""
    positions, deltas = [], []
    for start, end in _layer_cover(engine, clip, fence_mask):
        positions += [start, end]
        deltas += [np.ones(len(start)), -np.ones(len(end))]
    by_count = {1: 0.0, 2: 0.0, 3: 0.0}
    if positions:
        pos = np.concatenate(positions)
        delta = np.concatenate(deltas)
        order = np.argsort(pos, kind="stable")
        pos, delta = pos[order], delta[order]
        count = np.cumsum(delta)[:-1]
        width = np.diff(pos)
        for k in (1, 2):
            by_count[k] = float(width[count == k].sum())
        by_count[3] = float(width[count >= 3].sum())
    covered = sum(by_count.values())
    return {
        "0": _r(max(border_km - covered, 0.0)),
        "1": _r(by_count[1]),
        "2": _r(by_count[2]),
        "3+": _r(by_count[3]),
    }


def _covers(intervals: tuple[np.ndarray, np.ndarray], x: np.ndarray) -> np.ndarray:
    """Whether each x lies inside a sorted set of disjoint half-open intervals."""
    starts, ends = intervals
    idx = np.searchsorted(starts, x, side="right") - 1
    inside = idx >= 0
    inside[inside] = x[inside] < ends[idx[inside]]
    return inside


def profile_along_border(
    engine: Engine, clip: RegionClip, fence_mask: np.ndarray
) -> list[list[float | int]]:
    """Where along the border each number of distinct fence layers lies.

    Returns ``[[from_km, to_km, layers], ...]``: disjoint chainage intervals (km from the
    border's start) that tile the region's border, in order, adjacent intervals with the
    same count merged. The lengths per count add up to ``layers_km`` (``3+`` pooled there).
    """
    unions = _layer_cover(engine, clip, fence_mask)
    region = union(clip.region.start_km, clip.region.end_km)
    cuts = np.unique(np.concatenate([*region, *(x for u in unions for x in u)]))
    if len(cuts) < 2:
        return []
    lo, hi = cuts[:-1], cuts[1:]
    mid = (lo + hi) / 2
    keep = _covers(region, mid)
    count = np.zeros(len(mid), dtype=np.int64)
    for u in unions:
        count += _covers(u, mid)
    lo, hi, count = lo[keep], hi[keep], count[keep]
    out: list[list[float | int]] = []
    for a, b, n in zip(lo.tolist(), hi.tolist(), count.tolist(), strict=True):
        if out and out[-1][2] == n and abs(float(out[-1][1]) - a) < 1e-12:
            out[-1][1] = b
        else:
            out.append([a, b, n])
    return [[round(a, 6), round(b, 6), n] for a, b, n in out]


def _by(
    codes: np.ndarray, weights: np.ndarray | None, names: tuple[str, ...], integer: bool
) -> dict[str, Any]:
    sums = (
        np.bincount(codes, weights=weights, minlength=len(names))
        if len(codes)
        else np.zeros(len(names))
    )
    out: dict[str, Any] = {
        name: (int(v) if integer else _r(v)) for name, v in zip(names, sums, strict=True)
    }
    out["total"] = int(sums.sum()) if integer else _r(sums.sum())
    return out


def evaluate(
    engine: Engine,
    clip: RegionClip,
    at_day: int,
    since_day: int | None,
    near_m: float,
    profile: bool = False,
) -> dict[str, Any]:
    """Every indicator for one clipped region at ``at_day`` (baseline ``since_day``)."""
    fences_t = engine.fence_timeline.status_at(at_day)
    facilities_t = engine.facility_timeline.status_at(at_day)
    piece_present = fences_t[clip.piece_fence] == PRESENT
    border_km = clip.border_km

    fence_km = _by(
        engine.fence_layer[clip.piece_fence][piece_present],
        clip.piece_km[piece_present],
        engine.layers,
        False,
    )
    cover_present = fences_t[clip.cover_fence] == PRESENT
    fenced = union_measure(
        clip.cover_lo[cover_present], clip.cover_hi[cover_present], presorted=True
    )

    fac = clip.facility_index
    fac_present = fac[facilities_t[fac] == PRESENT]
    facilities = _by(engine.facility_kind[fac_present], None, engine.kinds, True)
    n_facilities = facilities["total"]
    fence_total = fence_km["total"] or 0.0

    out: dict[str, Any] = {
        "name": clip.region.name,
        "definition": clip.region.definition,
        "border_km": _r(border_km),
        "fence_km": fence_km,
        "fenced_border_km": _r(fenced),
        "layers_km": _layers_km(engine, clip, fences_t == PRESENT, border_km),
        "facilities": facilities,
        "m_per_facility_along_fence": _r(1000 * fence_total / n_facilities)
        if n_facilities
        else None,
        "m_per_facility_along_border": _r(1000 * border_km / n_facilities)
        if n_facilities
        else None,
    }

    if since_day is not None:
        fences_s = engine.fence_timeline.status_at(since_day)
        facilities_s = engine.facility_timeline.status_at(since_day)
        cover_since = fences_s[clip.cover_fence] == PRESENT
        new = piece_present & (fences_s[clip.piece_fence] == ABSENT)
        upgraded_fence = engine.fence_timeline.upgraded_between(since_day, at_day)
        upgraded = piece_present & upgraded_fence[clip.piece_fence]
        uncertain = piece_present & (fences_s[clip.piece_fence] == UNCERTAIN)
        fac_since = fac[facilities_s[fac] == PRESENT]
        facilities_since = _by(engine.facility_kind[fac_since], None, engine.kinds, True)
        piece_since = fences_s[clip.piece_fence] == PRESENT
        fence_km_since = _by(
            engine.fence_layer[clip.piece_fence][piece_since],
            clip.piece_km[piece_since],
            engine.layers,
            False,
        )
        n_since = facilities_since["total"]
        near = 0
        hot = new | upgraded
        if hot.any() and len(fac_present):
            tree = shapely.STRtree(clip.piece_geom[hot])
            hit, _ = tree.query(
                engine.facility_points[fac_present], predicate="dwithin", distance=near_m
            )
            near = len(np.unique(hit))
        out |= {
            "fenced_border_km_since": _r(
                union_measure(
                    clip.cover_lo[cover_since], clip.cover_hi[cover_since], presorted=True
                )
            ),
            "new_fence_km": _r(clip.piece_km[new].sum()),
            "upgraded_fence_km": _r(clip.piece_km[upgraded].sum()),
            "uncertain_fence_km": _r(clip.piece_km[uncertain].sum()),
            "fence_km_since": fence_km_since,
            "facilities_since": facilities_since,
            "m_per_facility_along_fence_since": _r(
                1000 * (fence_km_since["total"] or 0.0) / n_since
            )
            if n_since
            else None,
            "m_per_facility_along_border_since": _r(1000 * border_km / n_since)
            if n_since
            else None,
            "fold_increase": _r(n_facilities / facilities_since["total"])
            if facilities_since["total"]
            else None,
            "facilities_near_new_or_upgraded_fence": int(near),
        }
    else:
        out |= dict.fromkeys(
            (
                "fenced_border_km_since",
                "new_fence_km",
                "upgraded_fence_km",
                "uncertain_fence_km",
                "fence_km_since",
                "facilities_since",
                "m_per_facility_along_fence_since",
                "m_per_facility_along_border_since",
                "fold_increase",
                "facilities_near_new_or_upgraded_fence",
            )
        )
    assessable = engine.assessable_km(clip.region, since_day, at_day)
    out["assessable_km"] = _r(assessable)

    # what was not counted, and why
    region = clip.region
    fence_exists = fences_t != ABSENT
    facility_exists = facilities_t != ABSENT
    piece_uncertain = fences_t[clip.piece_fence] == UNCERTAIN
    fac_uncertain = fac[facilities_t[fac] == UNCERTAIN]
    out["uncertain_at"] = {
        "fence_km": _r(clip.piece_km[piece_uncertain].sum()),
        "facilities": len(fac_uncertain),
    }
    out["undated"] = {
        "fences": int((clip.fence_in_corridor & ~engine.fence_dated).sum()),
        "facilities": int((clip.facility_in_corridor & ~engine.facility_dated).sum()),
    }
    out["outside_corridor"] = {
        "fences": int((region.fence_assigned & ~clip.fence_in_corridor & fence_exists).sum()),
        "facilities": int(
            (region.facility_assigned & ~clip.facility_in_corridor & facility_exists).sum()
        ),
    }
    out["denominators"] = {
        "m_per_facility_along_fence": "fence_km.total (all layers, present at T, in the corridor)",
        "m_per_facility_along_border": "border_km (geodesic border length in the area)",
    }
    if profile:
        out["layer_profile"] = profile_along_border(engine, clip, fences_t == PRESENT)
    return out


def provenance(engine: Engine, params: dict[str, Any], notice: str | None = None) -> dict[str, Any]:
    """What a result was computed from: parameters, counts, content hash, version."""
    from fenceline import __version__

    out: dict[str, Any] = {
        "params": params,
        "counts": {
            "border_parts": len(engine.ref.parts_lonlat),
            "areas": len(engine.snapshot.areas) if engine.snapshot.areas is not None else 0,
            "fences": len(engine.fence_ids),
            "facilities": len(engine.facility_ids),
            "observations": engine.observations_total,
            "observations_used": engine.observations_used,
            "images": len(engine.snapshot.images) if engine.snapshot.images is not None else 0,
        },
        "border_length_km": _r(engine.ref.length_km),
        "working_projection": engine.ref.proj,
        "lengths": "geodesic on WGS84 (pyproj Geod)",
        "content_sha256": engine.snapshot.content_sha256,
        "fenceline_version": __version__,
    }
    if notice:
        out["notice"] = notice
    return out


def compute_metrics(
    snapshot: Snapshot,
    at: str | dt.date,
    since: str | dt.date | None = None,
    area: str | None = None,
    corridor_m: float = 3000.0,
    near_m: float = 500.0,
    notice: str | None = None,
    engine: Engine | None = None,
    layer_profile: bool = False,
) -> dict[str, Any]:
    """Every indicator for every area (or the one named) and their total.

    Parameters
    ----------
    snapshot : Snapshot
        From ``store.snapshot()``; never written.
    at, since : str or date
        Evaluation date T and baseline S (S < T). A month or year alone means its last day.
    area : str, optional
        Only this area (default: every area; the whole border when the project has none).
    corridor_m, near_m : float
        Corridor width and the distance for ``facilities_near_new_or_upgraded_fence``.
    notice : str, optional
        Carried into the provenance (e.g. that the data are synthetic).
    layer_profile : bool
        Also give each area's ``layer_profile``: ``[[from_km, to_km, layers], ...]`` along
        the border on T (see :func:`profile_along_border`).

    Returns
    -------
    dict
        ``{"at", "since", "params", "areas": [...], "total": {...}, "provenance": {...}}``.
    """
    at_date = parse_when("--at", at)
    if at_date is None:
        raise ParameterError("--at", "an evaluation date is required")
    since_date = parse_when("--since", since)
    if since_date is not None and since_date >= at_date:
        raise ParameterError(
            "--since", f"must be before --at ({since_date} is not before {at_date})"
        )
    if not near_m >= 0:
        raise ParameterError("--near-m", f"must be zero or more metres, not {near_m}")
    engine = engine or Engine(snapshot, corridor_m)
    regions = engine.select(area)
    at_day = to_days(at_date)
    since_day = to_days(since_date) if since_date else None
    results = [
        evaluate(engine, engine.clip(r), at_day, since_day, near_m, layer_profile) for r in regions
    ]
    total_region = engine.total(regions)
    total = (
        results[0]
        if len(regions) == 1
        else evaluate(engine, engine.clip(total_region), at_day, since_day, near_m, layer_profile)
    )
    total = dict(total, name="total")
    params = {
        "at": at_date.isoformat(),
        "since": since_date.isoformat() if since_date else None,
        "area": area,
        "corridor_m": float(corridor_m),
        "near_m": float(near_m),
    }
    return {
        "at": params["at"],
        "since": params["since"],
        "params": params,
        "areas": results,
        "total": total,
        "provenance": provenance(engine, params, notice),
    }
