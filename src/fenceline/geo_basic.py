"""Geodesic lengths on the WGS84 ellipsoid (pyproj's Geod)."""

from __future__ import annotations

import shapely
from pyproj import Geod

__all__ = ["WGS84", "geodesic_length_km"]

WGS84 = Geod(ellps="WGS84")


def geodesic_length_km(geometry: shapely.Geometry) -> float:
    """Geodesic length in km of a line geometry in lon/lat degrees.

    >>> round(geodesic_length_km(shapely.LineString([(0, 0), (1, 0)])), 3)
    111.319
    """
    return WGS84.geometry_length(geometry) / 1000.0
