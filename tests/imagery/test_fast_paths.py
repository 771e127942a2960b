"""The fast numpy paths of detection compute what the SciPy / matrix versions computed.

Detection was sped up (issue 5) by rewriting filters as shifted sums, partitions and
gathers; evidence depends on them, so each is checked against the reference it replaced.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage

from fenceline.imagery import scheduler
from fenceline.imagery.detect import _polygon, _spread, vectorise_columns
from fenceline.imagery.linear import _fill_holes
from fenceline.imagery.radiometry import block_means, box_mean, grid_median, upsample

shapes = st.tuples(st.integers(1, 40), st.integers(1, 40))
#: rows across the kernels' 64-pixel words (runs ending on, before and after a word's edge)
wide_shapes = st.tuples(
    st.integers(1, 30), st.one_of(st.integers(1, 200), st.sampled_from([63, 64, 65, 128, 129]))
)


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


def _pids_and(jobs: list[int]) -> list[tuple[int, int]]:
    return [(os.getpid(), job) for job in jobs]


def test_consecutive_jobs_run_in_one_worker() -> None:
    # runs of 2 (16 jobs, 2 workers: each worker gets at least 4 runs), each in one process
    runs = scheduler.map_runs(_pids_and, range(16), workers=2, longest=8)
    results = {job: pid for pid, job in runs}
    assert sorted(results) == list(range(16))
    assert all(results[k] == results[k + 1] for k in range(0, 16, 2))
    assert all(pid != os.getpid() for pid in results.values())


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


# --- compiled kernels (numba) against the numpy code they stand in for -------------------

kernels = pytest.importorskip("fenceline.imagery.kernels")


def assert_same_candidates(found: list[dict], expected: list[dict]) -> None:
    """Candidates (dicts) equal one for one, in order: kind, geometry to the coordinate and
    the numbers exactly."""
    assert len(found) == len(expected)
    for a, b in zip(found, expected, strict=True):
        assert a["kind"] == b["kind"]
        assert shapely.equals_exact(a["geometry"], b["geometry"], 0)
        assert (a["score"], a["area_m2"], a["length_m"]) == (
            b["score"],
            b["area_m2"],
            b["length_m"],
        )


@contextlib.contextmanager
def numba_paths(on: bool):
    """Run the compiled (``on``) or the numpy reference paths (``FENCELINE_NUMBA=0``)."""
    old = os.environ.get("FENCELINE_NUMBA")
    os.environ["FENCELINE_NUMBA"] = "1" if on else "0"
    try:
        yield
    finally:
        if old is None:
            del os.environ["FENCELINE_NUMBA"]
        else:
            os.environ["FENCELINE_NUMBA"] = old


@pytest.fixture
def numpy_only(monkeypatch):
    """Run the numpy reference paths (``FENCELINE_NUMBA=0``) inside the test."""

    def switch(on: bool) -> None:
        monkeypatch.setenv("FENCELINE_NUMBA", "1" if on else "0")

    return switch


@settings(max_examples=40, deadline=None)
@given(
    shape=st.tuples(st.integers(2, 70), st.integers(2, 70)),
    shift=st.tuples(st.floats(0, 0.999), st.floats(0, 0.999)),
    gain=st.floats(0.25, 4.0),
    seed=st.integers(0, 999),
)
def test_shift_and_gain_kernel_is_the_numpy_shift_times_gain(shape, shift, gain, seed) -> None:
    from fenceline.imagery.coregister import apply_subpixel_shift

    image = _image(shape, seed)
    expected = apply_subpixel_shift(image, *shift) * gain
    np.testing.assert_array_equal(kernels.shift_and_gain(image, *shift, gain), expected)


@settings(max_examples=40, deadline=None)
@given(shape=st.tuples(st.integers(2, 90), st.integers(2, 90)), seed=st.integers(0, 999))
def test_change_map_kernels_match_numpy_to_the_bit(shape, seed) -> None:
    from fenceline.imagery.detect import ClassicalDetector

    rng = np.random.default_rng(seed)
    before = _image(shape, seed)
    after = before + rng.normal(0, 3, shape).astype(np.float32)
    after[shape[0] // 3 : shape[0] // 2, shape[1] // 3 : shape[1] // 2] += 80  # a new roof
    detector = ClassicalDetector()
    grids = [grid_median(block_means(x, 8)) for x in (before, after)]
    expected = detector._change_numpy(before, after, *grids)
    assert kernels.enabled()
    np.testing.assert_array_equal(detector.change(before, after), expected)


#: sub-pixel shifts for the compiled sweeps: none, tiny (rounding), half and quarter pixels
SHIFTS = st.sampled_from([(0.0, 0.0), (0.0004, 0.0009), (0.5, 0.0), (0.0, 0.25), (0.37, 0.62)])


@settings(max_examples=40, deadline=None)
@given(
    shape=st.tuples(st.integers(2, 90), st.integers(2, 90)),
    shift=SHIFTS,
    gain=st.floats(0.5, 2.0),
    seed=st.integers(0, 999),
)
def test_fused_change_kernel_matches_numpy_to_the_bit(shape, shift, gain, seed) -> None:
    """One sweep (shift, gain, high-pass, box means, sign) against the numpy steps."""
    from fenceline.imagery.detect import ClassicalDetector

    rng = np.random.default_rng(seed)
    before = _image(shape, seed)
    after = before + rng.normal(0, 3, shape).astype(np.float32)
    after[: shape[0] // 2, shape[1] // 3 :] += 60  # a new roof, or a cloud
    detector = ClassicalDetector()
    expected = _numpy_change_aligned(detector, before, after, shift, gain)
    np.testing.assert_array_equal(detector.change_aligned(before, after, shift, gain), expected)


def _numpy_change_aligned(detector, before, after, shift, gain) -> np.ndarray:
    """``change_aligned`` by the numpy steps it fuses (the kernels' reference)."""
    from fenceline.imagery.coregister import apply_subpixel_shift

    aligned = apply_subpixel_shift(after, *shift) * gain
    grids = [grid_median(block_means(x, 8)) for x in (before, aligned)]
    return detector._silence_cloud(detector._change_numpy(before, aligned, *grids), *grids)


@settings(max_examples=60, deadline=None)
@given(
    shape=st.tuples(st.integers(2, 150), st.integers(2, 90)),
    shift=SHIFTS,
    gain=st.floats(0.5, 2.0),
    block=st.sampled_from([1, 2, 3, 8, 16]),
    eight_bit=st.booleans(),
    seed=st.integers(0, 999),
)
def test_the_sweep_is_the_numpy_steps_at_any_block_size(
    shape, shift, gain, block, eight_bit, seed
) -> None:
    """The one sweep against the numpy steps, to the bit: grids, map before its scale,
    σ's sample; any block size (an input row waits up to 4 blocks for its backgrounds),
    partial blocks, 8-bit and float tiles."""
    from fenceline.imagery.coregister import apply_subpixel_shift
    from fenceline.imagery.radiometry import sigma_step

    rng = np.random.default_rng(seed)
    before = _image(shape, seed)
    after = before + rng.normal(0, 3, shape).astype(np.float32)
    after[: shape[0] // 2, shape[1] // 3 :] += 50
    if eight_bit:
        before, after = (np.clip(x, 0, 255).astype(np.uint8) for x in (before, after))
    found = kernels.change_sweep(before, after, shift, gain, block)
    # the numpy steps, on the tiles as float32 (as the kernel reads each pixel)
    b = before.astype(np.float32)
    aligned = apply_subpixel_shift(after.astype(np.float32), *shift) * np.float32(gain)
    grids = [grid_median(block_means(x, block)) for x in (b, aligned)]
    hb, ha = (x - upsample(g, shape, block) for x, g in zip((b, aligned), grids, strict=True))
    diff = box_mean(ha - hb, 3)
    signed = np.copysign(np.abs(diff), box_mean(np.abs(ha) - np.abs(hb), 5))
    expected = (*grids, signed, diff.ravel()[:: sigma_step(diff.size)])
    for a, e in zip(found, expected, strict=True):
        np.testing.assert_array_equal(a.view(np.uint32), e.view(np.uint32))


@pytest.mark.parametrize("shape", [(229, 231), (400, 301), (1088, 1088)])
def test_the_sweep_gathers_robust_sigmas_own_sample(shape) -> None:
    """Above 50,000 px, σ comes from every n-th value of the map: the sweep gathers exactly
    those as it makes the rows, and the change map stays numpy's to the bit."""
    from fenceline.imagery.coregister import apply_subpixel_shift
    from fenceline.imagery.detect import ClassicalDetector
    from fenceline.imagery.radiometry import robust_sigma, sigma_step

    rng = np.random.default_rng(7)
    before = _image(shape, 7)
    after = before + rng.normal(0, 3, shape).astype(np.float32)
    after[: shape[0] // 3, shape[1] // 2 :] += 40
    shift, gain = (0.25, 0.625), 1.1
    detector = ClassicalDetector()
    *_, signed, sample = detector._sweeps(kernels, before, after, shift, gain)
    # numpy's map before its sign and scale: the 3 x 3 mean of the high-passed difference
    aligned = apply_subpixel_shift(after, *shift) * gain
    passed = [x - upsample(grid_median(block_means(x, 8)), shape, 8) for x in (before, aligned)]
    diff = box_mean(passed[1] - passed[0], 3)
    assert sigma_step(diff.size) > 1
    np.testing.assert_array_equal(sample, diff.ravel()[:: sigma_step(diff.size)])
    np.testing.assert_array_equal(np.abs(signed), np.abs(diff))
    assert robust_sigma(sample) == robust_sigma(diff)
    expected = _numpy_change_aligned(detector, before, after, shift, gain)
    np.testing.assert_array_equal(detector.change_aligned(before, after, shift, gain), expected)


@settings(max_examples=60, deadline=None)
@given(
    shape=st.tuples(st.integers(2, 80), st.integers(2, 80)),
    shift=SHIFTS,
    gain=st.floats(0.25, 4.0),
    seed=st.integers(0, 999),
)
def test_the_sweeps_grids_are_the_numpy_grids(shape, shift, gain, seed) -> None:
    """Block means (partial blocks too) and their 5 x 5 median for both images, the after
    image shifted on the fly: the numpy steps' values, to the bit; the median network picks
    SciPy's median."""
    from fenceline.imagery.coregister import apply_subpixel_shift

    before, after = _image(shape, seed), _image(shape, seed + 1)
    aligned = apply_subpixel_shift(after, *shift) * np.float32(gain)
    grid_b, grid_a, *_ = kernels.change_sweep(before, after, shift, gain)
    np.testing.assert_array_equal(grid_b, grid_median(block_means(before, 8)))
    np.testing.assert_array_equal(grid_a, grid_median(block_means(aligned, 8)))
    means = block_means(before, 8)
    median = ndimage.median_filter(means, size=5, mode="nearest")
    np.testing.assert_array_equal(grid_b, median)


@given(n=st.integers(1, 300), block=st.sampled_from([1, 2, 3, 8, 16]))
def test_each_cells_columns_are_one_run(n, block) -> None:
    """The sweep upsamples a grid row cell by cell: ``_cell_starts`` gives each cell's
    columns as one run, exactly the columns whose lower cell it is (the clipped first and
    last columns included), and every column once."""
    from fenceline.imagery.radiometry import _resampling

    low, _ = _resampling(n, block)
    cells = -(-n // block)
    starts = kernels._cell_starts(low, cells)
    assert starts[0] == 0 and starts[-1] == n
    for k in range(cells):
        assert np.array_equal(np.flatnonzero(low == k), np.arange(starts[k], starts[k + 1]))


@given(
    n=st.integers(1, 300),
    block=st.sampled_from([1, 2, 3, 8, 16]),
    seed=st.integers(0, 2**16),
)
def test_a_grid_row_upsamples_as_numpy_gathers_it(n, block, seed) -> None:
    """Each pixel of an upsampled grid row is ``g[low] + (g[low + 1] - g[low]) * frac``
    (0 past the last cell), to the bit, whether its cell is written as 8 statements (the
    inner cells of an 8 px grid) or as a loop (the others)."""
    from fenceline.imagery.radiometry import _resampling

    low, frac = _resampling(n, block)
    cells = -(-n // block)
    grid = np.random.default_rng(seed).normal(100, 30, (2, cells)).astype(np.float32)
    step = np.zeros(cells, np.float32)
    step[:-1] = grid[1, 1:] - grid[1, :-1]
    expected = grid[1, low] + step[low] * frac
    out = np.full((2, n), np.nan, np.float32)
    kernels._upsample_row(
        grid, 1, kernels._cell_starts(low, cells), frac, np.zeros(cells, np.float32), out
    )
    np.testing.assert_array_equal(out[1].view(np.uint32), expected.view(np.uint32))
    assert np.isnan(out[0]).all()  # only row 1 is written


def test_cloud_blocks_and_scale_in_one_pass() -> None:
    """The scale and the cloud blocks' zero in one pass: what numpy's two steps give (the
    sign kept, -0.0 too), at a tile size that is not a multiple of the block."""
    rng = np.random.default_rng(4)
    signed = rng.normal(0, 3, (37, 29)).astype(np.float32)
    cloud = rng.random((5, 4)) < 0.4
    expected = signed * np.float32(0.25)
    full = np.repeat(np.repeat(cloud, 8, axis=0), 8, axis=1)[:37, :29]
    expected[full] *= 0
    found = kernels.scale_cloud(signed.copy(), 0.25, cloud)
    np.testing.assert_array_equal(found, expected)
    np.testing.assert_array_equal(np.signbit(found), np.signbit(expected))
    assert (found[full] == 0).all() and (found[~full] != 0).all()


@settings(max_examples=60, deadline=None)
@given(shape=shapes, size=st.sampled_from([1, 3, 15, 31, 61]), seed=st.integers(0, 999))
def test_high_pass_kernel_is_scipy_to_the_bit(shape, size, seed) -> None:
    """Co-registration and gain run on it: SciPy's running sums, reproduced exactly."""
    from fenceline.imagery.radiometry import _high_pass_scipy, high_pass

    image = _image(shape, seed)
    expected = _high_pass_scipy(image, size)
    np.testing.assert_array_equal(kernels.high_pass(image, size), expected)
    np.testing.assert_array_equal(high_pass(image, size), expected)


@settings(max_examples=80, deadline=None)
@given(shape=wide_shapes, density=st.floats(0.05, 0.8), seed=st.integers(0, 999))
def test_labelling_kernel_is_scipy_label_with_its_statistics(shape, density, seed) -> None:
    rng = np.random.default_rng(seed)
    strength = (rng.normal(0, 1, shape) * (rng.random(shape) < density)).astype(np.float32)
    labels, stats = kernels.label_components(strength)
    weak = np.abs(strength) >= 0.5
    expected, count = ndimage.label(weak, structure=np.ones((3, 3), bool))
    np.testing.assert_array_equal(labels, expected)
    assert len(stats) == count
    for k, sl in enumerate(ndimage.find_objects(expected)):
        inside = expected == k + 1
        rows, cols = np.nonzero(inside)
        values = strength[inside]
        assert stats[k, kernels.AREA] == inside.sum()
        assert bool(stats[k, kernels.STRONG]) == bool((np.abs(values) >= 1).any())
        assert np.float32(stats[k, kernels.PEAK]) == np.abs(values).max()
        np.testing.assert_allclose(stats[k, kernels.SUM], values.sum(dtype=np.float64), atol=1e-4)
        bounds = [sl[0].start, sl[1].start, sl[0].stop, sl[1].stop]
        assert stats[k, kernels.TOP : kernels.RIGHT + 1].tolist() == bounds
        np.testing.assert_allclose(kernels.spread(stats[k]), _spread(rows, cols), rtol=1e-9)
    # the runs behind the labels: each component's together, row-major, covering it exactly
    runs = kernels.label_runs(strength)
    assert np.array_equal(runs.stats, stats)
    for k in range(count):
        mine = runs.order[runs.first[k] : runs.first[k + 1]]
        assert (runs.label[mine] == k + 1).all()
        assert sorted(mine.tolist(), key=lambda j: (runs.row[j], runs.lo[j])) == mine.tolist()
        painted = np.zeros(shape, bool)
        for j in mine:
            painted[runs.row[j], runs.lo[j] : runs.hi[j] + 1] = True
        np.testing.assert_array_equal(painted, expected == k + 1)


@settings(max_examples=60, deadline=None)
@given(shape=wide_shapes, density=st.floats(0.05, 0.8), seed=st.integers(0, 999))
def test_compiled_spread_is_the_closed_form_in_numpy(shape, density, seed) -> None:
    """The axes' spread from components' sums, compiled, is numpy's closed form of the
    covariance to the bit (detection's linear/compact rule compares it with thresholds)."""
    rng = np.random.default_rng(seed)
    strength = (rng.normal(0, 1, shape) * (rng.random(shape) < density)).astype(np.float32)
    stats = kernels.label_runs(strength).stats
    n = stats[:, kernels.AREA]
    sr, sc, srr, scc, src = (stats[:, 8 + j] for j in range(5))
    with np.errstate(divide="ignore", invalid="ignore"):
        a = (srr - sr * sr / n) / (n - 1)
        d = (scc - sc * sc / n) / (n - 1)
        b = (src - sr * sc / n) / (n - 1)
        mid = (a + d) / 2
        radius = np.sqrt(np.maximum(0.0, ((a - d) / 2) ** 2 + b * b))
        major = np.where(n <= 2, 1.0, np.sqrt(np.maximum(mid + radius, 1e-6)))
        minor = np.where(n <= 2, 1.0, np.sqrt(np.maximum(mid - radius, 1e-6)))
    found_major, found_minor = kernels.spread(stats)
    np.testing.assert_array_equal(found_major, major)
    np.testing.assert_array_equal(found_minor, minor)


@settings(max_examples=60, deadline=None)
@given(shape=wide_shapes, density=st.floats(0.05, 0.8), seed=st.integers(0, 999))
def test_strong_parts_are_scipys_labels_of_the_strong_pixels(shape, density, seed) -> None:
    """The strong parts of chosen components: SciPy's labels of their strong pixels, each
    part's statistics, and the component each lies in."""
    rng = np.random.default_rng(seed)
    strength = (rng.normal(0, 1.2, shape) * (rng.random(shape) < density)).astype(np.float32)
    runs = kernels.label_runs(strength)
    labels, _ = kernels.label_components(strength)
    chosen = np.arange(1, len(runs.stats) + 1)[rng.random(len(runs.stats)) < 0.5]
    parts, owner = kernels.strong_parts(strength, runs, chosen)
    strong = np.isin(labels, chosen) & (np.abs(strength) >= 1)
    expected, count = ndimage.label(strong, structure=np.ones((3, 3), bool))
    assert len(parts.stats) == count == len(owner)
    painted = kernels._paint(shape, parts.row, parts.lo, parts.hi, parts.label)
    np.testing.assert_array_equal(painted, expected)
    for k, sl in enumerate(ndimage.find_objects(expected)):
        inside = expected == k + 1
        rows, cols = np.nonzero(inside)
        assert owner[k] == labels[rows[0], cols[0]]
        assert parts.stats[k, kernels.AREA] == inside.sum()
        assert np.float32(parts.stats[k, kernels.PEAK]) == np.abs(strength[inside]).max()
        bounds = [sl[0].start, sl[1].start, sl[0].stop, sl[1].stop]
        assert parts.stats[k, kernels.TOP : kernels.RIGHT + 1].tolist() == bounds
        np.testing.assert_allclose(kernels.spread(parts.stats[k]), _spread(rows, cols), rtol=1e-9)


@settings(max_examples=200, deadline=None)
@given(level=st.sampled_from([0.5, 1.0, 2.5]), sigma=st.floats(0.5, 5000), k=st.floats(1, 12))
def test_unscaled_level_is_the_least_value_scaled_to_the_level(level, sigma, k) -> None:
    scale = np.float32(1.0 / (k * sigma))
    threshold = kernels.unscaled_level(level, scale)
    assert threshold.dtype == np.float32
    assert threshold * scale >= np.float32(level)
    assert np.nextafter(threshold, np.float32(0)) * scale < np.float32(level)


def _parts(shape: tuple[int, int], density: float, seed: int, cloudy: bool):
    """A signed map before its scale, with values on both sides of the thresholds' edges
    (the last float32 below and the first at or above them), and a cloud grid or None."""
    rng = np.random.default_rng(seed)
    scale = np.float32(1.0 / (6 * rng.uniform(0.5, 40)))
    signed = (rng.normal(0, 1.2, shape) / scale * (rng.random(shape) < density)).astype(np.float32)
    edges = []
    for level in (0.5, 1.0):
        t = kernels.unscaled_level(level, scale)
        edges += [t, np.nextafter(t, np.float32(0)), -t, -np.nextafter(t, np.float32(0))]
    spots = rng.random(shape) < 0.2
    signed[spots] = rng.choice(np.array(edges, np.float32), int(spots.sum()))
    cloud = rng.random((-(-shape[0] // 8), -(-shape[1] // 8))) < 0.3 if cloudy else None
    return signed, scale, cloud


@settings(max_examples=80, deadline=None)
@given(
    shape=wide_shapes,
    density=st.floats(0.05, 0.8),
    seed=st.integers(0, 999),
    cloudy=st.booleans(),
)
def test_labelling_the_parts_is_labelling_the_map(shape, density, seed, cloudy) -> None:
    """A map given as its parts (signed values, scale, cloud cells) is labelled and
    outlined as the map made from them is, to the bit: runs, labels, statistics, corners."""
    from fenceline.imagery.detect import apply_parts

    signed, scale, cloud = _parts(shape, density, seed, cloudy)
    made = apply_parts(signed.copy(), scale, cloud)
    found = kernels.label_runs(signed, scale=scale, cloud=cloud)
    expected = kernels.label_runs(made)
    for a, b in zip(found, expected, strict=True):
        np.testing.assert_array_equal(a, b)
    every = np.arange(len(expected.stats))
    corners = kernels.structure_corners(signed, found, every, scale)
    for a, b in zip(corners, kernels.structure_corners(made, expected, every), strict=True):
        np.testing.assert_array_equal(a, b)


@settings(max_examples=30, deadline=None)
@given(
    shape=st.tuples(st.integers(2, 120), st.integers(2, 120)),
    density=st.floats(0.01, 0.3),
    seed=st.integers(0, 999),
    cloudy=st.booleans(),
)
def test_vectorising_the_parts_is_vectorising_the_map(shape, density, seed, cloudy) -> None:
    """``vectorise`` of a map's parts gives the made map's candidates, on the compiled and
    the numpy paths, and leaves the parts as they were."""
    from fenceline.imagery.detect import apply_parts, vectorise

    rng = np.random.default_rng(seed)
    signed, scale, cloud = _parts(shape, density, seed, cloudy)
    signed = ndimage.uniform_filter(signed, size=int(rng.integers(1, 4)))
    made = apply_parts(signed.copy(), scale, cloud)
    kept = signed.copy()
    for compiled in (True, False):
        with numba_paths(compiled):
            expected = vectorise(made, gsd_m=0.5)
            found = vectorise(signed, gsd_m=0.5, scale=scale, cloud=cloud)
        np.testing.assert_array_equal(signed, kept)
        assert_same_candidates(found, expected)


def test_a_detectors_parts_make_its_map() -> None:
    """``change_parts`` and ``apply_parts`` give ``change_aligned``'s map to the bit, with
    cloud in the after image and without."""
    from fenceline.imagery.detect import ClassicalDetector, apply_parts

    rng = np.random.default_rng(8)
    before = rng.normal(100, 10, (200, 176)).astype(np.float32)
    after = before + rng.normal(0, 2, before.shape).astype(np.float32)
    after[40:50, 60:70] += 80
    clouded = after.copy()
    clouded[100:180, 20:120] += 120  # brightened far above the tile's median: cloud
    detector = ClassicalDetector()
    for image, has_cloud in ((after, False), (clouded, True)):
        signed, scale, cloud = detector.change_parts(before, image, (0.25, 0.5), 1.02)
        assert (cloud is not None) == has_cloud
        expected = detector.change_aligned(before, image, (0.25, 0.5), 1.02)
        made = apply_parts(signed, scale, cloud)
        np.testing.assert_array_equal(made.view(np.uint32), expected.view(np.uint32))


@settings(max_examples=80, deadline=None)
@given(shape=wide_shapes, density=st.floats(0.2, 0.8), seed=st.integers(0, 999))
def test_fill_holes_kernel_is_scipy_binary_fill_holes(shape, density, seed) -> None:
    mask = np.random.default_rng(seed).random(shape) < density
    np.testing.assert_array_equal(kernels.fill_holes(mask), ndimage.binary_fill_holes(mask))


@settings(max_examples=80, deadline=None)
@given(shape=shapes, density=st.floats(0.05, 0.7), seed=st.integers(0, 999))
def test_traced_skeleton_is_the_geos_line_merge(shape, density, seed) -> None:
    """Lines traced and pruned by the kernel are those GEOS's line merging gives from the
    pixel segments (random skeletons: junctions, rings, spurs, isolated pixels)."""
    from skimage.morphology import skeletonize

    from fenceline.imagery.linear import _segments, line_key, skeleton_lines

    mask = np.random.default_rng(seed).random(shape) < density
    for spur in (0.0, 8.0):
        with numba_paths(False):
            expected = skeleton_lines(mask, spur_px=spur)
        with numba_paths(True):
            found = skeleton_lines(mask, spur_px=spur)
        assert sorted(line_key(shapely.get_coordinates(g)) for g in found) == sorted(
            line_key(shapely.get_coordinates(g)) for g in expected
        )
    # and unsimplified: the vertices of every merged line, in a kernel of its own
    skeleton = skeletonize(kernels.fill_holes(mask))
    xy, owner = kernels.trace_skeleton(skeleton, spur_px=0)
    traced = shapely.linestrings(xy, indices=owner) if len(xy) else []
    segments = _segments(skeleton)
    merged = (
        shapely.get_parts(shapely.line_merge(shapely.multilinestrings(segments)))
        if segments is not None
        else []
    )
    assert sorted(line_key(shapely.get_coordinates(shapely.normalize(g))) for g in traced) == (
        sorted(line_key(shapely.get_coordinates(shapely.normalize(g))) for g in merged)
    )


@settings(max_examples=40, deadline=None)
@given(
    shape=st.tuples(st.integers(2, 120), st.integers(2, 120)),
    density=st.floats(0.01, 0.3),
    seed=st.integers(0, 999),
)
def test_vectorise_kernels_match_numpy_on_random_maps(shape, density, seed) -> None:
    """Random signed change maps (blobs of every size and elongation): the compiled
    vectorisation gives the numpy path's candidates, in its order, to the coordinate."""
    from fenceline.imagery.detect import vectorise

    rng = np.random.default_rng(seed)
    seeds = rng.random(shape) < density
    strength = ndimage.uniform_filter(
        (seeds * rng.normal(0, 6, shape)).astype(np.float32), size=int(rng.integers(1, 6))
    )
    with numba_paths(False):
        expected = vectorise(strength, gsd_m=0.5)
    with numba_paths(True):
        found = vectorise(strength, gsd_m=0.5)
    assert len(found) == len(expected)
    for a, b in zip(found, expected, strict=True):
        assert a["kind"] == b["kind"]
        assert shapely.equals_exact(a["geometry"], b["geometry"], 0)
        for key in ("score", "area_m2", "length_m"):
            assert a[key] == pytest.approx(b[key], rel=1e-12)


def _tile_job(core: tuple[int, int, int, int], shape: tuple[int, int]):
    """A job whose read window is the whole map (``shape``) and whose core is ``core``
    (col, row, width, height), in pixel coordinates (an identity transform)."""
    from fenceline.imagery.pipeline import TileJob
    from fenceline.imagery.tiles import Tile

    tile = Tile(0, 0, core, (0, 0, shape[1], shape[0]))
    return TileJob("", "", tile, (0, 0), (0.0, 0.0), 1.0, {}, (1.0, 0.0, 0.0, 0.0, 1.0, 0.0), 0.5)


@settings(max_examples=40, deadline=None)
@given(
    shape=st.tuples(st.integers(8, 120), st.integers(8, 120)),
    density=st.floats(0.01, 0.3),
    seed=st.integers(0, 999),
    corners=st.tuples(*(st.floats(0, 1),) * 4),
    compiled=st.booleans(),
)
def test_a_tile_vectorising_only_its_core_keeps_the_same_candidates(
    shape, density, seed, corners, compiled
) -> None:
    """A tile vectorises only the components that reach into its core (``within``): what it
    keeps of them (``_to_image``: polygons by centroid, lines clipped) is what it keeps when
    every component is vectorised, on the compiled and the numpy path, to the coordinate."""
    from fenceline.imagery.pipeline import _core_window, _to_image

    rng = np.random.default_rng(seed)
    seeds = rng.random(shape) < density
    strength = ndimage.uniform_filter(
        (seeds * rng.normal(0, 6, shape)).astype(np.float32), size=int(rng.integers(1, 6))
    )
    h, w = shape
    x0, x1 = sorted(round(c * w) for c in corners[:2])
    y0, y1 = sorted(round(c * h) for c in corners[2:])
    job = _tile_job((x0, y0, max(1, x1 - x0), max(1, y1 - y0)), shape)
    with numba_paths(compiled):
        found = vectorise_columns(strength, gsd_m=0.5)
        every = _to_image(found, job).records()
        within = vectorise_columns(strength, gsd_m=0.5, within=_core_window(job))
        kept = _to_image(within, job).records()
    assert len(within) <= len(found)
    # what a tile keeps, one candidate at a time: a polygon whose centroid is in the
    # half-open core, each part of positive length of a line clipped to the closed core
    cx0, cy0, cx1, cy1 = _core_window(job)
    core = shapely.box(cx0, cy0, cx1, cy1)
    expected = []
    for c in found.records():
        g = c["geometry"]
        if g.geom_type == "Polygon":
            if cx0 <= g.centroid.x < cx1 and cy0 <= g.centroid.y < cy1:
                expected.append(c)
            continue
        for part in shapely.get_parts(g if core.contains(g) else g.intersection(core)):
            if part.length > 0:
                expected.append(dict(c, geometry=part, length_m=part.length * 0.5))
    assert_same_candidates(every, expected)
    assert_same_candidates(kept, every)


def test_vectorise_with_kernels_gives_the_numpy_candidates(numpy_only) -> None:
    """Lines (a fence, a crossing, a ring), structures and removals: the same candidates,
    geometries equal to the coordinate."""
    from fenceline.imagery.detect import vectorise

    rng = np.random.default_rng(5)
    strength = rng.normal(0, 0.2, (400, 500)).astype(np.float32)
    strength[50:53, 20:480] = 3  # a fence
    strength[20:380, 300:303] = 2.5  # crossing it
    strength[200:212, 40:52] = 4  # a new roof
    strength[300:310, 100:109] = -3  # a removed one
    yy, xx = np.mgrid[:400, :500]
    ring = np.abs(np.hypot(yy - 250, xx - 380) - 60) < 1.5
    strength[ring] = 2  # a patrol ring (a hole inside)
    numpy_only(False)
    expected = vectorise(strength, gsd_m=0.5)
    numpy_only(True)
    found = vectorise(strength, gsd_m=0.5)
    assert {c["kind"] for c in expected} >= {"new_linear", "new_structure", "removed_structure"}
    assert len(found) == len(expected)
    for a, b in zip(found, expected, strict=True):
        assert a["kind"] == b["kind"]
        assert shapely.equals_exact(a["geometry"], b["geometry"], 0)
        for key in ("score", "area_m2", "length_m"):
            assert a[key] == pytest.approx(b[key], rel=1e-9)


def test_kernels_warm_up_in_a_fresh_process() -> None:
    """Worker processes load the compiled kernels (from numba's cache), all of them."""
    import subprocess
    import sys

    code = """
import numba, numpy as np
from fenceline.imagery import kernels
from fenceline.imagery.detect import ClassicalDetector, vectorise_columns
print(kernels.enabled(), kernels.warm_up() >= 0)
def called():
    return {n for n, f in vars(kernels).items()
            if isinstance(f, numba.core.registry.CPUDispatcher) and f.signatures}
warm = called()
rng = np.random.default_rng(0)
before = rng.integers(0, 255, (96, 96)).astype(np.uint8)
parts = ClassicalDetector().change_parts(before, before[::-1].copy(), (0.5, 0.5), 1.1)
s = np.zeros((200, 300), np.float32)
s[40:42, 10:290] = 3; s[42:60, 150:152] = 0.7; s[60:76, 143:159] = 4; s[100:110, 20:30] = -3
vectorise_columns(s, gsd_m=0.5, scale=0.5, cloud=np.zeros((25, 38), bool))
print("first called on a tile:", *sorted(called() - warm))
"""
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).parents[2] / "src"))
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    enabled, late = out.stdout.splitlines()
    assert enabled.split() == ["True", "True"]
    # warm_up reaches every kernel a tile calls: none is compiled or loaded on a first tile
    assert late == "first called on a tile:"


@settings(max_examples=40, deadline=None)
@given(
    size=st.sampled_from([(64, 64), (128, 96), (255, 256), (256, 256)]),
    shift=st.tuples(st.floats(-4, 4), st.floats(-4, 4)),
    seed=st.integers(0, 999),
)
def test_phase_correlation_is_scikit_image(size, shift, seed) -> None:
    """Co-registration's own phase correlation (float32 half spectra) gives scikit-image's
    sub-pixel shift."""
    from skimage.registration import phase_cross_correlation

    from fenceline.imagery.coregister import phase_correlation

    rows, cols = size
    base = ndimage.gaussian_filter(
        np.random.default_rng(seed).normal(size=(rows + 20, cols + 20)), 2
    )
    moved = ndimage.shift(base, shift, order=3)
    reference = base[10 : 10 + rows, 10 : 10 + cols].astype(np.float32)
    moving = moved[10 : 10 + rows, 10 : 10 + cols].astype(np.float32)
    expected, _, _ = phase_cross_correlation(
        reference, moving, upsample_factor=10, normalization=None
    )
    np.testing.assert_allclose(phase_correlation(reference, moving), expected, atol=1e-6)


@settings(max_examples=80, deadline=None)
@given(shape=shapes, density=st.floats(0.2, 0.95), seed=st.integers(0, 999))
def test_thinning_kernel_is_the_numpy_thinning(shape, density, seed) -> None:
    """Zhang-Suen thinning: the compiled one (border pixels only) is the numpy one, and
    a skeleton lies inside its mask, one pixel wide where the mask was a 1 px line."""
    from fenceline.imagery.linear import thin

    mask = ndimage.binary_closing(np.random.default_rng(seed).random(shape) < density)
    skeleton = thin(mask)
    np.testing.assert_array_equal(kernels.thin(mask), skeleton)
    assert not (skeleton & ~mask).any()
    line = np.zeros((5, 30), bool)
    line[2, 3:27] = True
    np.testing.assert_array_equal(kernels.thin(line), line)


@settings(max_examples=80, deadline=None)
@given(n=st.integers(3, 80), spread=st.integers(1, 15), seed=st.integers(0, 999))
def test_convex_rings_are_the_geos_hulls(n, spread, seed) -> None:
    rng = np.random.default_rng(seed)
    groups = rng.integers(1, 4)
    points = rng.integers(0, spread + 1, (n * groups, 2)).astype(float)
    owner = np.repeat(np.arange(groups), n)
    points[:, 0] += 3 * owner  # each group somewhere else
    expected = [
        shapely.normalize(shapely.convex_hull(shapely.multipoints(points[owner == g])))
        for g in range(groups)
    ]
    if any(e.geom_type != "Polygon" for e in expected):
        return  # collinear points: no polygon (detection's corners always span a pixel)
    found = kernels.convex_rings(points, owner, int(groups))
    for a, b in zip(found, expected, strict=True):
        assert shapely.equals_exact(a, b, 0)


@settings(max_examples=80, deadline=None)
@given(
    shape=st.tuples(st.integers(1, 40), st.integers(1, 40)),
    density=st.floats(0.05, 0.7),
    seed=st.integers(0, 999),
)
def test_corner_hulls_are_the_convex_rings_of_the_corners(shape, density, seed) -> None:
    """The sort-free hulls of structure corners are convex_rings' (and so GEOS's) polygons,
    vertex for vertex, for every component of random maps, also after whole groups are
    dropped as detection drops small cores."""
    rng = np.random.default_rng(seed)
    strength = np.where(rng.random(shape) < density, rng.uniform(0.5, 3, shape), 0)
    strength = strength.astype(np.float32)
    components = kernels.label_runs(strength)
    every = np.arange(len(components.stats))
    points, owner, core = kernels.structure_corners(strength, components, every)
    ok = core >= 2
    if not ok.any():
        return
    renumber = np.cumsum(ok) - 1
    chosen = ok[owner]
    args = points[chosen], renumber[owner[chosen]], int(renumber[-1]) + 1
    found, expected = kernels.corner_hulls(*args), kernels.convex_rings(*args)
    assert len(found) == len(expected) == int(ok.sum())
    for g, (a, b) in enumerate(zip(found, expected, strict=True)):
        np.testing.assert_array_equal(shapely.get_coordinates(a), shapely.get_coordinates(b))
        geos = shapely.normalize(shapely.convex_hull(shapely.multipoints(args[0][args[1] == g])))
        assert shapely.equals_exact(a, geos, 0)
    # the corners and their hulls in one call: the same polygons, mask and cores
    fused, fused_ok, fused_core = kernels.structure_hulls(strength, components, every, 2)
    np.testing.assert_array_equal(fused_ok, ok)
    np.testing.assert_array_equal(fused_core, core)
    assert len(fused) == len(found)
    for a, b in zip(fused, found, strict=True):
        np.testing.assert_array_equal(shapely.get_coordinates(a), shapely.get_coordinates(b))
        assert shapely.get_num_interior_rings(a) == 0


@settings(max_examples=30, deadline=None)
@given(
    shape=st.tuples(st.integers(2, 90), st.integers(2, 90)),
    shift=st.sampled_from([(0.0, 0.0), (0.5, 0.0), (0.37, 0.62)]),
    dtype=st.sampled_from([np.uint8, np.uint16]),
    seed=st.integers(0, 999),
)
def test_integer_tiles_give_the_float_change_map(shape, shift, dtype, seed) -> None:
    """Tiles are read in the file's pixel type; the change map of 8 or 16-bit tiles is the
    one of the same pixels as float32, to the bit."""
    from fenceline.imagery.detect import ClassicalDetector

    rng = np.random.default_rng(seed)
    before = rng.integers(0, 250, shape).astype(dtype)
    after = np.clip(before + rng.integers(-4, 5, shape), 0, 255).astype(dtype)
    after[: shape[0] // 2, : shape[1] // 2] = 200  # something new
    detector = ClassicalDetector()
    expected = detector.change_aligned(
        before.astype(np.float32), after.astype(np.float32), shift, 1.1
    )
    found = detector.change_aligned(before, after, shift, 1.1)
    np.testing.assert_array_equal(found, expected)


def test_the_median_network_is_written_out_in_full() -> None:
    """The 5 x 5 median's compare-exchange lines are the network's pairs, every one in order
    (the grids' tests then check the median against SciPy's)."""
    import inspect

    network = kernels._median_network(25)
    source = inspect.getsource(kernels._median_row.py_func)
    assert kernels._median_source(network) in source
    assert source.count("_exchange(") == len(network)


@settings(max_examples=80, deadline=None)
@given(n=st.integers(1, 300), levels=st.integers(1, 50), seed=st.integers(0, 999))
def test_median_by_one_partition_is_numpys(n, levels, seed) -> None:
    """Odd and even counts, many ties: the robust σ's and the cloud test's median (the
    compiled one where numba is installed, and the partition that is its reference)."""
    from fenceline.imagery.radiometry import _median, _median_numpy

    values = (np.random.default_rng(seed).integers(0, levels, n) / 7).astype(np.float32)
    for median in (_median, _median_numpy):
        assert median(values) == np.median(values)
        assert median(values).dtype == np.median(values).dtype


def _awkward_floats(n: int, seed: int, kind: int) -> np.ndarray:
    """float32 values that a selection on their bits could get wrong: both signs, ties,
    +0.0 beside -0.0, infinities, subnormals, values that share their high bits."""
    rng = np.random.default_rng(seed)
    if kind == 0:
        return rng.normal(0, 3, n).astype(np.float32)
    if kind == 1:  # ties on both sides of 0, and both zeros
        values = (rng.integers(-4, 5, n) / 3).astype(np.float32)
        values[rng.random(n) < 0.3] = -0.0
        return values
    if kind == 2:  # infinities and the smallest floats
        choices = np.array([-np.inf, np.inf, -1e-45, 1e-45, -0.0, 0.0, 1.0, -3e38], np.float32)
        return rng.choice(choices, n)
    # many values a few ulps apart: the same top 21 bits, told apart by the last round
    return (
        np.float32(1.5) + rng.integers(0, 64, n).astype(np.float32) * np.float32(2**-23)
    ).astype(np.float32)


@settings(max_examples=120, deadline=None)
@given(n=st.integers(1, 3000), seed=st.integers(0, 999), kind=st.integers(0, 3))
def test_the_compiled_median_and_mad_are_numpys(n, seed, kind) -> None:
    """The radix selection gives np.median's value, and robust σ's median absolute deviation
    is numpy's, for odd and even counts and awkward floats."""
    from fenceline.imagery.radiometry import robust_sigma

    values = _awkward_floats(n, seed, kind)
    # numpy's own steps overflow (-3e38 - 1) and meet inf - inf in some of these: as values
    with np.errstate(over="ignore", invalid="ignore"):
        expected = np.median(values)
        if np.isfinite(expected):  # (-inf and inf in the middle of an even count: nan)
            assert kernels.median(values) == expected
            assert kernels.median(values[::-1].copy()) == expected  # order does not matter
            middle, deviation = kernels.median_deviation(values)
            assert middle == expected
            assert deviation == np.median(np.abs(values - expected))
        with numba_paths(False):
            reference = robust_sigma(values)
        np.testing.assert_equal(robust_sigma(values), reference)  # nan where numpy's is nan


@settings(max_examples=60, deadline=None)
@given(
    shape=shapes,
    density=st.floats(0.0, 0.3),
    iterations=st.integers(1, 3),
    seed=st.integers(0, 999),
)
def test_cloud_growth_is_scipy_binary_dilation(shape, density, iterations, seed) -> None:
    from fenceline.imagery.detect import _dilate

    mask = np.random.default_rng(seed).random(shape) < density
    expected = ndimage.binary_dilation(mask, iterations=iterations)
    np.testing.assert_array_equal(_dilate(mask, iterations), expected)


@settings(max_examples=40, deadline=None)
@given(counts=st.lists(st.integers(1, 6), max_size=8), seed=st.integers(0, 999))
def test_line_keys_are_each_lines_key(counts, seed) -> None:
    from fenceline.imagery.linear import line_key, line_keys

    coords = np.random.default_rng(seed).normal(0, 9, (sum(counts), 2))
    parts = np.split(coords, np.cumsum(counts)[:-1]) if counts else []
    assert line_keys(coords, np.array(counts, np.int64)) == [line_key(c) for c in parts]
