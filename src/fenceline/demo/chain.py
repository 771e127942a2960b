"""Chainage along a border line, in a local metric projection, for generating demo geometry.

Geometry is built in an azimuthal equidistant projection centred on the border (distortion
under 0.05 % within 300 km of the centre) and returned in EPSG:4326. Chainage is geodesic km
along the line (WGS84), as the indicators define it.

>>> import shapely
>>> chain = BorderChain(shapely.LineString([(127.0, 41.0), (127.1, 41.0)]))
>>> round(chain.length_km, 3)
8.414
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import shapely
from pyproj import Geod, Transformer

__all__ = ["BorderChain", "geodesic_lengths_km"]

_GEOD = Geod(ellps="WGS84")
FloatArray = npt.NDArray[np.float64]


def geodesic_lengths_km(lines: list[shapely.LineString]) -> FloatArray:
    """Geodesic length (km) of each line, vectorised over all segments at once."""
    if not lines:
        return np.zeros(0)
    coords, index = shapely.get_coordinates(lines, return_index=True)
    same = index[1:] == index[:-1]
    _, _, dist = _GEOD.inv(
        coords[:-1, 0][same], coords[:-1, 1][same], coords[1:, 0][same], coords[1:, 1][same]
    )
    out = np.zeros(len(lines))
    np.add.at(out, index[1:][same], dist)
    return out / 1000.0


class BorderChain:
    """A border line with geodesic chainage and a local metric frame."""

    def __init__(self, line: shapely.LineString) -> None:
        lon, lat = np.asarray(line.coords).T[:2]
        centre_lon = float((lon.min() + lon.max()) / 2)
        centre_lat = float((lat.min() + lat.max()) / 2)
        crs = f"+proj=aeqd +lat_0={centre_lat:.4f} +lon_0={centre_lon:.4f} +datum=WGS84 +units=m"
        self._to_metric = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
        self._to_lonlat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
        x, y = self._to_metric.transform(lon, lat)
        self.xy = np.column_stack([x, y])
        _, _, dist = _GEOD.inv(lon[:-1], lat[:-1], lon[1:], lat[1:])
        self.geo_km = np.r_[0.0, np.cumsum(dist)] / 1000.0
        planar = np.hypot(*np.diff(self.xy, axis=0).T)
        self.planar_m = np.r_[0.0, np.cumsum(planar)]
        self.metric_line = shapely.LineString(self.xy)
        self.length_km = float(self.geo_km[-1])

    def point_at(self, chainage_km: FloatArray) -> FloatArray:
        """Metric (x, y) of the border points at these chainages."""
        planar = np.interp(chainage_km, self.geo_km, self.planar_m)
        return np.column_stack(
            [
                np.interp(planar, self.planar_m, self.xy[:, 0]),
                np.interp(planar, self.planar_m, self.xy[:, 1]),
            ]
        )

    def left_normal(self, chainage_km: FloatArray, smooth_km: float = 0.25) -> FloatArray:
        """Unit normals pointing to the left of the line (the monitored side), smoothed."""
        ahead = self.point_at(np.minimum(chainage_km + smooth_km, self.length_km))
        behind = self.point_at(np.maximum(chainage_km - smooth_km, 0.0))
        tangent = ahead - behind
        tangent /= np.linalg.norm(tangent, axis=1, keepdims=True)
        return np.column_stack([-tangent[:, 1], tangent[:, 0]])

    def offset_points(self, chainage_km: FloatArray, offset_m: FloatArray) -> FloatArray:
        """Metric points ``offset_m`` to the left of the border at these chainages."""
        return self.point_at(chainage_km) + self.left_normal(chainage_km) * offset_m[:, None]

    def left_corridor(self, from_km: float, to_km: float, width_m: float) -> shapely.Geometry:
        """The metric band of ``width_m`` left of the line between two chainages (prepared)."""
        inner = self.geo_km[(self.geo_km > from_km) & (self.geo_km < to_km)]
        part = shapely.LineString(self.point_at(np.r_[from_km, inner, to_km]))
        band = shapely.buffer(part, width_m, single_sided=True, cap_style="flat", quad_segs=4)
        shapely.prepare(band)
        return band

    def chainage_of(self, lon: float, lat: float) -> float:
        """Chainage (km) of the border point nearest to a lon/lat point."""
        x, y = self._to_metric.transform(lon, lat)
        planar = self.metric_line.project(shapely.Point(x, y))
        return float(np.interp(planar, self.planar_m, self.geo_km))

    def to_lonlat(self, xy: FloatArray) -> FloatArray:
        lon, lat = self._to_lonlat.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat])

    def section_polygon(
        self, from_km: float, to_km: float, half_width_m: float
    ) -> shapely.MultiPolygon:
        """A lon/lat polygon around the border between two chainages (flat ends)."""
        chainage = np.linspace(from_km, to_km, max(int((to_km - from_km) / 0.2), 2) + 1)
        inner = np.r_[from_km, self.geo_km[(self.geo_km > from_km) & (self.geo_km < to_km)], to_km]
        chainage = np.unique(np.r_[chainage, inner])
        part = shapely.LineString(self.point_at(chainage))
        metric = part.buffer(half_width_m, cap_style="flat", join_style="round", quad_segs=4)
        metric = shapely.simplify(metric, 10.0)
        # where the line meanders back within reach, cut its other stretches out, so that the
        # border inside the polygon is exactly [from_km, to_km]
        before = self.point_at(np.r_[0.0, self.geo_km[self.geo_km < from_km], from_km])
        after = self.point_at(np.r_[to_km, self.geo_km[self.geo_km > to_km], self.length_km])
        others = [shapely.LineString(p) for p in (before, after) if len(p) > 1]
        cut = shapely.union_all([shapely.buffer(o, 25.0, cap_style="flat") for o in others])
        metric = shapely.difference(metric, cut)
        parts = [g for g in getattr(metric, "geoms", [metric]) if g.area > 1.0]
        return shapely.MultiPolygon(
            [
                shapely.Polygon(
                    self.to_lonlat(np.asarray(g.exterior.coords)),
                    [self.to_lonlat(np.asarray(r.coords)) for r in g.interiors],
                )
                for g in parts
            ]
        )
