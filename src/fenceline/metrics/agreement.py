"""Agreement between two analysts' layers of the same border.

- Fences: length-weighted. ``precision`` = share of B's fence length within ``tolerance_m``
  of some fence of A; ``recall`` = share of A's fence length within ``tolerance_m`` of B;
  F1 their harmonic mean. A is the reference.
- Facilities: points matched one to one within ``point_tolerance_m`` (closest pairs first);
  precision = matched / B, recall = matched / A.

Planar work is done in the border's working projection (see :mod:`fenceline.geo.border`);
lengths are geodesic.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely

from fenceline.errors import ParameterError
from fenceline.geo import BorderReference, line_lengths_km, subdivide
from fenceline.metrics.indicators import _r
from fenceline.store.base import Snapshot

__all__ = ["agreement", "fence_agreement", "point_agreement"]


def _f1(precision: float | None, recall: float | None) -> float | None:
    if precision is None or recall is None:
        return None
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def _covered_km(
    ref: BorderReference, lines: np.ndarray, others: np.ndarray, tolerance_m: float
) -> float:
    """Geodesic km of ``lines`` within ``tolerance_m`` of any of ``others`` (planar inputs)."""
    if len(lines) == 0 or len(others) == 0:
        return 0.0
    zone = shapely.union_all(shapely.buffer(others, tolerance_m, quad_segs=4))
    pieces = np.array(subdivide(zone, 128), dtype=object)
    tree = shapely.STRtree(pieces)
    i, j = tree.query(lines, predicate="intersects")
    clipped = shapely.intersection(lines[i], pieces[j])
    return float(line_lengths_km(ref.geometries_to_lonlat(clipped)).sum())


def fence_agreement(
    ref: BorderReference, a: np.ndarray, b: np.ndarray, tolerance_m: float
) -> dict[str, Any]:
    """Length-weighted precision, recall and F1 of fences B against reference A (lon/lat)."""
    pa, pb = ref.geometries_to_planar(a), ref.geometries_to_planar(b)
    km_a, km_b = float(line_lengths_km(a).sum()), float(line_lengths_km(b).sum())
    recall = _covered_km(ref, pa, pb, tolerance_m) / km_a if km_a else None
    precision = _covered_km(ref, pb, pa, tolerance_m) / km_b if km_b else None
    return {
        "a_km": _r(km_a),
        "b_km": _r(km_b),
        "precision": _r(precision),
        "recall": _r(recall),
        "f1": _r(_f1(precision, recall)),
    }


def point_agreement(
    ref: BorderReference, a: np.ndarray, b: np.ndarray, tolerance_m: float
) -> dict[str, Any]:
    """Matched-point precision, recall and F1 of facilities B against reference A."""
    xa = ref.to_planar(shapely.get_coordinates(a)) if len(a) else np.zeros((0, 2))
    xb = ref.to_planar(shapely.get_coordinates(b)) if len(b) else np.zeros((0, 2))
    matched = 0
    if len(xa) and len(xb):
        tree = shapely.STRtree(shapely.points(xa))
        j, i = tree.query(shapely.points(xb), predicate="dwithin", distance=tolerance_m)
        d = np.hypot(*(xa[i] - xb[j]).T)
        order = np.argsort(d, kind="stable")
        used_a, used_b = np.zeros(len(xa), bool), np.zeros(len(xb), bool)
        for k in order:  # candidate pairs only (within tolerance), closest first
            if not used_a[i[k]] and not used_b[j[k]]:
                used_a[i[k]] = used_b[j[k]] = True
                matched += 1
    precision = matched / len(xb) if len(xb) else None
    recall = matched / len(xa) if len(xa) else None
    return {
        "a": len(xa),
        "b": len(xb),
        "matched": matched,
        "precision": _r(precision),
        "recall": _r(recall),
        "f1": _r(_f1(precision, recall)),
    }


def agreement(
    a: Snapshot | Any,
    b: Snapshot | Any,
    tolerance_m: float = 5.0,
    point_tolerance_m: float | None = None,
) -> dict[str, Any]:
    """Agreement of analyst B's fences and facilities with analyst A's (the reference).

    Parameters
    ----------
    a, b : Snapshot or Project
        The two projects (``fenceline.open(...)``) or their snapshots.
    tolerance_m : float
        A fence piece agrees when it lies within this distance of the other layer.
    point_tolerance_m : float, optional
        Matching distance for facilities (default: ``tolerance_m``).
    """
    if not tolerance_m > 0:
        raise ParameterError(
            "--tolerance-m", f"must be a positive number of metres, not {tolerance_m}"
        )
    point_tolerance_m = tolerance_m if point_tolerance_m is None else point_tolerance_m
    from fenceline import __version__

    snaps = [s if isinstance(s, Snapshot) else s.snapshot() for s in (a, b)]
    border = snaps[0].border if len(snaps[0].border) else snaps[1].border
    if len(border) == 0:
        raise ParameterError("border", "neither project has a border line")
    ref = BorderReference(list(border.geometry), border["side"].fillna("left").tolist())
    fences = fence_agreement(
        ref, snaps[0].fences.geometry.to_numpy(), snaps[1].fences.geometry.to_numpy(), tolerance_m
    )
    points = point_agreement(
        ref,
        snaps[0].facilities.geometry.to_numpy(),
        snaps[1].facilities.geometry.to_numpy(),
        point_tolerance_m,
    )
    return {
        "params": {
            "tolerance_m": tolerance_m,
            "point_tolerance_m": point_tolerance_m,
            "reference": "a",
        },
        "fences": fences,
        "facilities": points,
        "provenance": {
            "a_content_sha256": snaps[0].content_sha256,
            "b_content_sha256": snaps[1].content_sha256,
            "fenceline_version": __version__,
        },
    }
