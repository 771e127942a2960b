"""Geodesic lengths on the WGS84 ellipsoid (pyproj's Geod), vectorised over many lines."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import shapely
from pyproj import Geod

__all__ = ["WGS84", "geodesic_length_km", "line_lengths_km", "segment_lengths_km"]

WGS84 = Geod(ellps="WGS84")

FloatArray = npt.NDArray[np.float64]


def geodesic_length_km(geometry: shapely.Geometry) -> float:
    """Geodesic length in km of a line geometry in lon/lat degrees.

    >>> round(geodesic_length_km(shapely.LineString([(0, 0), (1, 0)])), 3)
    111.319
    """
    return float(WGS84.geometry_length(geometry)) / 1000.0


def segment_lengths_km(lon: FloatArray, lat: FloatArray) -> FloatArray:
    """Geodesic length in km of each segment between consecutive points.

    >>> segment_lengths_km(np.array([0.0, 1.0, 1.0]), np.array([0.0, 0.0, 0.0])).round(3).tolist()
    [111.319, 0.0]
    """
    if len(lon) < 2:
        return np.zeros(0)
    _, _, dist = WGS84.inv(lon[:-1], lat[:-1], lon[1:], lat[1:])
    return np.asarray(dist, dtype=np.float64) / 1000.0


def line_lengths_km(lines: npt.ArrayLike) -> FloatArray:
    """Geodesic length in km of every line (LineString or MultiLineString) in an array.

    One vectorised call for all vertices, not a loop over lines.

    >>> line_lengths_km([shapely.LineString([(0, 0), (1, 0)]), None]).round(3).tolist()
    [111.319, 0.0]
    """
    geoms = np.asarray(lines, dtype=object)
    out = np.zeros(len(geoms))
    if len(geoms) == 0:
        return out
    parts, part_of = shapely.get_parts(geoms, return_index=True)
    if len(parts) == 0:
        return out
    coords, line_of = shapely.get_coordinates(parts, return_index=True)
    if len(coords) < 2:
        return out
    seg = segment_lengths_km(coords[:, 0], coords[:, 1])
    same = line_of[1:] == line_of[:-1]
    owner = part_of[line_of[:-1]]
    np.add.at(out, owner[same], seg[same])
    return out
