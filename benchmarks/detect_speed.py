"""Detection speed on SYNTHETIC scenes: detection against merely reading, memory, Dask.

Prints, for the same image pair in the same run:

- megapixels per second (pixels of one date) of merely reading both images tile by tile with
  the tiles' overlap (the same windows of the same files ``detect_changes`` reads), and of
  ``detect_changes`` (reading, co-registration, normalisation, detection, vectorisation and
  writing the queue), their ratio (target >= 0.5), each the median of several runs: once with
  one process for both, once with the default local pool (``default_workers()`` processes)
  for both, the pool started beforehand (its start-up time is printed on its own), with no
  read-ahead (one thread reads and detects, as "read only" reads); with one process,
  detection is also timed with ``read_ahead=True`` (each next tile read in a second thread
  while the current one is detected; ``detect_changes`` does so by default in runs of 8
  tiles or more), that ratio printed too; each ratio with its 95 % bootstrap interval over
  the runs (each detection paired with the reading timed just before it);
- where the time of one process goes, by stage: plan, read, change map, vectorisation and
  writing the candidates to the review queue (``write_candidates``, as ``detect_changes``
  writes them);
- the same for a sparse SYNTHETIC scene (a few posts, one fence, one strip), in addition to
  the dense default one (about 100 new posts per km², a fence and a strip across the scene);
- peak resident memory of a detection run in a fresh process (on a project whose images this
  process registered, as ``images add`` runs apart from ``detect``), for a scene and ones
  with 4 and 16 times the pixels (target: flat);
- wall time with a Dask LocalCluster of 2 worker processes against 1 (each cluster's first
  run, in which its workers import the imagery stack and load the kernels, untimed);
- for each two consecutive ``--sizes``, the ratio of what the larger scene adds (its extra
  reading over its extra detection, in one process): the per-scene plan and set-up cancel
  out, so this is the ratio scenes approach as they grow;
- the verdict "at scale" (the corridor is ~11,000 MP per date: docs/imagery.md §6, "How the
  speed target is judged"): that ratio for the two largest sizes, from ``--rounds``
  interleaved rounds (each reads and detects the smaller scene, then the larger), with its
  95 % bootstrap interval: the target is met when the whole interval is at or above 0.5,
  MISSED when it is all below, and not shown when it holds 0.5; given only when the largest
  size is 8192 px or more;
- the one-off cost of the numba kernels (compiling them with an empty cache; loading them
  from the cache in each process), excluded from the rates: they are warmed up first;
- for reference, the rate of reading every block of both files once (no tiles, no overlap),
  the least decoding the pair needs: the tiles' windows (1088 px with their overlap, on the
  COGs' 512 px blocks) share blocks with their neighbours, which GDAL's block cache (sized to
  a strip row of tile windows, the tiles visited in strips 4 wide) spares within a strip but
  not where two strips meet.

Every timed run starts from closed datasets (an empty block cache), as a run of
``fenceline detect`` does: "read only" closes the datasets its plan opened before timing.

The dense and sparse comparisons run for each ``--sizes`` (default 2048, 4096 and 8192 px a
side: the per-scene plan and queue weigh less on the larger ones, as on real scenes, which
are far larger still); memory uses the first size (and 2 and 4 times its side), Dask the
largest size up to 4096 px (16 tiles: 4 tiles finish in about the time the scheduler takes
to hand them out).

``--pair BEFORE AFTER`` times a pair made elsewhere instead (real imagery, or a larger
SYNTHETIC scene than the generator can make here in memory: a 16384 px pair takes ~23 GB
to generate): the same comparison and stages, labelled SYNTHETIC when both files carry the
generator's tag; no memory or Dask runs.

    PYTHONPATH=src python benchmarks/detect_speed.py [--sizes 2048 4096 8192] [--repeat 3]
        [--rounds 9] [--no-memory] [--no-dask] [--pair BEFORE AFTER]
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import math
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import fenceline
from fenceline.errors import InputError
from fenceline.imagery.catalog import add_image, inspect_image
from fenceline.imagery.cog import rasterio_env
from fenceline.imagery.pipeline import (
    FLUSH_TILES,
    RUN_TILES,
    TileJob,
    detect_changes,
    plan,
    read_tile,
    release_datasets,
    run_tile,
    write_candidates,
)
from fenceline.imagery.scheduler import default_workers, map_runs, map_unordered, shutdown_pool
from fenceline.imagery.synthetic import make_pair

try:
    from fenceline.imagery import kernels
except ImportError:  # numba not installed: the numpy paths run
    kernels = None  # type: ignore[assignment]


def fresh_project(tmp: Path, pair, name: str) -> fenceline.Project:
    path = tmp / f"{name}.gpkg"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    project = fenceline.create(path)
    add_image(project.store, pair.before, acquired=pair.before_date, image_id="before")
    add_image(project.store, pair.after, acquired=pair.after_date, image_id="after")
    return project


def warm_worker(_: int) -> float:
    """Load the compiled kernels in a pool worker before anything is timed."""
    return kernels.warm_up() if kernels is not None else 0.0


def compile_report(tmp: Path) -> str:
    """The one-off cost of the numba kernels: compiling them in a fresh process with an empty
    cache, then loading them from the cache in this process (both excluded from the rates)."""
    if kernels is None or not kernels.enabled():
        return "numba kernels: not used (numpy paths)"
    code = "from fenceline.imagery import kernels; print(kernels.warm_up())"
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp / "numba-cache"))
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    cold = float(out.stdout.split()[-1])
    cached = kernels.warm_up()
    return (
        f"numba kernels: compile {cold:.2f} s (empty cache, once per installation), "
        f"load from cache {cached:.2f} s (once per process); excluded from the rates below"
    )


def read_jobs(jobs: list[TileJob]) -> list[int]:
    """Read tiles' windows of both images, one after another in one thread, as ``run_tile``
    reads them (in this process, or a worker's run)."""
    return [read_tile(job)[0].size for job in jobs]


def read_blocks_once(pair) -> float:
    """Seconds to read every block of both files once, block by block (the least decoding
    the pair needs), in this process."""
    import rasterio
    from rasterio.windows import Window

    start = time.perf_counter()
    with rasterio_env():
        for path in (pair.before, pair.after):
            with rasterio.open(path) as ds:
                block_h, block_w = ds.block_shapes[0]
                for row in range(0, ds.height, block_h):
                    for col in range(0, ds.width, block_w):
                        width, height = min(block_w, ds.width - col), min(block_h, ds.height - row)
                        ds.read(1, window=Window(col, row, width, height))
    return time.perf_counter() - start


def read_only(project: fenceline.Project, workers: int = 1) -> float:
    """Seconds to read every tile window (with overlap) of both images, in this process
    (``workers=1``) or spread over the local pool as ``detect_changes`` spreads tiles (runs
    of consecutive tiles)."""
    p = plan(project.store, "before", "after")
    release_datasets()  # from cold, as detection's tiles: not the blocks the plan decoded
    start = time.perf_counter()
    for _ in map_runs(read_jobs, p.jobs, workers=workers, longest=RUN_TILES):
        pass
    return time.perf_counter() - start


def detect_once(
    tmp: Path, pair, name: str, workers: int, read_ahead: bool | None = False
) -> tuple[float, dict]:
    project = fresh_project(tmp, pair, name)
    start = time.perf_counter()
    summary = detect_changes(
        project.store, "before", "after", workers=workers, read_ahead=read_ahead
    )
    seconds = time.perf_counter() - start
    project.close()
    return seconds, summary


def stages(tmp: Path, pair, name: str) -> dict[str, float]:
    """Seconds per stage in this process, in a fresh project: plan (checks, co-registration,
    gain), then per tile (``run_tile``'s own timings) read, change map, vectorisation, then
    writing the tiles' candidates to the review queue as ``detect_changes`` writes them
    (``write_candidates``, every ``FLUSH_TILES`` tiles)."""
    from pyproj import Transformer

    project = fresh_project(tmp, pair, name)
    start = time.perf_counter()
    p = plan(project.store, "before", "after")
    out = {"plan": time.perf_counter() - start}
    results = [run_tile(job, out) for job in p.jobs]
    to_4326 = Transformer.from_crs(p.crs, "EPSG:4326", always_xy=True)  # once a run, as there
    start = time.perf_counter()
    for first in range(0, len(results), FLUSH_TILES):
        write_candidates(project.store, p, results[first : first + FLUSH_TILES], to_4326=to_4326)
    out["queue"] = time.perf_counter() - start
    project.close()
    return out


#: the ratio the issue asks for (detection / reading, both in megapixels per second)
TARGET = 0.5

#: the share of bootstrap draws left out at each end of an interval: a 95 % interval
TAIL = 0.025


def bootstrap_interval(
    statistic: Callable[[list[tuple[float, ...]]], float],
    rounds: list[tuple[float, ...]],
    draws: int = 2000,
    seed: int = 0,
) -> tuple[float, float]:
    """The 95 % percentile-bootstrap interval of ``statistic`` of ``rounds``: the statistic of
    ``draws`` resamples of the rounds (as many, drawn with replacement, each round kept whole:
    its timings were measured together, so a slow spell of the machine stays within it), and
    the :data:`TAIL` quantiles at each end. Seeded: the same timings give the same interval.

    >>> bootstrap_interval(lambda r: statistics.median(x for x, in r), [(1.0,), (2.0,), (3.0,)])
    (1.0, 3.0)
    """
    rng = random.Random(seed)
    values = sorted(
        statistic([rounds[rng.randrange(len(rounds))] for _ in rounds]) for _ in range(draws)
    )
    return values[int(TAIL * draws)], values[draws - 1 - int(TAIL * draws)]


def ratio_of_medians(rounds: list[tuple[float, ...]]) -> float:
    """Detection's rate over reading's: the median reading seconds over the median detection
    seconds of rounds ``(read, detect)``."""
    return statistics.median(r[0] for r in rounds) / statistics.median(r[1] for r in rounds)


def added_ratio(rounds: list[tuple[float, ...]]) -> float:
    """The ratio of what the larger of two scenes adds, from rounds ``(read small, detect
    small, read large, detect large)``: its extra reading over its extra detection (median
    seconds); the per-scene plan and set-up cancel out. Infinite when the larger scene's
    detection took no longer.

    >>> added_ratio([(1.0, 2.0, 5.0, 10.0), (1.2, 2.1, 5.0, 10.1), (0.9, 2.0, 5.1, 9.9)])
    0.5
    """
    read_s, detect_s, read_l, detect_l = (statistics.median(r[k] for r in rounds) for k in range(4))
    extra = detect_l - detect_s
    return (read_l - read_s) / extra if extra > 0 else math.inf


def verdict(low: float, high: float, target: float = TARGET) -> str:
    """The target's verdict from a ratio's interval: met when all of it is at or above the
    target, MISSED when all of it is below, else not shown (the runs cannot tell).

    >>> verdict(0.51, 0.56), verdict(0.42, 0.49), verdict(0.48, 0.53)
    ('met', 'MISSED', 'not shown: the interval holds 0.5')
    """
    if low >= target:
        return "met"
    if high < target:
        return "MISSED"
    return f"not shown: the interval holds {target:g}"


def judged(statistic: Callable[[list[tuple[float, ...]]], float], rounds: list) -> str:
    """A ratio, its interval and the target's verdict, as the benchmark prints them."""
    low, high = bootstrap_interval(statistic, rounds)
    return (
        f"{statistic(rounds):.2f} (95 % interval {low:.2f}-{high:.2f}, {len(rounds)} rounds; "
        f"target >= {TARGET:g}: {verdict(low, high)})"
    )


def compare(
    tmp: Path, pair, label: str, mp: float, repeat: int, workers: int
) -> tuple[float, float]:
    """Read and detection rates, their ratio, and where one process's time goes; returns the
    median seconds of reading and of detection in one process."""
    project = fresh_project(tmp, pair, f"read-{label}")
    read_only(project)  # warm the page cache (and the datasets) for both measurements
    for n in sorted({1, workers}):
        read_only(project, n)  # the same for the pool's workers (their datasets, GDAL cache)
        reads, detects, ahead = [], [], []
        for i in range(repeat):
            reads.append(read_only(project, n))
            seconds, summary = detect_once(tmp, pair, f"detect-{label}-{n}-{i}", n)
            detects.append(seconds)
            if n == 1:
                seconds, _ = detect_once(tmp, pair, f"ahead-{label}-{i}", 1, read_ahead=True)
                ahead.append(seconds)
        read_rate = mp / statistics.median(reads)
        detect_rate = mp / statistics.median(detects)
        if n == 1:
            one_process = statistics.median(reads), statistics.median(detects)
        what = "1 process" if n == 1 else f"{n} processes, local pool"
        print(f"  {what}:")
        print(f"    read only (both images): {read_rate:8.1f} MP/s  (median of {repeat})")
        print(
            f"    detection:               {detect_rate:8.1f} MP/s  (median of {repeat}; "
            f"{summary['candidates_added']} candidates, {summary['tiles']} tiles)"
        )
        # each run of detection paired with the reading timed just before it
        paired = list(zip(reads, detects, strict=True))
        print(f"    ratio detection / read:  {judged(ratio_of_medians, paired)}")
        if ahead:
            rate = mp / statistics.median(ahead)
            low, high = bootstrap_interval(ratio_of_medians, list(zip(reads, ahead, strict=True)))
            print(
                f"    detection, read-ahead:   {rate:8.1f} MP/s  (next tile read in a second "
                f"thread, read_ahead=True; ratio {rate / read_rate:.2f}, 95 % interval "
                f"{low:.2f}-{high:.2f}; two threads against one reading: not the target's "
                "comparison)"
            )
    once = statistics.median(read_blocks_once(pair) for _ in range(repeat))
    print(
        f"  for reference, each block of both files read once, 1 process: {mp / once:8.1f} MP/s "
        '(the least decoding; "read only" decodes shared blocks again where strips meet)'
    )
    runs = [stages(tmp, pair, f"stages-{label}-{i}") for i in range(repeat)]
    total = statistics.median(sum(r.values()) for r in runs)
    print("  where the time of 1 process goes (median seconds for the scene):")
    for name in ("plan", "read", "change map", "vectorisation", "queue"):
        seconds = statistics.median(r[name] for r in runs)
        print(
            f"    {name:14} {seconds:6.3f} s  {100 * seconds / total:4.0f} %  {mp / seconds:7.1f} MP/s"
        )
    print("    (the rest of a run is its set-up and the scheduling of tiles)")
    project.close()
    return one_process


def marginal(seconds: dict[int, tuple[float, float]], what: str) -> None:
    """The ratio of what each larger scene adds: its extra reading over its extra detection
    (one process), the per-scene plan and set-up cancelled out; the ratio larger scenes
    approach."""
    sizes = sorted(seconds)
    for small, large in itertools.pairwise(sizes):
        ratio = added_ratio([(*seconds[small], *seconds[large])])  # one round: the medians
        if math.isfinite(ratio):
            extra_read = seconds[large][0] - seconds[small][0]
            extra_detect = seconds[large][1] - seconds[small][1]
            print(
                f"  {what}, {small} to {large} px: ratio of the extra "
                f"{(large**2 - small**2) / 1e6:.0f} MP {ratio:.2f} "
                f"({extra_read:.3f} s more reading, {extra_detect:.3f} s more detection)"
            )


#: the "at scale" verdict needs a largest scene of at least this side (64 tiles)
AT_SCALE_MIN_PX = 8192


def scale_rounds(
    tmp: Path, pairs: dict[int, Any], label: str, rounds: int
) -> list[tuple[float, ...]]:
    """Interleaved rounds on the two scenes of ``pairs`` (side in px: pair), in one process:
    each round reads and detects the smaller scene, then the larger, so a slow spell of the
    machine falls on all four timings of a round and not on one scene's. Returns each
    round's ``(read small, detect small, read large, detect large)`` in seconds."""
    small, large = sorted(pairs)
    projects = {size: fresh_project(tmp, pairs[size], f"scale-{label}-{size}") for size in pairs}
    for size in (small, large):  # warm the page cache and the datasets
        read_only(projects[size])
    out: list[tuple[float, ...]] = []
    for i in range(rounds):
        timings: list[float] = []
        for size in (small, large):
            timings.append(read_only(projects[size]))
            timings.append(detect_once(tmp, pairs[size], f"scale-{label}-{size}-{i}", 1)[0])
        out.append(tuple(timings))
    for project in projects.values():
        project.close()
    return out


def at_scale(tmp: Path, pairs: dict[int, Any], what: str, rounds: int) -> None:
    """The verdict at the corridor's scale (~11,000 MP per date, thousands of tiles): the
    ratio of what the largest scene adds over the next largest, in one process, from
    interleaved rounds, with its 95 % bootstrap interval (:func:`judged`). A scene's plan
    (~25-50 ms) is ~0.1 % of such a run; what a larger scene adds is what each further tile
    costs, its candidates' queue included (docs/imagery.md §6, "How the speed target is
    judged")."""
    small, large = sorted(pairs)[-2:]
    if large < AT_SCALE_MIN_PX:
        print(
            f"  at scale, {what}: no verdict (the largest size must be {AT_SCALE_MIN_PX} px or "
            "more: from 2048 to 4096 px it differed by up to 0.15 between two runs)"
        )
        return
    measured = scale_rounds(tmp, {small: pairs[small], large: pairs[large]}, what, rounds)
    if not math.isfinite(added_ratio(measured)):
        print(f"  at scale, {what}: no verdict (the larger scene's detection took no longer)")
        return
    print(
        f"  at scale, {what} ({small} to {large} px, 1 process, interleaved): "
        f"ratio {judged(added_ratio, measured)}"
    )


def given_pair(before: str, after: str) -> tuple[SimpleNamespace, str, int]:
    """An image pair to time, made elsewhere (a larger SYNTHETIC scene, or real imagery),
    checked as ``images add`` checks it (``catalog.inspect_image``: an InputError for a file
    that is not usable); only speed is measured, so the acquisition dates are placeholders
    in the right order. Returns the pair, its heading (SYNTHETIC when both files carry the
    generator's tag) and its pixels per date."""
    infos = [inspect_image(path) for path in (before, after)]
    pair = SimpleNamespace(
        before=Path(before),
        after=Path(after),
        before_date=dt.date(2000, 1, 1),
        after_date=dt.date(2000, 1, 2),
    )
    what = "SYNTHETIC" if all(info["synthetic"] for info in infos) else "given (not SYNTHETIC)"
    width, height = infos[0]["width"], infos[0]["height"]
    label = f"{what} pair {pair.before.name}, {pair.after.name}: {width}x{height} px"
    return pair, label, width * height


def peak_rss_mb() -> float:
    """Peak resident memory of this process (VmHWM; unlike ru_maxrss, not inherited over exec)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(size: int, tmp: str) -> None:
    """Run one detection in this fresh process, on the project the parent made (its images
    registered there, as ``fenceline images add`` runs apart from ``fenceline detect``)."""
    project = fenceline.open(Path(tmp) / f"mem{size}.gpkg")
    if kernels is not None:
        kernels.warm_up()  # numba and the compiled kernels: a fixed cost, in the baseline
    baseline = peak_rss_mb()
    detect_changes(project.store, "before", "after", workers=1)
    print(json.dumps({"size": size, "baseline_mb": baseline, "peak_mb": peak_rss_mb()}))


def memory_in_fresh_process(size: int, tmp: str) -> dict:
    pair = make_pair(tmp, size=size, seed=7, nuisance="all", name=f"mem{size}")
    fresh_project(Path(tmp), pair, f"mem{size}").close()
    env = dict(os.environ)
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(size), "--tmp", tmp],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=[2048, 4096, 8192],
        help="sides of the SYNTHETIC scenes in px (default 2048 4096 8192)",
    )
    parser.add_argument(
        "--pair",
        nargs=2,
        metavar=("BEFORE", "AFTER"),
        help="time this pair of GeoTIFFs instead (reading against detection, one process and "
        "the pool, where the time goes); no memory or Dask runs",
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs of each timing per scene (default 3)"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=9,
        help="interleaved rounds of the two largest scenes for the verdict at scale (default 9)",
    )
    parser.add_argument("--child", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--tmp", default="", help=argparse.SUPPRESS)
    parser.add_argument("--no-dask", action="store_true")
    parser.add_argument("--no-memory", action="store_true")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat: at least 1 run")
    if args.rounds < 3:
        parser.error("--rounds: at least 3 (an interval from fewer rounds says nothing)")
    if args.child:
        child(args.child, args.tmp)
        return
    if args.pair:
        try:
            pair, label, pixels = given_pair(*args.pair)
        except InputError as exc:
            parser.error(f"--pair: {exc}")

    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        workers = default_workers()
        scenes = "the pair below" if args.pair else "SYNTHETIC scenes at 0.5 m"
        print(
            f"{scenes}, tiles 1024 px, {os.cpu_count()} CPUs, "
            f"default local pool {workers} processes"
        )
        print(compile_report(tmp))
        start = time.perf_counter()
        for _ in map_unordered(warm_worker, range(2 * workers), workers=workers):
            pass
        if workers > 1:
            print(
                f"local pool start-up: {time.perf_counter() - start:.2f} s (once per process, "
                "kernels loaded from the cache included; excluded from the pool figures below)"
            )
        if args.pair:
            print(f"\n{label} ({pixels / 1e6:.1f} MP per date)")
            compare(tmp, pair, "pair", pixels / 1e6, args.repeat, workers)
            shutdown_pool(wait=True)
            return
        dense_seconds: dict[int, tuple[float, float]] = {}
        sparse_seconds: dict[int, tuple[float, float]] = {}
        dense_pairs: dict[int, Any] = {}
        sparse_pairs: dict[int, Any] = {}
        for size in args.sizes:
            mp = size * size / 1e6
            pair = make_pair(tmp, size=size, seed=11, nuisance="all", name=f"speed{size}")
            print(
                f"\nSYNTHETIC {size}x{size} px ({mp:.1f} MP per date), dense change (about 100 "
                "new posts per km², a fence and a strip across the scene, every nuisance)"
            )
            dense_seconds[size] = compare(tmp, pair, f"dense{size}", mp, args.repeat, workers)
            dense_pairs[size] = pair
            sparse = make_pair(
                tmp, size=size, seed=11, nuisance="all", name=f"sparse{size}", n_posts=4
            )
            print(
                f"\nSYNTHETIC {size}x{size} px, sparse change (4 new posts, a fence and a strip, "
                "every nuisance)"
            )
            sparse_seconds[size] = compare(tmp, sparse, f"sparse{size}", mp, args.repeat, workers)
            sparse_pairs[size] = sparse
        if len(args.sizes) > 1:
            print(
                "\nwhat a larger scene adds, 1 process (the plan and set-up cancelled out: the "
                "ratio scenes approach as they grow; the corridor is ~11,000 MP per date)"
            )
            marginal(dense_seconds, "dense")
            marginal(sparse_seconds, "sparse")
            at_scale(tmp, dense_pairs, "dense", args.rounds)
            at_scale(tmp, sparse_pairs, "sparse", args.rounds)
        shutdown_pool(wait=True)
        size = args.sizes[0]

        if not args.no_memory:
            print("\npeak memory of one detection run (fresh process, 1 worker)")
            small = memory_in_fresh_process(size, tmp_dir)
            larger = [memory_in_fresh_process(size * k, tmp_dir) for k in (2, 4)]
            for m in (small, *larger):
                print(
                    f"  {m['size']}x{m['size']} ({m['size'] ** 2 / 1e6:.0f} MP): "
                    f"peak {m['peak_mb']:.0f} MB ({m['baseline_mb']:.0f} MB before detection: "
                    f"imports, kernels; detection added {m['peak_mb'] - m['baseline_mb']:.0f} MB)"
                )
            for times_px, m in zip((4, 16), larger, strict=True):
                print(
                    f"  {times_px}x the pixels: peak x{m['peak_mb'] / small['peak_mb']:.2f} "
                    f"({m['peak_mb'] - small['peak_mb']:+.0f} MB; target: flat)"
                )
            print(
                "  (read-ahead, on by default from 8 tiles, runs on the larger scenes only: one "
                "tile ahead and a second thread's malloc arena)"
            )

        if not args.no_dask:
            from distributed import LocalCluster

            # at least 16 tiles where the sizes allow: 4 tiles (two runs of 2) finish in
            # about the time the scheduler takes to hand them out
            size = max([s for s in args.sizes if s <= 4096] or [min(args.sizes)])
            mp = size * size / 1e6
            pair = make_pair(tmp, size=size, seed=11, nuisance="all", name=f"speed{size}")
            tiles = math.ceil(size / 1024) ** 2
            print(
                f"\nDask LocalCluster on the {size}x{size} scene ({tiles} tiles, 1 thread per "
                "worker)"
            )
            times = {}
            for n in (1, 2):
                with LocalCluster(
                    n_workers=n,
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address=":0",  # any free port: 8787 may be taken
                    silence_logs=40,
                ) as cluster:
                    runs = []
                    # one untimed run first: each worker's first tiles import the imagery
                    # stack and load the kernels (~1 s), as the pool's start-up above
                    for i in range(args.repeat + 1):
                        run_project = fresh_project(tmp, pair, f"dask{n}-{i}")
                        start = time.perf_counter()
                        detect_changes(
                            run_project.store,
                            "before",
                            "after",
                            scheduler=cluster.scheduler_address,
                        )
                        runs.append(time.perf_counter() - start)
                        run_project.close()
                times[n] = statistics.median(runs[1:])
                print(
                    f"  {n} worker(s): {times[n]:.2f} s, {mp / times[n]:.1f} MP/s (median of "
                    f"{args.repeat}; the first run, untimed, took {runs[0]:.2f} s)"
                )
            print(f"  speed-up 2 workers / 1: {times[1] / times[2]:.2f}x")


if __name__ == "__main__":
    main()
