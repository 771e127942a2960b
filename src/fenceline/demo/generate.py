"""Generate the demonstration features along the real border (deterministic, seeded).

Fences run parallel to the border on its monitored (left) side, 20–1,000 m inside, as
pieces of 1.5–4 km, each built (or upgraded) on a date between two synthetic images; the
wiggle of each layer is tuned so that the geodesic lengths hit the published totals.
Facilities stand 5–40 m from a fence. Everything is invented except the border; see
:mod:`fenceline.demo.plan`.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from fenceline.demo.chain import BorderChain, geodesic_lengths_km
from fenceline.demo.plan import (
    AREAS,
    CASE_STUDY,
    FACILITY_KINDS_NEW,
    FACILITY_KINDS_OLD,
    TARGETS,
    DemoArea,
)

__all__ = ["DemoData", "generate"]

SEED = 20240307
STEP_KM = 0.025
MARGIN_KM = 0.2
GAP_KM = 0.7
CONSTRUCTION_START = dt.date(2020, 3, 1)


@dataclass
class _Piece:
    area: str
    layer: str
    from_km: float
    to_km: float
    status: str  # "old" (upgraded), "old_kept", "new"
    date: dt.date | None = None  # built or upgraded
    in_case_study: bool = False
    group: str = ""


@dataclass
class DemoData:
    """Everything the demo writes into a project."""

    areas: gpd.GeoDataFrame
    images: gpd.GeoDataFrame
    fences: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    observations: pd.DataFrame
    design: dict[str, float] = field(default_factory=dict)


def _days(a: dt.date, b: dt.date) -> int:
    return (b - a).days


def _image_dates(area: DemoArea, index: int) -> list[dt.date]:
    dates = {area.imaged_2019, area.imaged_final}
    day = dt.date(2020, 2, 10 + 3 * index)
    while day < area.imaged_final - dt.timedelta(days=60):
        dates.add(day)
        month = day.month + 4
        day = dt.date(day.year + (month - 1) // 12, (month - 1) % 12 + 1, day.day)
    if area.name == CASE_STUDY.within:
        dates.add(CASE_STUDY.imaged)
    return sorted(dates)


def _breakpoints(
    rng: np.random.Generator, start: float, stop: float, fixed: list[float]
) -> list[float]:
    points = [start]
    while points[-1] < stop:
        points.append(points[-1] + rng.uniform(1.5, 4.0))
    points[-1] = stop
    points = sorted({round(p, 4) for p in [*points, *fixed] if start <= p <= stop})
    return [
        p
        for i, p in enumerate(points)
        if i == 0 or p - points[i - 1] > 0.3 or p in fixed or p == stop
    ]


def _pick(
    rng: np.random.Generator, spans: list[tuple[float, float]], target: float
) -> list[tuple[float, float]]:
    """Random spans adding up to ``target`` km (the last one cut to fit), in chainage order."""
    chosen: list[tuple[float, float]] = []
    total = 0.0
    for i in rng.permutation(len(spans)):
        a, b = spans[i]
        if total + (b - a) >= target:
            chosen.append((a, a + target - total))
            break
        chosen.append((a, b))
        total += b - a
    return sorted(chosen)


def _plan_pieces(rng: np.random.Generator) -> list[_Piece]:
    pieces: list[_Piece] = []
    cs = CASE_STUDY
    for area in AREAS:
        start, stop = area.from_km + MARGIN_KM, area.to_km - MARGIN_KM
        fixed = [cs.from_km, cs.to_km] if area.name == cs.within else []
        # a gap (river crossing, town) left unfenced, away from the case study
        while True:
            gap_at = rng.uniform(start + 2, stop - 2 - GAP_KM)
            if not fixed or gap_at > cs.to_km + 1 or gap_at + GAP_KM < cs.from_km - 1:
                break
        spans = []
        for a, b in ((start, gap_at), (gap_at + GAP_KM, stop)):
            cuts = _breakpoints(rng, a, b, [f for f in fixed if a < f < b])
            spans += list(itertools.pairwise(cuts))

        def in_cs(span: tuple[float, float], area: DemoArea = area) -> bool:
            return (
                area.name == cs.within
                and span[0] >= cs.from_km - 1e-6
                and span[1] <= cs.to_km + 1e-6
            )

        free = [s for s in spans if not in_cs(s)]
        case = [s for s in spans if in_cs(s)]
        case_km = sum(b - a for a, b in case)
        old = _pick(rng, free, area.fenced_2019_km - case_km) + case
        # primary: the old spans, and new primary over the rest
        covered = sorted(old)
        for a, b in spans:
            rest = [(a, b)]
            for oa, ob in covered:
                rest = [
                    piece
                    for ra, rb in rest
                    for piece in ((ra, min(rb, oa)), (max(ra, ob), rb))
                    if piece[1] - piece[0] > 1e-6
                ]
            for ra, rb in rest:
                pieces.append(_Piece(area.name, "primary", ra, rb, "new", group="new_primary"))
        for a, b in old:
            flag = in_cs((a, b))
            pieces.append(
                _Piece(
                    area.name,
                    "primary",
                    a,
                    b,
                    "old",
                    in_case_study=flag,
                    group="case_primary" if flag else "old_primary",
                )
            )
        secondary = _pick(rng, free, area.secondary_km - case_km) + case
        for a, b in secondary:
            flag = in_cs((a, b))
            pieces.append(
                _Piece(
                    area.name,
                    "secondary",
                    a,
                    b,
                    "new",
                    in_case_study=flag,
                    group="case_secondary" if flag else "layers",
                )
            )
        tertiary = _pick(rng, [s for s in secondary if not in_cs(s)], area.tertiary_km)
        for a, b in tertiary:
            pieces.append(_Piece(area.name, "tertiary", a, b, "new", group="layers"))
    # one old piece in Sonbong is left as it was (HRW: 482 new + 260 enhanced ~ 743 in all)
    kept = next(
        p for p in pieces if p.area == "Sonbong" and p.status == "old" and p.to_km - p.from_km > 1.2
    )
    split = kept.from_km + 0.9
    pieces.append(_Piece(kept.area, "primary", split, kept.to_km, "old", group="old_primary"))
    kept.to_km, kept.status = split, "old_kept"
    return sorted(pieces, key=lambda p: (p.from_km, p.layer))


def _offsets(piece: _Piece, chainage: np.ndarray, amplitude: float) -> np.ndarray:
    """Offset (m) from the border of a fence at these chainages."""
    wavelength = 0.30 if piece.in_case_study else 0.45
    wiggle = np.sin(2 * np.pi * chainage / wavelength)
    primary = 140.0 + amplitude * wiggle
    if piece.layer == "primary":
        return primary
    gap = 390.0 + 190.0 * np.sin(2 * np.pi * chainage / 6.0)
    if piece.in_case_study:  # HRW: the secondary fence runs 15-600 m behind the primary
        gap = 300.0 + 170.0 * np.sin(2 * np.pi * chainage / 3.1)
    secondary = 140.0 + gap + amplitude * np.sin(2 * np.pi * chainage / (wavelength * 1.3) + 1.0)
    if piece.layer == "secondary":
        return secondary
    return secondary + 180.0 + amplitude * 0.5 * np.sin(2 * np.pi * chainage / 0.5)


def _inside(
    chain: BorderChain, piece: _Piece, chainage: np.ndarray, offset: np.ndarray
) -> np.ndarray:
    """Metric points at these offsets, pulled towards the border where they would leave the
    corridor (at hairpin bends the normal offset can cross to the other bank)."""
    corridor = _corridor(chain, piece.area)
    xy = chain.offset_points(chainage, offset)
    for _ in range(4):
        out = ~shapely.contains_xy(corridor, xy[:, 0], xy[:, 1])
        if not out.any():
            break
        offset = np.where(out, offset * 0.4, offset)
        xy[out] = chain.offset_points(chainage[out], offset[out])
    return xy


_CORRIDORS: dict[tuple[int, str], shapely.Geometry] = {}


def _corridor(chain: BorderChain, area_name: str) -> shapely.Geometry:
    key = (id(chain), area_name)
    if key not in _CORRIDORS:
        area = next(a for a in AREAS if a.name == area_name)
        _CORRIDORS[key] = chain.left_corridor(area.from_km, area.to_km, 2700.0)
    return _CORRIDORS[key]


def _build(
    chain: BorderChain, pieces: list[_Piece], amplitude: dict[str, float]
) -> list[shapely.LineString]:
    lines = []
    for piece in pieces:
        n = max(int(np.ceil((piece.to_km - piece.from_km) / STEP_KM)), 2) + 1
        chainage = np.linspace(piece.from_km, piece.to_km, n)
        xy = _inside(chain, piece, chainage, _offsets(piece, chainage, amplitude[piece.group]))
        lines.append(shapely.LineString(chain.to_lonlat(xy)))
    return lines


def _tune(chain: BorderChain, pieces: list[_Piece], targets: dict[str, float]) -> dict[str, float]:
    """Wiggle amplitude per group so that the group's geodesic length hits its target."""
    amplitude = {}
    for group, target in targets.items():
        members = [p for p in pieces if p.group == group]
        lo, hi = 0.0, 130.0
        for _ in range(18):
            mid = (lo + hi) / 2
            total = geodesic_lengths_km(_build(chain, members, {group: mid})).sum()
            lo, hi = (mid, hi) if total < target else (lo, mid)
        amplitude[group] = (lo + hi) / 2
    return amplitude


