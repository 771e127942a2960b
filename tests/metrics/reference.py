"""A brute-force, pure-Python reading of the indicator definitions (DESIGN.md "Indicators").

Independent of the engine: GeographicLib for every length and for local coordinates, a loop
over every border segment for every point, a loop over elementary intervals for coverage.
Features are generated either clearly inside the corridor or clearly outside it, so that the
reference needs no polygon clipping.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from dataclasses import dataclass, field
from typing import Any

from geographiclib.geodesic import Geodesic

GEOD = Geodesic.WGS84
EPOCH = dt.date(1970, 1, 1)


def day(text: str) -> int:
    return (dt.date.fromisoformat(text) - EPOCH).days


def status(obs: list[tuple[int, str]], t: int) -> str:
    """present / absent / uncertain at day t, read from the definitions one feature at a time."""
    present = [d for d, s in obs if s in ("present", "upgraded")]
    built_by = min(present) if present else None
    absent_before = [d for d, s in obs if s == "absent" and (built_by is None or d < built_by)]
    built_after = max(absent_before) if absent_before else None
    removals = [
        d
        for d, s in obs
        if s == "removed" or (s == "absent" and built_by is not None and d > built_by)
    ]
    removed_by = min(removals) if removals else None
    before_removal = [
        d
        for d, s in obs
        if s in ("present", "upgraded") and removed_by is not None and d < removed_by
    ]
    removed_after = max(before_removal) if before_removal else None
    if (built_after is not None and built_after >= t) or (
        removed_by is not None and removed_by <= t
    ):
        return "absent"
    if (
        built_by is not None
        and built_by <= t
        and (removed_by is None or (removed_after is not None and t <= removed_after))
    ):
        return "present"
    return "uncertain"


def upgraded_between(obs: list[tuple[int, str]], since: int, at: int) -> bool:
    ups = [d for d, s in obs if s == "upgraded"]
    if not ups:
        return False
    first = min(ups)
    before = [d for d, s in obs if s == "present" and d < first]
    return bool(before) and max(before) >= since and first <= at


def length_km(coords: list[tuple[float, float]]) -> float:
    return (
        sum(GEOD.Inverse(a[1], a[0], b[1], b[0])["s12"] for a, b in itertools.pairwise(coords))
        / 1000
    )


@dataclass
class Border:
    coords: list[tuple[float, float]]
    cum_km: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.cum_km = [0.0]
        for a, b in zip(self.coords, self.coords[1:], strict=False):
            self.cum_km.append(self.cum_km[-1] + GEOD.Inverse(a[1], a[0], b[1], b[0])["s12"] / 1000)

    @property
    def length_km(self) -> float:
        return self.cum_km[-1]

    def chainage(self, lon: float, lat: float) -> float:
        """Nearest border point by a loop over every segment, in local azimuthal coordinates."""
        best = (math.inf, 0.0)
        local = []
        for vlon, vlat in self.coords:
            inv = GEOD.Inverse(lat, lon, vlat, vlon)
            az = math.radians(inv["azi1"])
            local.append((inv["s12"] * math.sin(az), inv["s12"] * math.cos(az)))
        for i in range(len(local) - 1):
            (ax, ay), (bx, by) = local[i], local[i + 1]
            dx, dy = bx - ax, by - ay
            denom = dx * dx + dy * dy
            t = 0.0 if denom == 0 else max(0.0, min(1.0, (-ax * dx - ay * dy) / denom))
            d = math.hypot(ax + t * dx, ay + t * dy)
            if d < best[0]:
                best = (d, self.cum_km[i] + t * (self.cum_km[i + 1] - self.cum_km[i]))
        return best[1]

    def at(self, chainage_km: float, offset_m: float) -> tuple[float, float]:
        """The point at a chainage, offset to the left (negative: right)."""
        for i in range(len(self.coords) - 1):
            if chainage_km <= self.cum_km[i + 1] or i == len(self.coords) - 2:
                a, b = self.coords[i], self.coords[i + 1]
                inv = GEOD.Inverse(a[1], a[0], b[1], b[0])
                line = GEOD.InverseLine(a[1], a[0], b[1], b[0])
                p = line.Position((chainage_km - self.cum_km[i]) * 1000)
                q = GEOD.Direct(p["lat2"], p["lon2"], p["azi2"] - 90, offset_m)
                del inv
                return q["lon2"], q["lat2"]
        raise AssertionError


def union_measure(intervals: list[tuple[float, float]]) -> float:
    total, end = 0.0, -math.inf
    for lo, hi in sorted(intervals):
        if hi <= end:
            continue
        total += hi - max(lo, end)
        end = hi
    return total


def layers_km(
    by_layer: dict[str, list[tuple[float, float]]], lo: float, hi: float
) -> dict[str, float]:
    """Elementary intervals: count distinct layers covering each one's midpoint."""
    cuts = sorted(
        {lo, hi, *[x for iv in by_layer.values() for a, b in iv for x in (a, b) if lo < x < hi]}
    )
    out = {"0": 0.0, "1": 0.0, "2": 0.0, "3+": 0.0}
    for a, b in itertools.pairwise(cuts):
        mid = (a + b) / 2
        k = sum(1 for iv in by_layer.values() if any(x <= mid <= y for x, y in iv))
        out["3+" if k >= 3 else str(k)] += b - a
    return out


