"""Shared builders for the metrics tests: snapshots made in memory, and the hand-built
Hoeryong case (numbers from HRW's November 2022 analysis, see src/fenceline/data/README)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from geographiclib.geodesic import Geodesic

from fenceline.store.base import Snapshot

GEOD = Geodesic.WGS84


def snapshot(
    border: Sequence[shapely.LineString],
    fences: Sequence[tuple[str, str, shapely.LineString]] = (),
    facilities: Sequence[tuple[str, str, shapely.Point]] = (),
    observations: Sequence[tuple[str, str, str]] = (),
    areas: Sequence[dict[str, Any]] = (),
    images: Sequence[tuple[str, str, shapely.Geometry]] = (),
    sides: Sequence[str] | None = None,
) -> Snapshot:
    """A Snapshot as the store would return it."""
    crs = "EPSG:4326"
    sides = list(sides) if sides is not None else ["left"] * len(border)
    border_frame = gpd.GeoDataFrame({"name": "b", "side": sides}, geometry=list(border), crs=crs)
    area_frame = gpd.GeoDataFrame(
        {
            "name": [a["name"] for a in areas],
            "from_km": [a.get("from_km") for a in areas],
            "to_km": [a.get("to_km") for a in areas],
        },
        geometry=[a.get("geometry") for a in areas],
        crs=crs,
    )
    fence_frame = gpd.GeoDataFrame(
        {"id": [f[0] for f in fences], "layer": [f[1] for f in fences], "kind": "fence"},
        geometry=[f[2] for f in fences],
        crs=crs,
    )
    facility_frame = gpd.GeoDataFrame(
        {"id": [f[0] for f in facilities], "kind": [f[1] for f in facilities]},
        geometry=[f[2] for f in facilities],
        crs=crs,
    )
    obs = pd.DataFrame(
        {
            "feature_id": [o[0] for o in observations],
            "image_id": None,
            "observed": [o[1] for o in observations],
            "state": [o[2] for o in observations],
        }
    )
    image_frame = gpd.GeoDataFrame(
        {"id": [i[0] for i in images], "acquired": [i[1] for i in images]},
        geometry=[i[2] for i in images],
        crs=crs,
    )
    return Snapshot(
        border_frame, area_frame, fence_frame, facility_frame, obs, image_frame, "0" * 64
    )


def walk(lon: float, lat: float, azimuth: float, km: float, n: int) -> shapely.LineString:
    """A geodesic polyline of ``n`` equal steps (GeographicLib)."""
    line = GEOD.Line(lat, lon, azimuth)
    pts = []
    for i in range(n + 1):
        p = line.Position(km * 1000 * i / n)
        pts.append((p["lon2"], p["lat2"]))
    return shapely.LineString(pts)


def geographiclib_km(line: shapely.LineString) -> float:
    c = np.asarray(line.coords)
    return (
        sum(
            GEOD.Inverse(c[i, 1], c[i, 0], c[i + 1, 1], c[i + 1, 0])["s12"]
            for i in range(len(c) - 1)
        )
        / 1000
    )


def offset_point(lon: float, lat: float, azimuth: float, metres: float) -> tuple[float, float]:
    p = GEOD.Direct(lat, lon, azimuth, metres)
    return p["lon2"], p["lat2"]


# --- Hoeryong ----------------------------------------------------------------------------
HOERYONG = (129.75, 42.44)
#: the border runs north-east here; North Korea is on its left (north-west)... for the test
#: the line runs from south-west to north-east and the monitored side is the left.
BORDER_AZIMUTH = 45.0


def zigzag(
    km_along: float, offsets_m: tuple[float, float], target_km: float, start_km: float
) -> shapely.LineString:
    """A fence zigzagging between two offsets from the border, exactly ``target_km`` long
    (GeographicLib), found by bisection on the number of teeth's amplitude."""
    near, far = offsets_m

    def build(amplitude: float) -> shapely.LineString:
        n = 60
        base = GEOD.Line(HOERYONG[1], HOERYONG[0], BORDER_AZIMUTH)
        pts = []
        for i in range(n + 1):
            p = base.Position((start_km + km_along * i / n) * 1000)
            offset = near + (amplitude if i % 2 else 0.0)
            q = GEOD.Direct(p["lat2"], p["lon2"], p["azi2"] - 90, offset)
            pts.append((q["lon2"], q["lat2"]))
        return shapely.LineString(pts)

    lo, hi = 0.0, far - near
    for _ in range(80):
        mid = (lo + hi) / 2
        if geographiclib_km(build(mid)) < target_km:
            lo = mid
        else:
            hi = mid
    return build((lo + hi) / 2)


def hoeryong() -> Snapshot:
    """7.4 km of border; 5 watchtowers in 2019; by April 2022 +169 guard posts, 9.2 km of new
    secondary fence and 9.5 km of improved primary fence."""
    border = walk(*HOERYONG, BORDER_AZIMUTH, 7.4, 20)
    primary = zigzag(7.3, (40.0, 160.0), 9.5, 0.05)
    secondary = zigzag(7.3, (300.0, 600.0), 9.2, 0.05)
    fences = [("primary-1", "primary", primary), ("secondary-1", "secondary", secondary)]
    base = GEOD.Line(HOERYONG[1], HOERYONG[0], BORDER_AZIMUTH)

    def post(km: float, offset: float) -> shapely.Point:
        p = base.Position(km * 1000)
        q = GEOD.Direct(p["lat2"], p["lon2"], p["azi2"] - 90, offset)
        return shapely.Point(q["lon2"], q["lat2"])

    facilities = [(f"wt-{i}", "watchtower", post(0.7 + 1.5 * i, 800.0)) for i in range(5)]
    facilities += [
        (f"gp-{i}", "guard_post", post(0.02 + 7.36 * i / 168, 200.0)) for i in range(169)
    ]
    observations = [
        ("primary-1", "2019-06-01", "present"),
        ("primary-1", "2020-01-15", "present"),
        ("primary-1", "2022-04-01", "upgraded"),
        ("secondary-1", "2020-01-15", "absent"),
        ("secondary-1", "2022-04-01", "present"),
    ]
    observations += [(f"wt-{i}", "2019-06-01", "present") for i in range(5)]
    for i in range(169):
        observations += [(f"gp-{i}", "2020-01-15", "absent"), (f"gp-{i}", "2022-04-01", "present")]
    return snapshot(
        [border],
        fences,
        facilities,
        observations,
        areas=[{"name": "Hoeryong", "from_km": 0.0, "to_km": 7.4}],
    )


def write_project(path: Any, snap: Snapshot, notice: str | None = None) -> Any:
    """Write a snapshot into a new project file (through the store's own writer)."""
    import fenceline
    from fenceline.store import AuditEntry

    project = fenceline.create(path, border=snap.border, notice=notice)
    with project.store.transaction(AuditEntry("test-analyst", "test")) as tx:
        if len(snap.areas):
            tx.upsert_areas(snap.areas)
        if len(snap.fences):
            tx.upsert_features("fences", snap.fences)
        if len(snap.facilities):
            tx.upsert_features("facilities", snap.facilities)
        if len(snap.observations):
            tx.add_observations(snap.observations.assign(analyst="test-analyst", note=None))
        if len(snap.images):
            tx.upsert_images(snap.images)
    return project
