"""SYNTHETIC scenarios for tests and benchmarks: fences and facilities along a border, with
construction stories told by observations. Nothing here is evidence; every snapshot it makes
carries ``SYNTHETIC`` in its ``content_sha256`` field so that it cannot pass for a project.

Fences follow the border at a random offset (most inside the corridor, some beyond it, some
on the other side, some crossing into the next border part); facilities are scattered in
and around the corridor. Generation is vectorised; a million observations take seconds.

>>> import shapely
>>> from fenceline.metrics.synthetic import synthetic_snapshot
>>> snap = synthetic_snapshot([shapely.LineString([(125, 41), (125.5, 41.2)])], ["left"],
...                           n_fences=20, n_facilities=50, seed=1)
>>> len(snap.fences), len(snap.facilities), snap.content_sha256.startswith("SYNTHETIC")
(20, 50, True)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from fenceline.geo import BorderReference
from fenceline.store.base import Snapshot
from fenceline.vocab import FACILITY_KINDS, FENCE_LAYERS

__all__ = ["synthetic_snapshot"]

#: observation dates used by the stories (days since 1970 are derived from these)
DATES = pd.date_range("2018-01-01", "2024-12-01", freq="MS")


def _border_points(
    ref: BorderReference, chainage: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Planar point, unit normal towards the monitored side, and part at each chainage."""
    seg = np.clip(
        np.searchsorted(ref.seg_start_km, chainage, side="right") - 1, 0, len(ref.seg_km) - 1
    )
    t = np.clip((chainage - ref.seg_start_km[seg]) / np.maximum(ref.seg_km[seg], 1e-12), 0, 1)
    a, b = ref.seg_a[seg], ref.seg_b[seg]
    xy = a + t[:, None] * (b - a)
    d = b - a
    d = d / np.maximum(np.hypot(d[:, 0], d[:, 1]), 1e-12)[:, None]
    left = np.column_stack([-d[:, 1], d[:, 0]])
    monitored_left = np.array([s == "left" for s in ref.sides])[ref.seg_part[seg]]
    normal = np.where(monitored_left[:, None], left, -left)
    return xy, normal, ref.seg_part[seg]


