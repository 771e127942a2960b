"""Fixed costs of detection on SYNTHETIC scenes: the whole command, the pool, the read-ahead.

Prints, for each ``--sizes``:

- wall time of the whole ``fenceline detect`` command (a fresh process: imports, the kernels
  loaded from their cache, plan, tiles, queue), with the default workers (in-process below
  ``pipeline.POOL_MIN_TILES`` tiles), with ``--workers N`` (a local pool of every CPU,
  started by the command) and with ``--workers 1``, runs interleaved;
- ``detect_changes`` with and without read-ahead (``read_ahead=False``: the tile is read just
  before it is detected, in the same thread), runs interleaved, in this process and with a
  local pool of every CPU (started beforehand);
- what a detection run adds to peak memory in a fresh process, with and without read-ahead.

Each figure is the minimum and the median of ``--repeat`` runs (the machines are shared).

    PYTHONPATH=src python benchmarks/detect_overheads.py [--sizes 2048 4096] [--repeat 5]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from detect_speed import detect_once, fresh_project, peak_rss_mb

from fenceline.imagery.pipeline import POOL_MIN_TILES, detect_changes
from fenceline.imagery.scheduler import shutdown_pool
from fenceline.imagery.synthetic import SyntheticPair, make_pair

try:
    from fenceline.imagery import kernels
except ImportError:  # numba not installed: the numpy paths run
    kernels = None  # type: ignore[assignment]


def spread(seconds: list[float]) -> str:
    return f"min {min(seconds):6.2f} s, median {statistics.median(seconds):6.2f} s"


def command(tmp: Path, pair: SyntheticPair, workers: list[str]) -> float:
    """Seconds of one whole ``fenceline detect`` command on a fresh project."""
    fresh_project(tmp, pair, "cli").close()
    path = tmp / "cli.gpkg"
    env = {k: v for k, v in os.environ.items() if k != "FENCELINE_WORKERS"}
    start = time.perf_counter()
    argv = ["detect", str(path), "--before", "before", "--after", "after", *workers]
    subprocess.run(
        [sys.executable, "-m", "fenceline", *argv],
        check=True,
        capture_output=True,
        env=env,
    )
    return time.perf_counter() - start


def child(base: str, read_ahead: bool) -> None:
    """One detection in this fresh process; prints what it added to peak memory."""
    pair = SyntheticPair(
        before=Path(f"{base}_before.tif"),
        after=Path(f"{base}_after.tif"),
        truth_path=Path(f"{base}_truth.geojson"),
        truth=None,  # type: ignore[arg-type]
        before_date=dt.date(2019, 6, 14),
        after_date=dt.date(2021, 9, 27),
        nuisance="all",
    )
    project = fresh_project(Path(base).parent, pair, f"mem-{int(read_ahead)}")
    if kernels is not None:
        kernels.warm_up()
    baseline = peak_rss_mb()
    detect_changes(project.store, "before", "after", workers=1, read_ahead=read_ahead)
    print(json.dumps({"added_mb": peak_rss_mb() - baseline}))


def memory(base: str, read_ahead: bool) -> float:
    out = subprocess.run(
        [sys.executable, __file__, "--child", base, "--read-ahead", str(int(read_ahead))],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])["added_mb"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2048, 4096])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--child", default="", help=argparse.SUPPRESS)
    parser.add_argument("--read-ahead", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, bool(args.read_ahead))
        return
    if kernels is not None:
        kernels.warm_up()  # compiled once here, so no timed process compiles them
    cpus = os.cpu_count() or 1
    print(
        f"SYNTHETIC scenes at 0.5 m, tiles 1024 px, {cpus} CPUs; in-process below "
        f"{POOL_MIN_TILES} tiles by default"
    )
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        for size in args.sizes:
            pair = make_pair(tmp, size=size, seed=11, nuisance="all", name=f"over{size}")
            tiles = detect_once(tmp, pair, "count", 1)[1]["tiles"]
            print(f"\nSYNTHETIC {size}x{size} px ({tiles} tiles), every nuisance")
            ways = {
                "default workers": [],
                f"--workers {cpus} (a pool)": ["--workers", str(cpus)],
                "--workers 1": ["--workers", "1"],
            }
            times: dict[str, list[float]] = {name: [] for name in ways}
            for _ in range(args.repeat):
                for name, extra in ways.items():
                    times[name].append(command(tmp, pair, extra))
            print("  the whole `fenceline detect` command:")
            for name, seconds in times.items():
                print(f"    {name:24} {spread(seconds)}")
            ahead, alone = [], []
            for i in range(args.repeat):
                ahead.append(detect_once(tmp, pair, f"ahead-{i}", 1, read_ahead=True)[0])
                alone.append(detect_once(tmp, pair, f"alone-{i}", 1, read_ahead=False)[0])
            print("  detect_changes in this process (1 worker):")
            print(f"    read-ahead               {spread(ahead)}")
            print(f"    no read-ahead            {spread(alone)}")
            print(
                f"    read-ahead / none, medians: {statistics.median(ahead) / statistics.median(alone):.2f}"
            )
            if cpus > 1:
                detect_once(tmp, pair, "warm", cpus)  # start the pool, load its kernels
                pool_ahead, pool_alone = [], []
                for i in range(args.repeat):
                    pool_ahead.append(detect_once(tmp, pair, f"pa-{i}", cpus, read_ahead=True)[0])
                    pool_alone.append(detect_once(tmp, pair, f"pn-{i}", cpus, read_ahead=False)[0])
                print(f"  detect_changes with a local pool of {cpus} (started beforehand):")
                print(f"    read-ahead               {spread(pool_ahead)}")
                print(f"    no read-ahead            {spread(pool_alone)}")
                shutdown_pool(wait=True)
            base = str(tmp / f"over{size}")
            with_ra = [memory(base, True) for _ in range(2)]
            without = [memory(base, False) for _ in range(2)]
            print(
                "  peak memory added by detection (fresh process, 2 runs each): read-ahead "
                f"{' / '.join(f'{m:.0f}' for m in with_ra)} MB, none "
                f"{' / '.join(f'{m:.0f}' for m in without)} MB"
            )


if __name__ == "__main__":
    main()