def _construction_dates(rng: np.random.Generator, n: int, last: dt.date) -> list[dt.date]:
    span = _days(CONSTRUCTION_START, last)
    offsets = rng.beta(1.6, 2.4, n) * span
    return [CONSTRUCTION_START + dt.timedelta(days=int(o)) for o in offsets]


def generate(border: shapely.LineString, seed: int = SEED) -> DemoData:
    """Generate the demonstration areas, images, fences, facilities and observations.

    >>> from fenceline.data import bundled_border
    >>> data = generate(bundled_border().geometry.iloc[0])
    >>> len(data.facilities), sorted(data.areas["name"])[:2]
    (6820, ['Chunggang', 'Hoeryong'])
    """
    rng = np.random.default_rng(seed)
    chain = BorderChain(border)
    _CORRIDORS.clear()
    cs = CASE_STUDY
    pieces = _plan_pieces(rng)

    # lengths: HRW's totals, less what the case study fixes
    new_primary_groups = {
        "case_primary": cs.improved_primary_km,
        "case_secondary": cs.new_secondary_km,
    }
    old_target = TARGETS["fence_km_total"] - TARGETS["new_fence_km"] - cs.improved_primary_km
    amplitude = _tune(chain, pieces, {**new_primary_groups, "old_primary": old_target})
    # new primary looks like old primary; secondary/tertiary take up the rest of the new km
    amplitude["new_primary"] = amplitude["old_primary"]
    fixed_new = geodesic_lengths_km(
        _build(chain, [p for p in pieces if p.group == "new_primary"], amplitude)
    ).sum()
    rest = TARGETS["new_fence_km"] - cs.new_secondary_km - fixed_new
    amplitude.update(_tune(chain, pieces, {"layers": rest}))
    lines = _build(chain, pieces, amplitude)

    images, image_dates = _images(chain)
    fences, fence_obs = _fences(rng, pieces, lines, image_dates)
    facilities, facility_obs = _facilities(rng, chain, pieces, amplitude, image_dates)
    areas = gpd.GeoDataFrame(
        {
            "name": [a.name for a in AREAS] + [cs.name],
            "from_km": [a.from_km for a in AREAS] + [cs.from_km],
            "to_km": [a.to_km for a in AREAS] + [cs.to_km],
            "placed_near": [a.place for a in AREAS] + [f"inside {cs.within}, around Hoeryŏng city"],
        },
        geometry=[chain.section_polygon(a.from_km, a.to_km, 3500.0) for a in AREAS]
        + [chain.section_polygon(cs.from_km, cs.to_km, 3500.0)],
        crs="EPSG:4326",
    )
    observations = pd.concat([fence_obs, facility_obs], ignore_index=True)
    return DemoData(areas, images, fences, facilities, observations, design=dict(amplitude))


