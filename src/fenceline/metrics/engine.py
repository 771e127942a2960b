"""Preparation shared by every indicator: features in the working projection, their
timelines, and each area's corridor clip (done once, then evaluated at any dates).

Nothing here loops over features or border segments in Python: clipping uses an STRtree over
a subdivided corridor and shapely's array functions, chainage uses an STRtree over the border
segments, and lengths are one vectorised geodesic call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from fenceline.errors import ParameterError
from fenceline.geo import BorderReference, clip_to, segment_lengths_km, subdivide, union
from fenceline.store.base import Snapshot
from fenceline.temporal import Timeline
from fenceline.vocab import FACILITY_KINDS, FENCE_LAYERS

__all__ = ["WHOLE_BORDER", "Engine", "Region", "RegionClip"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: name of the area used when a project defines none
WHOLE_BORDER = "(whole border)"


@dataclass
class Region:
    """An area as the indicators see it: border chainage intervals and a planar corridor."""

    name: str
    start_km: FloatArray
    end_km: FloatArray
    corridor: shapely.Geometry
    #: features assigned to the area (whether or not inside its corridor)
    fence_assigned: BoolArray
    facility_assigned: BoolArray
    definition: dict[str, Any] = field(default_factory=dict)


@dataclass
class RegionClip:
    """Features clipped to one region's corridor."""

    region: Region
    piece_fence: IntArray  # fence index of each clipped piece
    piece_km: FloatArray  # geodesic length of each piece
    piece_geom: npt.NDArray[np.object_]  # planar pieces (for distances)
    cover_lo: FloatArray  # chainage intervals covered, sorted by cover_lo
    cover_hi: FloatArray
    cover_fence: IntArray
    facility_index: IntArray  # facilities inside the corridor
    fence_in_corridor: BoolArray
    facility_in_corridor: BoolArray

    @property
    def border_km(self) -> float:
        return float(np.sum(self.region.end_km - self.region.start_km))


def _days(values: pd.Series, column: str) -> IntArray:
    """Days since 1970 of stored ISO dates; ``column`` (table.column) names a bad one."""
    text = values.astype(str).str.slice(0, 10).to_numpy()
    try:
        return np.asarray(text, dtype="datetime64[D]").astype(np.int64)
    except ValueError as exc:
        raise ParameterError(column, f"a stored date cannot be read: {exc}") from None


