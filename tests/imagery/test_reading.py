"""Tile reads: GDAL's block cache is really used and bounded by the tile, datasets last a run."""

from __future__ import annotations

import ctypes
import ctypes.util
from pathlib import Path

import numpy as np
import pytest

import fenceline
from fenceline.imagery import pipeline
from fenceline.imagery.cog import CACHE_BYTES, rasterio_env
from fenceline.imagery.tiles import STRIP_TILES, strip_order, tile_grid


def _gdal() -> ctypes.CDLL:
    """The GDAL library rasterio has loaded (its wheel bundles one; else the system's)."""
    import rasterio

    here = Path(rasterio.__file__).resolve().parent
    found = sorted((here.parent / "rasterio.libs").glob("libgdal*.so*"))
    name = str(found[0]) if found else ctypes.util.find_library("gdal")
    if name is None:  # pragma: no cover - depends on how rasterio was installed
        pytest.fail("cannot find the GDAL library rasterio uses")
    lib = ctypes.CDLL(name)
    lib.GDALGetCacheUsed64.restype = ctypes.c_int64
    lib.GDALGetCacheMax64.restype = ctypes.c_int64
    return lib


def test_env_cache_is_megabytes_not_bytes() -> None:
    # rasterio passes an integer GDAL_CACHEMAX to GDALSetCacheMax64, in bytes: 64 meant a
    # 64-byte cache, so no block was ever reused
    gdal = _gdal()
    with rasterio_env():
        assert gdal.GDALGetCacheMax64() == CACHE_BYTES >= 16 * 2**20


