"""Geodesy and linear referencing along the border."""

from __future__ import annotations

from fenceline.geo.border import BorderReference, subdivide
from fenceline.geo.geodesic import WGS84, geodesic_length_km, line_lengths_km, segment_lengths_km
from fenceline.geo.intervals import clip_to, intersect, measure, union, union_measure

__all__ = [
    "WGS84",
    "BorderReference",
    "clip_to",
    "geodesic_length_km",
    "intersect",
    "line_lengths_km",
    "measure",
    "segment_lengths_km",
    "subdivide",
    "union",
    "union_measure",
]