class Engine:
    """Everything the indicators need from one :class:`~fenceline.store.base.Snapshot`.

    Parameters
    ----------
    snapshot : Snapshot
        What the store returned; never modified.
    corridor_m : float
        Width of the corridor on the monitored side of the border.
    """

    def __init__(self, snapshot: Snapshot, corridor_m: float = 3000.0) -> None:
        if not corridor_m > 0:
            raise ParameterError(
                "--corridor-m", f"must be a positive number of metres, not {corridor_m}"
            )
        border = snapshot.border
        if border is None or len(border) == 0 or border.geometry.isna().all():
            raise ParameterError(
                "border",
                "the project has no border line (create it with `fenceline init --border FILE`)",
            )
        if len(snapshot.fences) == 0 and len(snapshot.facilities) == 0:
            raise ParameterError(
                "project",
                "has no fences or facilities: nothing to measure (add some with `fenceline import`)",
            )
        self.snapshot = snapshot
        self.corridor_m = float(corridor_m)
        sides = (
            border["side"].fillna("left").astype(str).tolist()
            if "side" in border
            else ["left"] * len(border)
        )
        self.ref = BorderReference(list(border.geometry), sides)

        fences, facilities = snapshot.fences, snapshot.facilities
        self.fence_ids = fences["id"].astype(str).to_numpy()
        self.facility_ids = facilities["id"].astype(str).to_numpy()
        layer = fences["layer"].astype(str) if len(fences) else pd.Series([], dtype=str)
        self.layers = FENCE_LAYERS
        self.fence_layer = np.array(
            [
                FENCE_LAYERS.index(v) if v in FENCE_LAYERS else FENCE_LAYERS.index("other")
                for v in layer
            ],
            dtype=np.int64,
        )
        kind = facilities["kind"].astype(str) if len(facilities) else pd.Series([], dtype=str)
        self.kinds = FACILITY_KINDS
        self.facility_kind = np.array(
            [
                FACILITY_KINDS.index(v) if v in FACILITY_KINDS else FACILITY_KINDS.index("other")
                for v in kind
            ],
            dtype=np.int64,
        )
        self.fences_planar = self.ref.geometries_to_planar(fences.geometry.to_numpy())
        fac_xy = shapely.get_coordinates(facilities.geometry.to_numpy())
        self.facility_xy = self.ref.to_planar(fac_xy) if len(fac_xy) else np.zeros((0, 2))
        self.facility_points = (
            shapely.points(self.facility_xy) if len(self.facility_xy) else np.zeros(0, dtype=object)
        )

        self._timelines(snapshot.observations)
        # chainage used to assign features to chainage areas
        mid = shapely.line_interpolate_point(self.fences_planar, 0.5, normalized=True)
        self.fence_chainage = (
            self.ref.chainage_km(shapely.get_coordinates(mid)) if len(mid) else np.zeros(0)
        )
        self.facility_chainage = self.ref.chainage_km(self.facility_xy)
        self._full_corridor: shapely.Geometry | None = None
        self.regions = self._regions(snapshot.areas)

    # --- time ---------------------------------------------------------------------------
    def _timelines(self, observations: pd.DataFrame) -> None:
        obs = observations if observations is not None else pd.DataFrame()
        n_obs = len(obs)
        feature = obs["feature_id"].astype(str).to_numpy() if n_obs else np.zeros(0, dtype=str)
        days = (
            _days(obs["observed"], "observations.observed")
            if n_obs
            else np.zeros(0, dtype=np.int64)
        )
        state = obs["state"].astype(str).to_numpy() if n_obs else np.zeros(0, dtype=str)
        used = np.zeros(n_obs, dtype=bool)

        def build(ids: npt.NDArray[np.str_]) -> tuple[Timeline, BoolArray]:
            position = pd.Index(ids).get_indexer(feature) if n_obs else np.zeros(0, dtype=np.int64)
            match = position >= 0
            used[match] = True
            tl = Timeline.from_observations(len(ids), position[match], days[match], state[match])
            dated = np.zeros(len(ids), dtype=bool)
            dated[position[match & (state != "unclear")]] = True
            return tl, dated

        self.fence_timeline, self.fence_dated = build(self.fence_ids)
        self.facility_timeline, self.facility_dated = build(self.facility_ids)
        self.observations_used = int(used.sum())
        self.observations_total = n_obs

    # --- areas --------------------------------------------------------------------------
    @property
    def full_corridor(self) -> shapely.Geometry:
        if self._full_corridor is None:
            self._full_corridor = self.ref.corridor(self.corridor_m)
        return self._full_corridor

    def _chainage_region(
        self, name: str, lo: float, hi: float, definition: dict[str, Any]
    ) -> Region:
        lo, hi = max(lo, 0.0), min(hi, self.ref.length_km)
        return Region(
            name=name,
            start_km=np.array([lo]),
            end_km=np.array([hi]),
            corridor=self.ref.corridor(self.corridor_m, lo, hi),
            fence_assigned=(self.fence_chainage >= lo) & (self.fence_chainage <= hi),
            facility_assigned=(self.facility_chainage >= lo) & (self.facility_chainage <= hi),
            definition=definition,
        )

    def _regions(self, areas: Any) -> list[Region]:
        if areas is None or len(areas) == 0:
            return [
                self._chainage_region(
                    WHOLE_BORDER,
                    0.0,
                    self.ref.length_km,
                    {"from_km": 0.0, "to_km": self.ref.length_km},
                )
            ]
        regions = []
        for row in areas.itertuples(index=False):  # a handful of areas, not features
            name = str(row.name)
            geom = getattr(row, "geometry", None)
            if geom is not None and not geom.is_empty:
                polygon = shapely.make_valid(self.ref.geometries_to_planar([geom])[0])
                start, end = self.ref.intervals_within(polygon)
                regions.append(
                    Region(
                        name=name,
                        start_km=start,
                        end_km=end,
                        corridor=shapely.intersection(self.full_corridor, polygon),
                        fence_assigned=shapely.intersects(self.fences_planar, polygon),
                        facility_assigned=shapely.intersects(self.facility_points, polygon)
                        if len(self.facility_points)
                        else np.zeros(0, dtype=bool),
                        definition={"polygon": True},
                    )
                )
                continue
            lo, hi = getattr(row, "from_km", None), getattr(row, "to_km", None)
            if lo is None or hi is None or pd.isna(lo) or pd.isna(hi):
                raise ParameterError(f"area {name!r}", "has neither a polygon nor from_km/to_km")
            lo, hi = float(lo), float(hi)
            if not 0 <= lo < hi:
                raise ParameterError(
                    f"area {name!r}", f"from_km {lo} must be >= 0 and below to_km {hi}"
                )
            if lo >= self.ref.length_km:
                raise ParameterError(
                    f"area {name!r}",
                    f"from_km {lo} is beyond the end of the border ({self.ref.length_km:.3f} km)",
                )
            regions.append(self._chainage_region(name, lo, hi, {"from_km": lo, "to_km": hi}))
        return regions

    def select(self, area: str | None) -> list[Region]:
        """The regions to report: all areas, or the one named."""
        if area is None:
            return self.regions
        for region in self.regions:
            if region.name == area:
                return [region]
        names = ", ".join(repr(r.name) for r in self.regions) or "none"
        raise ParameterError("--area", f"no area named {area!r} in this project (areas: {names})")

    def total(self, regions: list[Region]) -> Region:
        """The union of regions (overlaps counted once)."""
        if len(regions) == 1:
            return regions[0]
        start, end = union(
            np.concatenate([r.start_km for r in regions]),
            np.concatenate([r.end_km for r in regions]),
        )
        return Region(
            name="total",
            start_km=start,
            end_km=end,
            corridor=shapely.union_all([r.corridor for r in regions]),
            fence_assigned=np.logical_or.reduce([r.fence_assigned for r in regions]),
            facility_assigned=np.logical_or.reduce([r.facility_assigned for r in regions]),
            definition={"union_of": [r.name for r in regions]},
        )

    # --- clipping ------------------------------------------------------------------------
    def clip(self, region: Region) -> RegionClip:
        """Clip every fence and facility to the region's corridor (vectorised)."""
        pieces = np.array(subdivide(region.corridor, 128), dtype=object)
        n_fences = len(self.fences_planar)
        empty_f, empty_i = np.zeros(0), np.zeros(0, dtype=np.int64)
        if len(pieces) == 0:
            return RegionClip(
                region,
                empty_i,
                empty_f,
                np.zeros(0, dtype=object),
                empty_f,
                empty_f,
                empty_i,
                empty_i,
                np.zeros(n_fences, dtype=bool),
                np.zeros(len(self.facility_xy), dtype=bool),
            )
        tree = shapely.STRtree(pieces)
        fence_i, piece_i = (
            tree.query(self.fences_planar, predicate="intersects")
            if n_fences
            else (empty_i, empty_i)
        )
        clipped = shapely.intersection(self.fences_planar[fence_i], pieces[piece_i])
        parts, owner = shapely.get_parts(clipped, return_index=True)
        is_line = shapely.get_type_id(parts) == 1
        parts, owner = parts[is_line], owner[is_line]
        piece_fence = fence_i[owner].astype(np.int64)

        coords, line_of = shapely.get_coordinates(parts, return_index=True)
        piece_km = np.zeros(len(parts))
        lo = hi = empty_f
        seg_fence = empty_i
        if len(coords) >= 2:
            lonlat = self.ref.to_lonlat(coords)
            seg_km = segment_lengths_km(lonlat[:, 0], lonlat[:, 1])
            same = line_of[1:] == line_of[:-1]
            np.add.at(piece_km, line_of[:-1][same], seg_km[same])
            chain, part, _, _ = self.ref.locate(coords)
            a, b = chain[:-1][same], chain[1:][same]
            seg_lo, seg_hi = np.minimum(a, b), np.maximum(a, b)
            # a segment whose ends are nearest to different border parts covers only its ends
            other_part = part[:-1][same] != part[1:][same]
            seg_hi = np.where(other_part, seg_lo, seg_hi)
            seg_owner = piece_fence[line_of[:-1][same]]
            lo, hi, source = clip_to(seg_lo, seg_hi, (region.start_km, region.end_km))
            order = np.argsort(lo, kind="stable")
            lo, hi, seg_fence = lo[order], hi[order], seg_owner[source][order]
        in_corridor = np.zeros(n_fences, dtype=bool)
        in_corridor[piece_fence[piece_km > 0]] = True

        fac_in = np.zeros(len(self.facility_xy), dtype=bool)
        if len(self.facility_xy):
            fac_i, _ = tree.query(self.facility_points, predicate="intersects")
            fac_in[fac_i] = True
        return RegionClip(
            region=region,
            piece_fence=piece_fence,
            piece_km=piece_km,
            piece_geom=parts,
            cover_lo=lo,
            cover_hi=hi,
            cover_fence=seg_fence,
            facility_index=np.flatnonzero(fac_in),
            fence_in_corridor=in_corridor,
            facility_in_corridor=fac_in,
        )

    # --- images ------------------------------------------------------------------------
    def assessable_km(self, region: Region, since_day: int | None, at_day: int) -> float | None:
        """Border km in the region covered by footprints of both epochs (None without images)."""
        images = self.snapshot.images
        if since_day is None or images is None or len(images) == 0:
            return None
        acquired = _days(images["acquired"], "images.acquired")
        geoms = images.geometry.to_numpy()
        valid = np.array([g is not None and not g.is_empty for g in geoms], dtype=bool)
        before = valid & (acquired <= since_day)
        after = valid & (acquired > since_day) & (acquired <= at_day)
        if not before.any() or not after.any():
            return 0.0
        planar = np.empty(len(geoms), dtype=object)
        planar[valid] = self.ref.geometries_to_planar(geoms[valid])
        both = shapely.intersection(
            shapely.union_all(planar[before]), shapely.union_all(planar[after])
        )
        start, end = self.ref.intervals_within(shapely.make_valid(both))
        from fenceline.geo import intersect, measure

        return measure(*intersect((start, end), (region.start_km, region.end_km)))
