"""The fast numpy paths of detection compute what the SciPy / matrix versions computed.

Detection was sped up (issue 5) by rewriting filters as shifted sums, partitions and
gathers; evidence depends on them, so each is checked against the reference it replaced.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage

from fenceline.imagery import scheduler
from fenceline.imagery.detect import _polygon
from fenceline.imagery.linear import _fill_holes
from fenceline.imagery.radiometry import block_means, box_mean, grid_median, upsample

shapes = st.tuples(st.integers(1, 40), st.integers(1, 40))


def _image(shape: tuple[int, int], seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(100, 20, shape).astype(np.float32)


@settings(max_examples=60, deadline=None)
@given(shape=shapes, size=st.sampled_from([1, 3, 5, 7, 31]), seed=st.integers(0, 999))
def test_box_mean_is_scipy_uniform_filter(shape, size, seed) -> None:
    image = _image(shape, seed)
    expected = ndimage.uniform_filter(image, size)
    np.testing.assert_allclose(box_mean(image, size), expected, atol=1e-3)


@settings(max_examples=60, deadline=None)
@given(shape=shapes, seed=st.integers(0, 999))
def test_grid_median_is_scipy_median_filter(shape, seed) -> None:
    grid = _image(shape, seed)
    expected = ndimage.median_filter(grid, size=5, mode="nearest")
    np.testing.assert_array_equal(grid_median(grid), expected)


@settings(max_examples=60, deadline=None)
@given(shape=st.tuples(st.integers(1, 70), st.integers(1, 70)), seed=st.integers(0, 999))
def test_block_means_and_upsampling_match_the_matrix_form(shape, seed) -> None:
    image = _image(shape, seed)
    block = 8

    def matrices(n: int) -> tuple[np.ndarray, np.ndarray]:
        coarse = -(-n // block)
        mean = np.zeros((coarse, n))
        for k in range(coarse):
            lo, hi = k * block, min(n, (k + 1) * block)
            mean[k, lo:hi] = 1.0 / (hi - lo)
        position = np.clip((np.arange(n) + 0.5) / block - 0.5, 0, coarse - 1)
        low = np.floor(position).astype(int)
        high = np.minimum(low + 1, coarse - 1)
        up = np.zeros((n, coarse))
        up[np.arange(n), low] += 1 - (position - low)
        up[np.arange(n), high] += position - low
        return mean, up

    mean_r, up_r = matrices(shape[0])
    mean_c, up_c = matrices(shape[1])
    means = block_means(image, block)
    np.testing.assert_allclose(means, mean_r @ image @ mean_c.T, rtol=1e-5)
    np.testing.assert_allclose(upsample(means, shape, block), up_r @ means @ up_c.T, rtol=1e-5)


@settings(max_examples=80, deadline=None)
@given(shape=shapes, density=st.floats(0.2, 0.8), seed=st.integers(0, 999))
def test_fill_holes_is_scipy_binary_fill_holes(shape, density, seed) -> None:
    mask = np.random.default_rng(seed).random(shape) < density
    np.testing.assert_array_equal(_fill_holes(mask), ndimage.binary_fill_holes(mask))


@settings(max_examples=60, deadline=None)
@given(shape=shapes, seed=st.integers(0, 999))
def test_outline_is_the_hull_of_every_pixel_corner(shape, seed) -> None:
    mask = np.random.default_rng(seed).random(shape) < 0.5
    if not mask.any():
        return
    rows, cols = np.nonzero(mask)
    corners = np.concatenate(
        [np.column_stack([cols + dx + 3, rows + dy + 4]) for dx in (0, 1) for dy in (0, 1)]
    ).astype(float)
    expected = shapely.convex_hull(shapely.multipoints(corners))
    assert _polygon(mask, 3, 4).equals(expected)


def test_a_changed_file_is_reopened(tmp_path: Path) -> None:
    """A dataset kept open between tiles is reopened when its file is replaced."""
    from fenceline.imagery.pipeline import _read
    from fenceline.imagery.synthetic import make_pair

    first = make_pair(tmp_path / "a", size=256, seed=1, nuisance="none")
    second = make_pair(tmp_path / "b", size=256, seed=2, nuisance="none")
    target = tmp_path / "image.tif"
    target.write_bytes(first.before.read_bytes())
    before = _read(str(target), 0, 0, 64, 64)
    target.write_bytes(second.before.read_bytes())
    stat = target.stat()
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    after = _read(str(target), 0, 0, 64, 64)
    assert not np.array_equal(before, after)


def test_the_local_pool_is_reused_and_stops() -> None:
    assert sorted(scheduler.map_unordered(abs, [-1, -2, 3], workers=2)) == [1, 2, 3]
    pool = scheduler._POOL.get(2)
    assert pool is not None
    assert sorted(scheduler.map_unordered(abs, [-4, 5], workers=2)) == [4, 5]
    assert scheduler._POOL.get(2) is pool
    scheduler.shutdown_pool(wait=True)
    assert not scheduler._POOL


def test_an_interrupted_pool_run_stops_the_pool() -> None:
    results = scheduler.map_unordered(abs, list(range(-20, 0)), workers=2)
    next(results)
    results.close()  # the consumer stopped early (an error or Ctrl-C in the driver)
    assert not scheduler._POOL


@pytest.mark.parametrize("shape", [(1056, 1056), (1000, 777)])
def test_cloud_blocks_are_silenced_at_any_tile_size(shape) -> None:
    from fenceline.imagery.detect import ClassicalDetector

    rng = np.random.default_rng(3)
    before = (100 + rng.normal(0, 5, shape)).astype(np.float32)
    after = before + rng.normal(0, 2, shape).astype(np.float32)
    after[200:500, 100:400] += 60  # a bright cloud
    after[700:712, 600:612] += 90  # a new roof, clear of it
    strength = ClassicalDetector().change(before, after)
    assert float(np.abs(strength[250:450, 150:350]).max()) == 0.0
    assert float(np.abs(strength[700:712, 600:612]).max()) > 1
