"""Indicators at scale: the whole bundled border at ten times HRW's density (SYNTHETIC).

DESIGN.md "Performance and scale": ~30,000 km of fence, 300,000 facilities and ~1 M
observations along the whole northern border; metrics for 10 areas (8 chainage ranges and 2
polygons) plus their total, and a 72-month timeline. Prints the wall time (median of
``--repeat`` runs) and peak memory of fenceline and of the same definitions written as PostGIS
SQL (fenceline.metrics.postgis_reference) on the same data, their ratio, and how far the two
results are apart. Target: seconds for fenceline, at least 10x faster than PostGIS.

    eval "$(bash scripts/start-postgis.sh)"
    python benchmarks/metrics_scale.py [--repeat 3] [--scale 1.0] [--postgis-repeat N]

Without FENCELINE_TEST_PG (or with --no-postgis) only fenceline is timed. Loading the data into
PostGIS is not timed (a team store already holds it); fenceline is timed from the in-memory
snapshot the store returns. Each run is a fresh process (fenceline) or connection (PostGIS),
so peak memory is per run: the process's peak RSS for fenceline (interpreter and data
included), the server backend's peak RSS (VmHWM) for PostGIS.
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing as mp
import os
import pickle
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import shapely

from fenceline.data import bundled_border
from fenceline.geo import BorderReference
from fenceline.metrics import compute_metrics, compute_timeline
from fenceline.metrics.engine import Engine
from fenceline.metrics.synthetic import synthetic_snapshot
from fenceline.metrics.timeline import step_dates

AT, SINCE = "2023-12-31", "2019-12-31"
TIMELINE = ("2019-01-01", "2024-12-01")  # 72 monthly steps
FULL = {"fence_km": 30_000.0, "facilities": 300_000}


def scenario(scale: float, seed: int = 7) -> Any:
    border = bundled_border()
    parts, sides = list(border.geometry), border["side"].fillna("left").tolist()
    ref = BorderReference(parts, sides)
    length = ref.length_km
    ranges = [
        (0.0, 60.0),
        (90, 170),
        (200, 260),
        (300, 420),
        (450, 520),
        (560, 640),
        (680, 760),
        (800, 880),
    ]
    areas: list[dict[str, Any]] = [
        {"name": f"range {lo:g}-{hi:g} km", "from_km": float(lo), "to_km": float(hi)}
        for lo, hi in ranges
    ]
    for name, chainage in (("polygon A", 0.15 * length), ("polygon B", 0.93 * length)):
        lon, lat = ref.to_lonlat(ref.point_at(chainage))[0]
        areas.append(
            {"name": name, "geometry": shapely.box(lon - 0.2, lat - 0.15, lon + 0.2, lat + 0.15)}
        )
    mean_fence_km = 5.0  # along the border; actual lengths run ~35 % longer (meanders, offsets)
    n_fences = int(FULL["fence_km"] * scale / (mean_fence_km * 1.37))
    n_facilities = int(FULL["facilities"] * scale)
    return synthetic_snapshot(
        parts,
        sides,
        n_fences=n_fences,
        n_facilities=n_facilities,
        areas=areas,
        fence_km=mean_fence_km,
        vertex_m=100.0,
        seed=seed,
    )


def fenceline_run(snapshot_path: str, queue: Any) -> None:
    with open(snapshot_path, "rb") as f:
        snap = pickle.load(f)
    start = time.perf_counter()
    engine = Engine(snap)
    metrics = compute_metrics(snap, AT, SINCE, engine=engine)
    timeline = compute_timeline(snap, *TIMELINE, "month", engine=engine)
    wall = time.perf_counter() - start
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put((wall, peak_mib, metrics, timeline))


def postgis_run(url: str, proj: str, dates: list[dt.date]) -> tuple[float, float, Any, Any]:
    from fenceline.metrics import postgis_reference as reference

    conn = reference.connect(url)
    try:
        backend = conn.info.backend_pid
        start = time.perf_counter()
        metrics = reference.compute(conn, proj, AT, SINCE)
        timeline = reference.timeline(conn, proj, dates, prepared=True)
        wall = time.perf_counter() - start
        peak_mib = float("nan")
        try:
            for line in Path(f"/proc/{backend}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak_mib = int(line.split()[1]) / 1024
        except OSError:
            pass
        return wall, peak_mib, metrics, timeline
    finally:
        conn.close()


def differences(got: Any, expected: Any, path: str = "") -> list[tuple[float, float, str]]:
    """(relative, absolute, path) of every figure the SQL computed; counts must be equal."""
    if isinstance(expected, dict):
        return [d for k, v in expected.items() for d in differences(got[k], v, f"{path}.{k}")]
    if isinstance(expected, list):
        return [
            d
            for i, (g, e) in enumerate(zip(got, expected, strict=True))
            for d in differences(g, e, f"{path}[{i}]")
        ]
    if isinstance(expected, bool) or not isinstance(expected, int | float) or got is None:
        return [(0.0 if got == expected else float("inf"), 0.0, path)]
    absolute = abs(got - expected)
    return [(absolute / max(abs(expected), 1e-3), absolute, path)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--postgis-repeat", type=int, default=None)
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the full scenario")
    parser.add_argument("--no-postgis", action="store_true")
    args = parser.parse_args()
    url = os.environ.get("FENCELINE_TEST_PG")

    print("SYNTHETIC data: fenceline.metrics.synthetic along the bundled Natural Earth border")
    t0 = time.perf_counter()
    snap = scenario(args.scale)
    from fenceline.geo import line_lengths_km

    fence_km = float(line_lengths_km(snap.fences.geometry.to_numpy()).sum())
    n_vertices = int(shapely.get_num_coordinates(snap.fences.geometry.to_numpy()).sum())
    print(
        f"scenario (scale {args.scale:g}): border {len(snap.border)} part(s), "
        f"{len(snap.areas)} areas, {len(snap.fences):,} fences ({fence_km:,.0f} km, "
        f"{n_vertices:,} vertices), {len(snap.facilities):,} facilities, "
        f"{len(snap.observations):,} observations; generated in {time.perf_counter() - t0:.1f} s"
    )
    print(
        f"work: metrics at {AT} since {SINCE} for every area and the total, "
        f"plus a monthly timeline {TIMELINE[0]}..{TIMELINE[1]}"
    )

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "snapshot.pickle")
        with open(path, "wb") as f:
            pickle.dump(snap, f)
        ctx = mp.get_context("fork")
        runs = []
        for _ in range(args.repeat):
            queue = ctx.Queue()
            proc = ctx.Process(target=fenceline_run, args=(path, queue))
            proc.start()
            runs.append(queue.get())
            proc.join()
    wall = statistics.median(r[0] for r in runs)
    peak = max(r[1] for r in runs)
    metrics, timeline = runs[0][2], runs[0][3]
    print(
        f"fenceline: {wall:.2f} s (median of {args.repeat}: "
        f"{', '.join(f'{r[0]:.2f}' for r in runs)}), peak RSS {peak:,.0f} MiB"
    )
    total = metrics["total"]
    print(
        f"  total: border {total['border_km']:.1f} km, fence {total['fence_km']['total']:,.1f} km, "
        f"fenced border {total['fenced_border_km']:.1f} km, new {total['new_fence_km']:,.1f} km, "
        f"facilities {total['facilities']['total']:,} (x{total['fold_increase']}), "
        f"{len(timeline['steps'])} timeline steps"
    )

    if args.no_postgis or not url:
        print('PostGIS: not run (set FENCELINE_TEST_PG: eval "$(bash scripts/start-postgis.sh)")')
        return
    from fenceline.metrics import postgis_reference as reference

    t0 = time.perf_counter()
    conn = reference.connect(url)
    reference.load(conn, snap)
    conn.close()
    print(f"PostGIS: data loaded in {time.perf_counter() - t0:.1f} s (not timed below)")
    proj = metrics["provenance"]["working_projection"]
    dates = step_dates(dt.date.fromisoformat(TIMELINE[0]), dt.date.fromisoformat(TIMELINE[1]))
    pg_runs = [postgis_run(url, proj, dates) for _ in range(args.postgis_repeat or args.repeat)]
    pg_wall = statistics.median(r[0] for r in pg_runs)
    pg_peak = max(r[1] for r in pg_runs)
    print(
        f"PostGIS SQL: {pg_wall:.2f} s (median of {len(pg_runs)}: "
        f"{', '.join(f'{r[0]:.2f}' for r in pg_runs)}), backend peak RSS {pg_peak:,.0f} MiB"
    )
    pg_metrics, pg_timeline = pg_runs[0][2], pg_runs[0][3]
    found = [d for a in metrics["areas"] for d in differences(a, pg_metrics[a["name"]], a["name"])]
    found += differences(total, pg_metrics["total"], "total")
    found += differences(timeline["steps"], pg_timeline, "timeline")
    worst = max(found)
    largest_km = max(d[1] for d in found)
    print(
        f"agreement over {len(found):,} figures: largest relative difference {worst[0]:.1e} "
        f"({worst[2]}, {worst[1]:.1e} absolute); largest absolute difference {largest_km:.1e} "
        "(km or count)"
    )
    print(f"ratio: fenceline is {pg_wall / wall:.1f}x faster than PostGIS (target >= 10x)")


if __name__ == "__main__":
    sys.exit(main())