def _images(chain: BorderChain) -> tuple[gpd.GeoDataFrame, dict[str, list[tuple[dt.date, str]]]]:
    rows, dates = [], {}
    for index, area in enumerate(AREAS):
        footprint = chain.section_polygon(area.from_km - 1.0, area.to_km + 1.0, 4500.0)
        dates[area.name] = []
        for day in _image_dates(area, index):
            image_id = f"SYNTHETIC-{area.name.upper()}-{day.isoformat()}"
            dates[area.name].append((day, image_id))
            rows.append(
                {
                    "id": image_id,
                    "acquired": day.isoformat(),
                    "sensor": "SYNTHETIC (no image)",
                    "gsd_m": 0.5,
                    "licence": "synthetic demonstration record; no image exists",
                    "geometry": footprint,
                }
            )
    return gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326"), dates


def _observe(
    feature_id: str, status: str, day: dt.date | None, images: list[tuple[dt.date, str]]
) -> list[tuple[str, str, str, str]]:
    """Observation rows (feature_id, image_id, observed, state) for one feature."""
    first, last = images[0], images[-1]
    if status == "old_kept":
        return [
            (feature_id, first[1], first[0].isoformat(), "present"),
            (feature_id, last[1], last[0].isoformat(), "present"),
        ]
    assert day is not None
    before = max(i for i in images if i[0] < day)
    after = min(i for i in images if i[0] >= day)
    if status == "new":
        marks = [(first, "absent"), (before, "absent"), (after, "present"), (last, "present")]
    else:  # old, upgraded on ``day``
        marks = [(first, "present"), (before, "present"), (after, "upgraded"), (last, "present")]
    seen: set[tuple[str, str]] = set()
    rows = []
    for (obs_day, image_id), state in marks:
        if (image_id, state) in seen or (state == "present" and (image_id, "upgraded") in seen):
            continue
        seen.add((image_id, state))
        rows.append((feature_id, image_id, obs_day.isoformat(), state))
    return rows