def test_a_tile_reuses_the_blocks_its_neighbour_decoded(project: fenceline.Project) -> None:
    gdal = _gdal()
    p = pipeline.plan(project.store, "before", "after", tile_size=256, overlap=32)
    first, second = p.jobs[0], p.jobs[1]
    assert first.tile.row == second.tile.row  # neighbours along a row
    bytes_ = first.block_cache
    ds = pipeline._dataset(first.before_path)
    block_h, block_w = ds.block_shapes[0]
    # a strip row of windows of both images, whatever their offsets in the blocks
    window, strip = 256 + 2 * 32, STRIP_TILES * 256 + 2 * 32
    blocks = (min(strip, ds.width) // block_w + 2) * (min(window, ds.height) // block_h + 2)
    assert bytes_ >= 2 * blocks * block_h * block_w
    with rasterio_env(bytes_):
        assert gdal.GDALGetCacheMax64() == bytes_
    with_blocks = gdal.GDALGetCacheUsed64()
    pipeline.release_datasets()
    base = gdal.GDALGetCacheUsed64()  # blocks of datasets other tests left open, if any
    assert base <= with_blocks
    pipeline.read_tile(first)
    used = gdal.GDALGetCacheUsed64()
    assert used - base >= 2 * block_h * block_w  # both windows' blocks stayed cached
    again = pipeline.read_tile(first)
    assert gdal.GDALGetCacheUsed64() == used  # nothing decoded twice
    pipeline.read_tile(second)
    assert used < gdal.GDALGetCacheUsed64() <= bytes_
    pipeline.release_datasets()
    assert gdal.GDALGetCacheUsed64() == base  # closing the datasets dropped their blocks
    again_b, again_a = again[0], again[1]
    fresh = pipeline.read_tile(first)
    np.testing.assert_array_equal(fresh[0], again_b)
    np.testing.assert_array_equal(fresh[1], again_a)


def test_datasets_last_one_planned_run(project: fenceline.Project) -> None:
    p = pipeline.plan(project.store, "before", "after", tile_size=256)
    pipeline.run_tile(p.jobs[0])
    held = pipeline._dataset(p.jobs[0].before_path)
    assert not held.closed
    q = pipeline.plan(project.store, "before", "after", tile_size=256)
    assert q.jobs[0].session != p.jobs[0].session
    assert held.closed  # the new run closed the old run's datasets and their blocks
    pipeline.run_tile(q.jobs[0])
    assert not pipeline._dataset(q.jobs[0].before_path).closed


def test_read_ahead_gives_the_same_tiles(project: fenceline.Project) -> None:
    p = pipeline.plan(project.store, "before", "after", tile_size=256)
    ahead = list(pipeline.run_tiles(p.jobs, read_ahead=True))
    alone = list(pipeline.run_tiles(p.jobs, read_ahead=False))
    assert len(ahead) == len(p.jobs) > 4
    assert [(r.row, r.col, r.window) for r in ahead] == [(r.row, r.col, r.window) for r in alone]
    assert [r.candidates for r in ahead] == [r.candidates for r in alone]
    assert sum(len(r.candidates) for r in ahead) > 0


def test_a_pickled_tile_result_carries_its_geometries_as_wkb(project: fenceline.Project) -> None:
    import pickle

    import shapely

    p = pipeline.plan(project.store, "before", "after", tile_size=256)
    result = max(pipeline.run_tiles(p.jobs), key=lambda r: len(r.found))
    assert len(result.found) > 0
    assert all(isinstance(g, shapely.Geometry) for g in result.found.geometry)
    state = result.__getstate__()  # what a pool or Dask worker sends: WKB, not objects
    assert all(isinstance(g, bytes) for g in state["found"].geometry)
    back = pickle.loads(pickle.dumps(result))
    assert (back.row, back.col, back.window) == (result.row, result.col, result.window)
    assert back.candidates == result.candidates
    assert shapely.equals_identical(back.found.geometry, result.found.geometry).all()


def test_a_run_stopped_early_leaves_no_read_behind(
    project: fenceline.Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading
    import time

    p = pipeline.plan(project.store, "before", "after", tile_size=256)
    read, finished = pipeline.read_tile, []
    second_started = threading.Event()

    def slow_read(job):
        if job is p.jobs[1]:
            second_started.set()
            time.sleep(0.3)  # a read still running when the run stops
        data = read(job)
        finished.append(job.tile.window_text)
        return data

    monkeypatch.setattr(pipeline, "read_tile", slow_read)
    tiles = pipeline.run_tiles(p.jobs, read_ahead=True)
    next(tiles)
    # the second tile is being read ahead (a read not yet started would just be cancelled)
    assert second_started.wait(10)
    tiles.close()  # an interrupted run: the read ahead finishes before close returns
    assert finished == [p.jobs[0].tile.window_text, p.jobs[1].tile.window_text]
    pipeline.release_datasets()  # safe: no read in flight
    assert pipeline.run_tile(p.jobs[0]).window == p.jobs[0].tile.window_text


def test_a_forked_child_reads_ahead_with_its_own_thread(project: fenceline.Project) -> None:
    import multiprocessing

    p = pipeline.plan(project.store, "before", "after", tile_size=256)
    # this process's reading thread first, then the child's own
    expected = [r.candidates for r in pipeline.run_tiles(p.jobs, read_ahead=True)]
    with multiprocessing.get_context("fork").Pool(1) as pool:
        got = pool.apply_async(_candidates_in_child, (p.jobs,)).get(timeout=120)
    assert got == expected


def _candidates_in_child(jobs: list) -> list:
    return [r.candidates for r in pipeline.run_tiles(jobs, read_ahead=True)]


def _decodes(tiles: list, capacity: int, block: int, shift: tuple[int, int]) -> tuple[int, int]:
    """Blocks decoded reading the tiles' windows of two images (the after one's windows
    ``shift`` px off) through one least-recently-used cache of ``capacity`` blocks, as
    GDAL's; and how many distinct blocks there are."""
    from collections import OrderedDict

    cache: OrderedDict = OrderedDict()
    decoded, seen = 0, set()
    for tile in tiles:
        col, row, width, height = tile.read
        for image, (dy, dx) in enumerate([(0, 0), shift]):
            r0, c0 = max(0, row + dy), max(0, col + dx)
            for br in range(r0 // block, (row + dy + height - 1) // block + 1):
                for bc in range(c0 // block, (col + dx + width - 1) // block + 1):
                    key = (image, br, bc)
                    seen.add(key)
                    if key in cache:
                        cache.move_to_end(key)
                        continue
                    decoded += 1
                    cache[key] = True
                    if len(cache) > capacity:
                        cache.popitem(last=False)
    return decoded, len(seen)


def test_strips_decode_each_block_about_once() -> None:
    # a 40 x 40 km scene at 0.5 m... in 512 px blocks: 30 x 30 tiles of 1024 px, 32 px overlap
    size, tile, overlap, block = 30 * 1024, 1024, 32, 512
    tiles = tile_grid(size, size, size=tile, overlap=overlap)
    capacity = pipeline.cache_bytes(tile, overlap, [(size, size, block, block, 1)] * 2)
    capacity //= block * block
    strips, distinct = _decodes(strip_order(tiles), capacity, block, (3, -2))
    rows, _ = _decodes(tiles, capacity, block, (3, -2))
    assert strips <= 1.3 * distinct  # each block about once (again at a strip's edge)
    assert rows >= 1.8 * distinct  # row by row, the rows' shared blocks were gone
    assert capacity * block * block <= 32 * 2**20  # bounded by the tile, not the scene


def test_a_plan_visits_tiles_in_strips(project: fenceline.Project) -> None:
    p = pipeline.plan(project.store, "before", "after", tile_size=128)
    tiles = [job.tile for job in p.jobs]
    assert tiles == strip_order(tiles) != sorted(tiles, key=lambda t: (t.row, t.col))
    # one cache for the run, from its tile size and overlap, whatever the tile at the edges
    images = [
        pipeline._blocks(pipeline._dataset(path))
        for path in (p.jobs[0].before_path, p.jobs[0].after_path)
    ]
    assert {job.block_cache for job in p.jobs} == {pipeline.cache_bytes(128, 32, images)}


def test_the_heap_is_kept_from_tile_to_tile() -> None:
    """glibc takes the fixed thresholds (``mallopt`` returns 1 for each); elsewhere the
    process is left as it is."""
    import platform

    pipeline.steady_heap.cache_clear()
    applied = pipeline.steady_heap()
    assert applied is (platform.system() == "Linux" and platform.libc_ver()[0] == "glibc")