def layers_at(by_layer: dict[str, list[tuple[float, float]]], km: float) -> int:
    """How many distinct layers cover chainage ``km``."""
    return sum(1 for iv in by_layer.values() if any(x <= km <= y for x, y in iv))


def local_distance_m(point: tuple[float, float], line: list[tuple[float, float]]) -> float:
    lon, lat = point
    local = []
    for vlon, vlat in line:
        inv = GEOD.Inverse(lat, lon, vlat, vlon)
        az = math.radians(inv["azi1"])
        local.append((inv["s12"] * math.sin(az), inv["s12"] * math.cos(az)))
    best = math.inf
    for (ax, ay), (bx, by) in itertools.pairwise(local):
        dx, dy = bx - ax, by - ay
        denom = dx * dx + dy * dy
        t = 0.0 if denom == 0 else max(0.0, min(1.0, (-ax * dx - ay * dy) / denom))
        best = min(best, math.hypot(ax + t * dx, ay + t * dy))
    return best


def reference_metrics(case: dict[str, Any], at: str, since: str, near_m: float) -> dict[str, Any]:
    """The indicators for one area given by chainage, by brute force."""
    border: Border = case["border"]
    lo, hi = case["area"]
    t, s = day(at), day(since)
    obs: dict[str, list[tuple[int, str]]] = {}
    for fid, d, st in case["observations"]:
        obs.setdefault(fid, []).append((day(d), st))
    fence_km = {"primary": 0.0, "secondary": 0.0, "tertiary": 0.0, "other": 0.0}
    new = upgraded = uncertain = 0.0
    cover_t: list[tuple[float, float]] = []
    cover_s: list[tuple[float, float]] = []
    by_layer: dict[str, list[tuple[float, float]]] = {}
    hot_lines = []
    outside = {"fences": 0, "facilities": 0}
    for fid, layer, coords, inside, assigned in case["fences"]:
        mine = obs.get(fid, [])
        st_t, st_s = status(mine, t), status(mine, s)
        if not inside:
            if assigned and st_t != "absent":
                outside["fences"] += 1
            continue
        chain = [border.chainage(*c) for c in coords]
        segs = [(max(min(a, b), lo), min(max(a, b), hi)) for a, b in itertools.pairwise(chain)]
        segs = [(a, b) for a, b in segs if b > a]
        km = length_km(coords)
        if st_t == "present":
            fence_km[layer] += km
            cover_t += segs
            by_layer.setdefault(layer, []).extend(segs)
            if st_s == "absent":
                new += km
            if st_s == "uncertain":
                uncertain += km
            up = upgraded_between(mine, s, t)
            if up:
                upgraded += km
            if st_s == "absent" or up:
                hot_lines.append(coords)
        if st_s == "present":
            cover_s += segs
    merged = {k: sorted(v) for k, v in by_layer.items()}
    facilities = {"guard_post": 0, "watchtower": 0, "garrison": 0, "checkpoint": 0, "other": 0}
    facilities_since = dict(facilities)
    near = 0
    margin = math.inf  # how close any facility is to the near_m threshold (ambiguous cases)
    for fid, kind, point, inside, assigned in case["facilities"]:
        mine = obs.get(fid, [])
        st_t, st_s = status(mine, t), status(mine, s)
        if not inside:
            if assigned and st_t != "absent":
                outside["facilities"] += 1
            continue
        if st_t == "present":
            facilities[kind] += 1
            distances = [local_distance_m(point, line) for line in hot_lines]
            margin = min([margin, *[abs(d - near_m) for d in distances]])
            if any(d <= near_m for d in distances):
                near += 1
        if st_s == "present":
            facilities_since[kind] += 1
    n_t, n_s = sum(facilities.values()), sum(facilities_since.values())
    total_km = sum(fence_km.values())
    border_km = min(hi, border.length_km) - lo
    return {
        "border_km": border_km,
        "fence_km": fence_km | {"total": total_km},
        "fenced_border_km": union_measure(cover_t),
        "fenced_border_km_since": union_measure(cover_s),
        "layers_km": layers_km(merged, lo, min(hi, border.length_km)),
        "cover_by_layer": merged,
        "new_fence_km": new,
        "upgraded_fence_km": upgraded,
        "uncertain_fence_km": uncertain,
        "facilities": facilities | {"total": n_t},
        "facilities_since": facilities_since | {"total": n_s},
        "fold_increase": n_t / n_s if n_s else None,
        "facilities_near_new_or_upgraded_fence": near,
        "m_per_facility_along_fence": 1000 * total_km / n_t if n_t else None,
        "m_per_facility_along_border": 1000 * border_km / n_t if n_t else None,
        "outside_corridor": outside,
        "near_margin_m": margin,
    }
