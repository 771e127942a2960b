"""Import at scale: 100,000 facilities and 10,000 fence lines (about 1 M vertices).

Prints wall time and peak memory of `fenceline import` for each file, the median of
``--repeat`` runs, each into a fresh project. Target (issue 2): under a minute in all.

    python benchmarks/import_scale.py [--repeat 3] [--facilities 100000] [--fences 10000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import shapely


def make_inputs(
    directory: Path, n_facilities: int, n_fences: int, vertices: int
) -> tuple[Path, Path]:
    rng = np.random.default_rng(42)
    lon = rng.uniform(124.5, 130.5, n_facilities)
    lat = rng.uniform(40.0, 42.9, n_facilities)
    kinds = rng.choice(["guard_post", "watchtower", "garrison", "checkpoint"], n_facilities)
    facilities = gpd.GeoDataFrame(
        {
            "id": [f"p{i}" for i in range(n_facilities)],
            "kind": kinds,
            "first_seen": "2022-04-11",
            "last_absent": "2019-05-02",
        },
        geometry=shapely.points(lon, lat),
        crs="EPSG:4326",
    )
    start_lon = rng.uniform(124.5, 130.4, n_fences)
    start_lat = rng.uniform(40.0, 42.8, n_fences)
    steps = rng.normal(0, 1e-4, (n_fences, vertices, 2)).cumsum(axis=1)
    steps[:, :, 0] += np.linspace(0, 0.05, vertices)
    coords = steps + np.stack([start_lon, start_lat], axis=1)[:, None, :]
    lines = shapely.linestrings(coords)
    fences = gpd.GeoDataFrame(
        {
            "id": [f"f{i}" for i in range(n_fences)],
            "layer": rng.choice(["primary", "secondary", "tertiary"], n_fences),
            "first_seen": "2022-04-11",
        },
        geometry=lines,
        crs="EPSG:4326",
    )
    facilities_path = directory / "facilities.geojson"
    fences_path = directory / "fences.geojson"
    pyogrio.write_dataframe(facilities, facilities_path, driver="GeoJSON")
    pyogrio.write_dataframe(fences, fences_path, driver="GeoJSON")
    return facilities_path, fences_path


def timed(args: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one child process."""
    start = time.perf_counter()
    child = subprocess.Popen(args, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"command failed: {' '.join(args)}")
    return wall, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--facilities", type=int, default=100_000)
    parser.add_argument("--fences", type=int, default=10_000)
    parser.add_argument("--vertices", type=int, default=100)
    args = parser.parse_args()
    fenceline = [sys.executable, "-m", "fenceline"]
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        facilities, fences = make_inputs(directory, args.facilities, args.fences, args.vertices)
        print(
            f"inputs: {args.facilities:,} facilities ({facilities.stat().st_size / 2**20:.0f} MiB GeoJSON), "
            f"{args.fences:,} fences x {args.vertices} vertices = {args.fences * args.vertices:,} vertices "
            f"({fences.stat().st_size / 2**20:.0f} MiB GeoJSON)"
        )
        rows: dict[str, list[tuple[float, float]]] = {"facilities": [], "fences": [], "total": []}
        for run in range(args.repeat):
            project = directory / f"p{run}.gpkg"
            subprocess.run(
                [*fenceline, "init", str(project)], check=True, stdout=subprocess.DEVNULL
            )
            a = timed([*fenceline, "import", str(project), str(facilities), "--as", "facilities"])
            b = timed([*fenceline, "import", str(project), str(fences), "--as", "fences"])
            rows["facilities"].append(a)
            rows["fences"].append(b)
            rows["total"].append((a[0] + b[0], max(a[1], b[1])))
        print(
            f"{'import':<12}{'median s':>10}{'min s':>9}{'max s':>9}{'peak MiB':>10}   (runs: {args.repeat})"
        )
        for name, values in rows.items():
            walls = [v[0] for v in values]
            print(
                f"{name:<12}{statistics.median(walls):>10.2f}{min(walls):>9.2f}{max(walls):>9.2f}"
                f"{max(v[1] for v in values):>10.0f}"
            )
        total = statistics.median(v[0] for v in rows["total"])
        print(
            f"target: < 60 s in all; measured median {total:.1f} s = {total / 60:.2f} of the target"
        )


if __name__ == "__main__":
    main()