def _last_date(area: str, case_study: bool) -> dt.date:
    final = next(a.imaged_final for a in AREAS if a.name == area)
    return (CASE_STUDY.imaged if case_study else final) - dt.timedelta(days=5)


def _fences(
    rng: np.random.Generator,
    pieces: list[_Piece],
    lines: list[shapely.LineString],
    image_dates: dict[str, list[tuple[dt.date, str]]],
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    rows, obs = [], []
    counters: dict[str, int] = {}
    for piece, line in zip(pieces, lines, strict=True):
        counters[piece.area] = counters.get(piece.area, 0) + 1
        feature_id = f"FEN-{piece.area.upper()}-{counters[piece.area]:04d}"
        if piece.status != "old_kept":
            piece.date = _construction_dates(rng, 1, _last_date(piece.area, piece.in_case_study))[0]
        rows.append({"id": feature_id, "layer": piece.layer, "kind": "fence", "geometry": line})
        obs += _observe(feature_id, piece.status, piece.date, image_dates[piece.area])
    fences = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
    return fences, _observation_frame(obs)


def _observation_frame(rows: list[tuple[str, str, str, str]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["feature_id", "image_id", "observed", "state"])
    frame["analyst"] = "fenceline-demo (synthetic)"
    return frame


def _facilities(
    rng: np.random.Generator,
    chain: BorderChain,
    pieces: list[_Piece],
    amplitude: dict[str, float],
    image_dates: dict[str, list[tuple[dt.date, str]]],
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    cs = CASE_STUDY
    old_kinds = [k for k, n in FACILITY_KINDS_OLD.items() for _ in range(n)]
    new_kinds = [k for k, n in FACILITY_KINDS_NEW.items() for _ in range(n)]
    old_kinds.remove("watchtower")  # the case study's five watchtowers are placed first
    for _ in range(cs.watchtowers_2019 - 1):
        old_kinds.remove("watchtower")
    for _ in range(cs.new_guard_posts):
        new_kinds.remove("guard_post")
    old_kinds = list(rng.permutation(old_kinds))
    new_kinds = list(rng.permutation(new_kinds))

    placements: list[tuple[_Piece, str, str]] = []  # (piece, kind, status)
    case_old = [p for p in pieces if p.in_case_study and p.layer == "primary"]
    case_new = [p for p in pieces if p.in_case_study]
    placements += [
        (case_old[i % len(case_old)], "watchtower", "old") for i in range(cs.watchtowers_2019)
    ]
    placements += [
        (case_new[i % len(case_new)], "guard_post", "new") for i in range(cs.new_guard_posts)
    ]
    for area in AREAS:
        count = area.facilities_2019 - (cs.watchtowers_2019 if area.name == cs.within else 0)
        olds = [
            p for p in pieces if p.area == area.name and p.status != "new" and not p.in_case_study
        ]
        weights = np.array([p.to_km - p.from_km for p in olds])
        for i in rng.choice(len(olds), count, p=weights / weights.sum()):
            placements.append((olds[i], old_kinds.pop(), "old"))
    free = [p for p in pieces if not p.in_case_study]
    weights = np.array([p.to_km - p.from_km for p in free])
    for i in rng.choice(len(free), len(new_kinds), p=weights / weights.sum()):
        placements.append((free[i], new_kinds.pop(), "new"))

    n = len(placements)
    chainage = np.array([rng.uniform(p.from_km + 0.01, p.to_km - 0.01) for p, _, _ in placements])
    offsets = np.array(
        [
            _offsets(p, np.array([c]), amplitude[p.group])[0]
            for (p, _, _), c in zip(placements, chainage, strict=True)
        ]
    )
    offsets += rng.choice([-1.0, 1.0], n) * rng.uniform(5.0, 40.0, n)
    offsets = np.maximum(offsets, 10.0)
    xy = np.vstack(
        [
            _inside(chain, p, chainage[i : i + 1], offsets[i : i + 1])
            for i, (p, _, _) in enumerate(placements)
        ]
    )
    lonlat = chain.to_lonlat(xy)
    order = np.argsort(chainage, kind="stable")
    rows, obs = [], []
    for rank, i in enumerate(order, start=1):
        piece, kind, status = placements[i]
        feature_id = f"FAC-{rank:05d}"
        rows.append({"id": feature_id, "kind": kind, "geometry": shapely.Point(lonlat[i])})
        images = image_dates[piece.area]
        if status == "old":
            obs += _observe(feature_id, "old_kept", None, images)
        else:
            last = _last_date(piece.area, piece.in_case_study)
            anchor = piece.date or CONSTRUCTION_START
            day = anchor + dt.timedelta(days=int(rng.normal(30, 60)))
            day = min(max(day, CONSTRUCTION_START), last)
            obs += _observe(feature_id, "new", day, images)
    facilities = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
    return facilities, _observation_frame(obs)