def synthetic_snapshot(
    border: Sequence[shapely.LineString],
    sides: Sequence[str],
    n_fences: int,
    n_facilities: int,
    areas: Sequence[dict[str, Any]] = (),
    fence_km: float = 5.0,
    vertex_m: float = 250.0,
    images: Sequence[tuple[str, str, shapely.Geometry]] = (),
    seed: int = 0,
) -> Snapshot:
    """A SYNTHETIC snapshot.

    Parameters
    ----------
    border, sides : sequence
        Border parts (lon/lat) and the monitored side of each.
    n_fences, n_facilities : int
        How many features; each gets two to four observations.
    areas : sequence of dict
        ``{"name", "from_km", "to_km"}`` or ``{"name", "geometry"}``.
    fence_km : float
        Mean length of a fence along the border (km); lengths vary from 0.2x to 1.8x.
    vertex_m : float
        Spacing of fence vertices along the border.
    images : sequence of (id, acquired, footprint)
        Image footprints to register.
    seed : int
        Random seed; the same arguments give the same snapshot.
    """
    rng = np.random.default_rng(seed)
    ref = BorderReference(list(border), list(sides))
    length = ref.length_km

    # fences: a start chainage, a length, an offset (signed: + is the monitored side)
    along = np.minimum(fence_km * rng.uniform(0.2, 1.8, n_fences), length * 0.5)
    start = rng.uniform(0, np.maximum(length - along, 0))
    where = rng.choice(5, n_fences, p=[0.82, 0.06, 0.05, 0.04, 0.03])
    offset = np.select(
        [where == 0, where == 1, where == 2],
        [
            rng.uniform(20, 2900, n_fences),
            rng.uniform(3300, 6000, n_fences),
            -rng.uniform(50, 1500, n_fences),
        ],
        rng.uniform(2000, 4500, n_fences),  # 3: across the corridor's outer edge
    )
    n_vertices = np.maximum(2, np.ceil(along * 1000 / vertex_m).astype(np.int64) + 1)
    owner = np.repeat(np.arange(n_fences), n_vertices)
    first = np.repeat(np.cumsum(n_vertices) - n_vertices, n_vertices)
    k = np.arange(len(owner)) - first
    frac = k / (n_vertices[owner] - 1)
    chainage = start[owner] + along[owner] * frac
    xy, normal, _ = _border_points(ref, chainage)
    wobble = rng.normal(0, 15, len(owner))
    crossing = where[owner] == 3
    off = np.where(crossing, offset[owner] * (0.5 + frac), offset[owner])
    off = np.where(where[owner] == 4, -800 + 1600 * frac, off) + wobble  # 4: across the border
    coords = ref.to_lonlat(xy + normal * off[:, None])
    lines = shapely.linestrings(coords, indices=owner)
    layer = rng.choice(len(FENCE_LAYERS), n_fences, p=[0.5, 0.3, 0.1, 0.1])

    # facilities
    fac_chain = rng.uniform(0, length, n_facilities)
    fxy, fnormal, _ = _border_points(ref, fac_chain)
    fac_off = np.where(
        rng.random(n_facilities) < 0.9,
        rng.uniform(10, 2990, n_facilities),
        rng.uniform(-1500, 5000, n_facilities),
    )
    fac_lonlat = ref.to_lonlat(fxy + fnormal * fac_off[:, None])
    kind = rng.choice(len(FACILITY_KINDS), n_facilities, p=[0.7, 0.15, 0.05, 0.05, 0.05])

    fence_ids = np.char.add("f", np.arange(n_fences).astype(str))
    facility_ids = np.char.add("p", np.arange(n_facilities).astype(str))
    obs = _stories(rng, np.concatenate([fence_ids, facility_ids]), n_fences)

    crs = "EPSG:4326"
    border_frame = gpd.GeoDataFrame(
        {"name": "border", "side": list(sides)}, geometry=list(border), crs=crs
    )
    area_frame = gpd.GeoDataFrame(
        {
            "name": [a["name"] for a in areas],
            "from_km": [a.get("from_km") for a in areas],
            "to_km": [a.get("to_km") for a in areas],
        },
        geometry=[a.get("geometry") for a in areas],
        crs=crs,
    )
    fences = gpd.GeoDataFrame(
        {"id": fence_ids, "layer": np.array(FENCE_LAYERS)[layer], "kind": "fence"},
        geometry=lines,
        crs=crs,
    )
    facilities = gpd.GeoDataFrame(
        {"id": facility_ids, "kind": np.array(FACILITY_KINDS)[kind]},
        geometry=shapely.points(fac_lonlat),
        crs=crs,
    )
    image_frame = gpd.GeoDataFrame(
        {"id": [i[0] for i in images], "acquired": [i[1] for i in images]},
        geometry=[i[2] for i in images],
        crs=crs,
    )
    return Snapshot(
        border_frame, area_frame, fences, facilities, obs, image_frame, "SYNTHETIC-" + "0" * 54
    )


def _stories(rng: np.random.Generator, ids: np.ndarray, n_fences: int) -> pd.DataFrame:
    """One to five observations per feature: absent, then present (often seen twice), then maybe upgraded
    (fences) or removed; some features get an unclear look or no absent observation."""
    n = len(ids)
    m = len(DATES)
    built = rng.integers(1, m - 2, n)
    absent = rng.integers(0, built)
    later = rng.integers(built + 1, m)
    has_absent = rng.random(n) < 0.85
    third = rng.random(n)
    upgraded = (np.arange(n) < n_fences) & (third < 0.3)
    removed = (third >= 0.3) & (third < 0.36)
    unclear = (third >= 0.36) & (third < 0.5)
    again = rng.random(n) < 0.9
    seen_again = rng.integers(built, later + 1)
    feature = [ids[has_absent], ids, ids[again], ids[upgraded], ids[removed], ids[unclear]]
    when = [
        absent[has_absent],
        built,
        seen_again[again],
        later[upgraded],
        later[removed],
        later[unclear],
    ]
    state = [
        np.full(has_absent.sum(), "absent"),
        np.full(n, "present"),
        np.full(again.sum(), "present"),
        np.full(upgraded.sum(), "upgraded"),
        np.full(removed.sum(), "removed"),
        np.full(unclear.sum(), "unclear"),
    ]
    dates = DATES.strftime("%Y-%m-%d").to_numpy()
    return pd.DataFrame(
        {
            "feature_id": np.concatenate(feature),
            "image_id": None,
            "observed": dates[np.concatenate(when)],
            "state": np.concatenate(state),
        }
    )
