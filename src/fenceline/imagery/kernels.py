"""Compiled (numba) kernels for the hot loops of detection, with the numpy code as reference.

Each kernel computes what a numpy path in :mod:`~fenceline.imagery.detect`,
:mod:`~fenceline.imagery.linear` or :mod:`~fenceline.imagery.coregister` computes, in one
sweep over a tile instead of many whole-array passes; ``tests/imagery/test_fast_paths.py``
checks each against its reference. The float32 operations are done in the order numpy does
them, so the change map is the same to the last bit and the candidates are the same.

numba is part of the ``imagery`` extra. Without it this module does not import, and with
``FENCELINE_NUMBA=0`` :func:`enabled` is False: either way detection runs the numpy code. Compiled kernels are cached on
disk (numba's ``cache=True``: next to this file, or, where that is not writable, under the
user's cache directory, ``~/.cache/numba``; ``NUMBA_CACHE_DIR`` overrides both), so a worker
process loads them (~0.4 s) instead of compiling them again (~8-10 s).

>>> import numpy as np
>>> labels, stats = label_components(np.array([[0, 2, 0, 0], [0, 0, 0, 0.7]], np.float32))
>>> labels.tolist(), stats[:, AREA].tolist(), stats[:, STRONG].tolist()
([[0, 1, 0, 0], [0, 0, 0, 2]], [1.0, 1.0], [1.0, 0.0])
"""

from __future__ import annotations

import math
import os
import time
from typing import Any, NamedTuple

import numba
import numpy as np

from fenceline.imagery.linear import zhang_suen_table
from fenceline.imagery.radiometry import _resampling, sigma_step

__all__ = [
    "AREA",
    "BOTTOM",
    "LEFT",
    "PEAK",
    "RIGHT",
    "STATS",
    "STRONG",
    "SUM",
    "TOP",
    "Components",
    "change_sweep",
    "component_lines",
    "corner_hulls",
    "enabled",
    "fill_holes",
    "high_pass",
    "label_components",
    "label_runs",
    "median",
    "median_deviation",
    "scale_cloud",
    "shift_and_gain",
    "spread",
    "strong_parts",
    "structure_corners",
    "structure_hulls",
    "thin",
    "trace_skeleton",
    "warm_up",
]

#: columns of :func:`label_components`' statistics: pixels, any pixel ``>= 1`` (0/1), sum of
#: the signed values, largest magnitude, bounding box (top, left, bottom, right: exclusive
#: ends), then sums of row, col, row², col², row·col (exact integers)
AREA, STRONG, SUM, PEAK, TOP, LEFT, BOTTOM, RIGHT = range(8)
STATS = 13


def enabled() -> bool:
    """Whether detection uses these kernels (``FENCELINE_NUMBA=0`` turns them off; the
    numpy code then runs).

    >>> isinstance(enabled(), bool)
    True
    """
    return os.environ.get("FENCELINE_NUMBA", "1").strip().lower() not in ("0", "false", "no", "off")


_jit = numba.njit(cache=True, nogil=True)

#: pixel types the tile kernels read as they are (others are converted to float32 first)
_NATIVE = (np.dtype(np.uint8), np.dtype(np.uint16), np.dtype(np.int16), np.dtype(np.float32))


def _pixels(image: np.ndarray) -> np.ndarray:
    """A tile for the kernels: 8 and 16-bit integers and float32 as they are (each pixel is
    made float32 where it is read, so the result is what float32 input gives), else float32.

    >>> import numpy as np
    >>> _pixels(np.zeros((2, 2), np.uint8)).dtype, _pixels(np.zeros((2, 2))).dtype
    (dtype('uint8'), dtype('float32'))
    """
    image = np.asarray(image)
    if image.dtype in _NATIVE:
        return np.ascontiguousarray(image)
    return np.ascontiguousarray(image, np.float32)


# ---------------------------------------------------------------------------------------
# medians (exact, by radix selection)

_SIGN_BIT = np.uint32(0x80000000)
_LOW_BITS = np.uint32(0x7FFFFFFF)
_ALL_BITS = np.uint32(0xFFFFFFFF)

# The loops over the values below take no branch per value (only the short scans of the
# 2048 counts do): a tile's σ sample is new data each time, and with branches on its signs or
# on which bin a value falls in (mispredicted about half the time) the same selection took
# three times as long.


@_jit
def _order_keys(values, keys):  # pragma: no cover - compiled
    """Each float32 as a uint32 whose order is the floats' order (NaN aside): positive
    floats with the sign bit set, negative ones with every bit flipped."""
    bits = values.view(np.uint32)
    for i in range(values.shape[0]):
        b = bits[i]
        keys[i] = b ^ (_SIGN_BIT | ((b >> 31) * _LOW_BITS))


@_jit
def _key_value(key, scratch):  # pragma: no cover - compiled
    """The float32 of an order key (:func:`_order_keys` undone); ``scratch``: one uint32."""
    scratch[0] = (key ^ _SIGN_BIT) if key & _SIGN_BIT else (key ^ _ALL_BITS)
    return scratch.view(np.float32)[0]


@_jit
def _select_key(keys, k, buf, hist):  # pragma: no cover - compiled
    """The ``k``-th smallest (0-based) of ``keys``, by its bits in three rounds (11, 11 and
    10 bits, highest first): count the values in each bin of the next bits among those that
    share the bits found so far, and keep the bin that holds the ``k``-th. ``buf``: scratch
    as long as ``keys``; ``hist``: 2048 counts."""
    n = keys.shape[0]
    hist[:] = 0
    for i in range(n):
        hist[keys[i] >> 21] += 1
    top = 0
    while k >= hist[top]:
        k -= hist[top]
        top += 1
    m = 0
    for i in range(n):  # those in the bin, kept (every value written, the count moved or not)
        v = keys[i]
        buf[m] = v
        m += (v >> 21) == top
    hist[:] = 0
    for i in range(m):
        hist[(buf[i] >> 10) & 2047] += 1
    mid = 0
    while k >= hist[mid]:
        k -= hist[mid]
        mid += 1
    kept = 0
    for i in range(m):
        v = buf[i]
        buf[kept] = v
        kept += ((v >> 10) & 2047) == mid
    hist[:1024] = 0
    for i in range(kept):
        hist[buf[i] & 1023] += 1
    low = 0
    while k >= hist[low]:
        k -= hist[low]
        low += 1
    return np.uint32((top << 21) | (mid << 10) | low)


@_jit
def _median_of(values, keys, buf, hist, scratch):  # pragma: no cover - compiled
    """``np.median`` of a float32 array without NaNs: its middle value, or the float32 mean
    of the two middle ones (the lower one is the largest value below the upper one, or the
    upper one itself where fewer than half the values lie below it)."""
    n = values.shape[0]
    _order_keys(values, keys)
    half = n // 2
    upper = _select_key(keys, half, buf, hist)
    if n % 2:
        return _key_value(upper, scratch)
    below = 0
    lower = np.uint32(0)
    for i in range(n):
        v = keys[i]
        under = v < upper
        below += under
        lower = max(lower, np.uint32(v * under))
    if below < half:
        lower = upper
    return (_key_value(lower, scratch) + _key_value(upper, scratch)) / np.float32(2.0)


@_jit
def _median_f32(values):  # pragma: no cover - compiled
    n = values.shape[0]
    keys, buf = np.empty(n, np.uint32), np.empty(n, np.uint32)
    return _median_of(values, keys, buf, np.empty(2048, np.int64), np.empty(1, np.uint32))


@_jit
def _mad_f32(values):  # pragma: no cover - compiled
    """The median of the values and the median of their absolute deviations from it."""
    n = values.shape[0]
    keys, buf = np.empty(n, np.uint32), np.empty(n, np.uint32)
    hist, scratch = np.empty(2048, np.int64), np.empty(1, np.uint32)
    middle = _median_of(values, keys, buf, hist, scratch)
    deviations = np.empty(n, np.float32)
    for i in range(n):
        deviations[i] = abs(values[i] - middle)
    return middle, _median_of(deviations, keys, buf, hist, scratch)


def median(values: np.ndarray) -> np.float32:
    """``np.median`` of a 1-D float32 array without NaNs (not empty): the same value, by
    radix selection on the floats' bits (a few passes over the values: robust σ's two
    medians of a tile's 49,000 sampled values take 0.15 ms, against 0.80 ms by numpy's
    partition; docs/imagery.md §5).

    >>> import numpy as np
    >>> float(median(np.array([3, -1, 2, 8], np.float32))), float(median(np.ones(3, np.float32)))
    (2.5, 1.0)
    """
    values = np.ascontiguousarray(values, np.float32)
    return np.float32(_median_f32(values))


def median_deviation(values: np.ndarray) -> tuple[np.float32, np.float32]:
    """:func:`median` of a 1-D float32 array without NaNs, and the median of the float32
    absolute deviations from it (``np.abs(values - median)``), in one compiled call.

    >>> import numpy as np
    >>> [float(v) for v in median_deviation(np.array([1, 2, 4, 10, 3], np.float32))]
    [3.0, 1.0]
    """
    values = np.ascontiguousarray(values, np.float32)
    middle, deviation = _mad_f32(values)
    return np.float32(middle), np.float32(deviation)


# ---------------------------------------------------------------------------------------
# change map


@_jit
def _shift_and_gain(image, dy, dx, gain, out):  # pragma: no cover - compiled
    h, w = image.shape
    fx, fy, g = np.float32(dx), np.float32(dy), np.float32(gain)
    row = np.empty(w, np.float32)
    nxt = np.empty(w, np.float32)
    _after_row(image, 0, fx, dx != 0, nxt)
    for r in range(h):
        row, nxt = nxt, row
        _aligned_row(image, r, fx, fy, g, dx != 0, dy != 0, row, nxt, out[r])


def shift_and_gain(image: np.ndarray, dy: float, dx: float, gain: float) -> np.ndarray:
    """``apply_subpixel_shift(image, dy, dx) * gain`` in one sweep (float32).

    >>> import numpy as np
    >>> ramp = np.tile(np.arange(5, dtype=np.float32), (3, 1))
    >>> shift_and_gain(ramp, 0.0, 0.25, 2.0)[0].tolist()
    [0.5, 2.5, 4.5, 6.5, 8.0]
    """
    data = np.ascontiguousarray(image, np.float32)
    if not (abs(dy) < 1e-3 and abs(dx) < 1e-3) and not (0 <= dy < 1 and 0 <= dx < 1):
        raise ValueError("sub-pixel shifts must be in [0, 1)")
    if abs(dy) < 1e-3 and abs(dx) < 1e-3:
        dy = dx = 0.0
    out = np.empty_like(data)
    if data.size:
        _shift_and_gain(data, float(dy), float(dx), float(gain), out)
    return out


@_jit
def _mirror(i, n):  # pragma: no cover - compiled
    if i < 0:
        return -i - 1
    if i >= n:
        return 2 * n - 1 - i
    return i


@_jit
def _find(parent, i):  # pragma: no cover - compiled
    root = i
    while parent[root] != root:
        root = parent[root]
    while parent[i] != root:  # path compression
        following = parent[i]
        parent[i] = root
        i = following
    return root


#: de Bruijn sequence and table for the index of a 64-bit word's lowest set bit
_DE_BRUIJN = np.uint64(0x03F79D71B4CB0A89)
_LOWEST_BIT = np.zeros(64, np.int64)
for _bit in range(64):
    _LOWEST_BIT[((1 << _bit) * 0x03F79D71B4CB0A89 & (2**64 - 1)) >> 58] = _bit
del _bit


@_jit
def _popcount(x):  # pragma: no cover - compiled
    """Set bits of a uint64 (SWAR)."""
    x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
    x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return (x * np.uint64(0x0101010101010101)) >> np.uint64(56)


@_jit
def _runs(strength, low):  # pragma: no cover - compiled
    """Runs of ``|strength| >= low`` along each row (first and last column, inclusive), in
    row-major order; the runs of row ``r`` are ``row_first[r] .. row_first[r + 1]``."""
    return _runs_outside(strength, low, np.zeros((0, 0), np.bool_), 1)


@_jit
def _clear_row(cloud, i, block, clear):  # pragma: no cover - compiled
    """``clear[c]``: 0 where column ``c`` is in a cell of row ``i`` of ``cloud`` that is
    marked, else 1 (cell by cell: no division per column)."""
    w = clear.shape[0]
    for k in range(cloud.shape[1]):
        value = np.uint8(0) if cloud[i, k] else np.uint8(1)
        for c in range(k * block, min((k + 1) * block, w)):
            clear[c] = value


@_jit
def _runs_outside(strength, low, cloud, block):  # pragma: no cover - compiled
    """:func:`_runs` of the pixels outside the ``block`` px cells that ``cloud`` marks (a
    grid; an empty one marks none).

    Each row's flags are set in one vectorised loop and packed 64 to a word (8 bytes of 0/1
    to 8 bits by one multiplication); the runs then come from the words' bit transitions,
    found lowest bit first, so the work follows the runs, not the pixels. The runs are
    counted first: arrays that grow inside a loop cost numba dearly."""
    h, w = strength.shape
    words = (w + 63) // 64
    flags = np.zeros(words * 64, np.uint8)  # past the width: 0, which ends a run there
    packed = flags.view(np.uint64)
    bits = np.empty((h, words), np.uint64)
    gather = np.uint64(0x0102040810204080)  # byte i (0 or 1) to bit 56 + i
    one, top = np.uint64(1), np.uint64(63)
    row_first = np.zeros(h + 1, np.int64)
    clouded = cloud.shape[0] > 0
    clear = np.ones(w, np.uint8)  # 0 in the columns of a cloud cell of this row's blocks
    n = 0
    for r in range(h):
        row_first[r] = n
        if clouded:
            if r % block == 0:
                _clear_row(cloud, r // block, block, clear)
            for c in range(w):
                flags[c] = np.uint8(abs(strength[r, c]) >= low) & clear[c]
        else:
            for c in range(w):
                flags[c] = abs(strength[r, c]) >= low
        carry = np.uint64(0)
        for q in range(words):
            m = np.uint64(0)
            for i in range(8):
                m |= ((packed[8 * q + i] * gather) >> np.uint64(56)) << np.uint64(8 * i)
            bits[r, q] = m
            n += _popcount(m & ~((m << one) | carry))  # pixels that start a run
            carry = m >> top
    row_first[h] = n
    run_row = np.empty(n, np.int64)
    run_lo = np.empty(n, np.int64)
    run_hi = np.empty(n, np.int64)
    for r in range(h):
        n = row_first[r]
        carry = np.uint64(0)
        start = -1
        for q in range(words):
            m = bits[r, q]
            change = m ^ ((m << one) | carry)  # where a run starts, or ended one pixel before
            carry = m >> top
            while change:
                lowest = change & (~change + one)
                c = 64 * q + _LOWEST_BIT[(lowest * _DE_BRUIJN) >> np.uint64(58)]
                change ^= lowest
                if start < 0:
                    start = c
                else:
                    run_row[n], run_lo[n], run_hi[n] = r, start, c - 1
                    n += 1
                    start = -1
        if start >= 0:  # a run to the row's end (a width a multiple of 64)
            run_row[n], run_lo[n], run_hi[n] = r, start, w - 1
    return run_row, run_lo, run_hi, row_first


@_jit
def _join(parent, row_first, lo, hi, reach):  # pragma: no cover - compiled
    """Union (in ``parent``, each set under its smallest run) of every run with the runs of
    the row above that it touches: columns at most ``reach`` apart (1: 8-connected, 0:
    4-connected). Runs as :func:`_runs` lists them, row by row, each row left to right."""
    for r in range(1, row_first.shape[0] - 1):
        i, i_end = row_first[r - 1], row_first[r]
        for j in range(row_first[r], row_first[r + 1]):
            while i < i_end and hi[i] < lo[j] - reach:
                i += 1
            k = i
            while k < i_end and lo[k] <= hi[j] + reach:
                a = _find(parent, k)
                b = _find(parent, j)
                if a != b:
                    parent[max(a, b)] = min(a, b)
                k += 1


@_jit
def _label(strength, low, high, scale, cloud, block):  # pragma: no cover - compiled
    run_row, run_lo, run_hi, row_first = _runs_outside(strength, low, cloud, block)
    return _components_of_runs(strength, high, scale, run_row, run_lo, run_hi, row_first)


@_jit
def _components_of_runs(
    strength, high, scale, run_row, run_lo, run_hi, row_first
):  # pragma: no cover - compiled
    """The 8-connected components of runs listed row-major (``row_first[r]`` the first run
    of row ``r``), numbered and measured as :func:`label_runs` returns them."""
    h, w = strength.shape
    n = run_row.shape[0]
    # union of runs that touch a run of the row above (8-connected: columns one apart)
    parent = np.arange(n)
    _join(parent, row_first, run_lo, run_hi, 1)
    # final labels in the order of each component's first pixel (as SciPy numbers them)
    final = np.zeros(n, np.int32)
    count = 0
    for j in range(n):
        root = _find(parent, j)
        if root == j:
            count += 1
            final[j] = count
        else:
            final[j] = final[root]
    stats = np.zeros((count, STATS), np.float64)
    for k in range(count):
        stats[k, TOP] = h
        stats[k, LEFT] = w
    sums = np.zeros((count, 5), np.int64)
    first = np.zeros(count + 1, np.int64)  # runs of component k: order[first[k]:first[k + 1]]
    for j in range(n):
        label = final[j]
        first[label] += 1
        k = label - 1
        r = run_row[j]
        lo, hi = run_lo[j], run_hi[j]
        length = hi - lo + 1
        stats[k, AREA] += length
        # the run's pixels in locals (a store to the table per pixel costs twice as much)
        total, peak, strong = stats[k, SUM], stats[k, PEAK], False
        for c in range(lo, hi + 1):
            value = strength[r, c] * scale  # the map's value (float32, as numpy scales it)
            magnitude = abs(value)
            strong |= magnitude >= high
            total += value
            if magnitude > peak:
                peak = magnitude
        stats[k, SUM] = total
        stats[k, PEAK] = peak
        if strong:
            stats[k, STRONG] = 1
        stats[k, TOP] = min(stats[k, TOP], r)
        stats[k, LEFT] = min(stats[k, LEFT], lo)
        stats[k, BOTTOM] = max(stats[k, BOTTOM], r + 1)
        stats[k, RIGHT] = max(stats[k, RIGHT], hi + 1)
        # exact integer sums of row, col, row^2, col^2 and row*col over the run
        col_sum = (lo + hi) * length // 2
        col_sq = hi * (hi + 1) * (2 * hi + 1) // 6 - (lo - 1) * lo * (2 * lo - 1) // 6
        sums[k, 0] += r * length
        sums[k, 1] += col_sum
        sums[k, 2] += r * r * length
        sums[k, 3] += col_sq
        sums[k, 4] += r * col_sum
    for k in range(count):
        for j in range(5):
            stats[k, 8 + j] = sums[k, j]
    # each component's runs together, still in row-major order (a counting sort)
    for k in range(count):
        first[k + 1] += first[k]
    order = np.empty(n, np.int64)
    at = first[:count].copy()
    for j in range(n):
        k = final[j] - 1
        order[at[k]] = j
        at[k] += 1
    return run_row, run_lo, run_hi, final, stats, first, order


class Components(NamedTuple):
    """8-connected components of a change map as runs along its rows (:func:`label_runs`).

    ``row``, ``lo``, ``hi``: each run's row and first and last column (inclusive), row-major;
    ``label``: its component (1, 2, ... in the order of each one's first pixel, as
    :func:`scipy.ndimage.label` numbers them); ``stats``: one row of :data:`STATS` statistics
    per component (label ``k`` in row ``k - 1``); ``order[first[k]:first[k + 1]]``: the runs
    of label ``k + 1``, row-major.
    """

    row: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    label: np.ndarray
    stats: np.ndarray
    first: np.ndarray
    order: np.ndarray

    def runs(self) -> tuple[np.ndarray, ...]:
        """What the compiled kernels take: the runs, each component's runs and the statistics."""
        stats = np.ascontiguousarray(self.stats, np.float64)
        return self.row, self.lo, self.hi, self.first, self.order, stats


def unscaled_level(level: float, scale: float) -> np.float32:
    """The least float32 ``x >= 0`` whose float32 product with ``scale`` (> 0) is at least
    ``level``: ``|x| >= unscaled_level(level, scale)`` exactly where ``|float32(x * scale)|
    >= level`` (rounding is monotone), so a map can be thresholded before it is scaled.

    >>> import numpy as np
    >>> t = unscaled_level(0.5, np.float32(1 / 3))
    >>> bool(t * np.float32(1 / 3) >= 0.5), bool(np.nextafter(t, np.float32(0)) * np.float32(1 / 3) < 0.5)
    (True, True)
    """
    level, scale = np.float32(level), np.float32(scale)
    if not scale > 0:
        raise ValueError("the scale must be positive")
    zero, up = np.float32(0.0), np.float32(np.inf)
    x = np.float32(level / scale)
    while x > zero and np.nextafter(x, zero) * scale >= level:
        x = np.nextafter(x, zero)
    while x * scale < level:
        x = np.nextafter(x, up)
    return x


def label_runs(
    strength: np.ndarray,
    low: float = 0.5,
    high: float = 1.0,
    *,
    scale: float = 1.0,
    cloud: np.ndarray | None = None,
    block: int = 8,
) -> Components:
    """8-connected components of ``|strength| >= low`` and their statistics, in one sweep,
    as runs (no image of labels: what follows works from the runs, in time that follows the
    changed pixels, not the map's area).

    With ``scale`` and ``cloud`` the map is ``strength * scale`` (float32), 0 in the
    ``block`` px cells that the grid ``cloud`` marks, as
    :meth:`~fenceline.imagery.detect.ClassicalDetector.change_aligned` makes it; it is
    labelled without being made (:func:`unscaled_level`), and only the statistics of the
    components' pixels are scaled.

    >>> import numpy as np
    >>> found = label_runs(np.array([[0, 2, 2, 0], [0, 0, 0, 0.7]], np.float32))
    >>> found.row.tolist(), found.lo.tolist(), found.hi.tolist(), found.label.tolist()
    ([0, 1], [1, 3], [2, 3], [1, 1])
    """
    data = np.ascontiguousarray(strength, np.float32)
    scale = np.float32(scale)
    threshold = np.float32(low) if scale == 1 else unscaled_level(low, scale)
    grid = np.zeros((0, 0), np.bool_) if cloud is None else np.ascontiguousarray(cloud, np.bool_)
    return Components(*_label(data, threshold, np.float32(high), scale, grid, int(block)))


@_jit
def _strong_runs(strength, scale, high, run_row, run_lo, run_hi, keep):  # pragma: no cover
    """The runs of ``|strength * scale| >= high`` within the runs ``j`` with ``keep[j]``
    (row-major, as they are), each with the index of the run it lies in: one pass, into
    arrays as long as the most such runs there can be (one per two pixels of a run)."""
    most = 0
    for j in range(run_row.shape[0]):
        if keep[j]:
            most += (run_hi[j] - run_lo[j] + 2) // 2
    row = np.empty(most, np.int64)
    lo = np.empty(most, np.int64)
    hi = np.empty(most, np.int64)
    within = np.empty(most, np.int64)
    n = 0
    for j in range(run_row.shape[0]):
        if keep[j]:
            r, inside = run_row[j], False
            for c in range(run_lo[j], run_hi[j] + 1):
                strong = abs(strength[r, c] * scale) >= high
                if strong:
                    if not inside:
                        row[n], lo[n], within[n] = r, c, j
                        n += 1
                    hi[n - 1] = c
                inside = strong
    return row[:n], lo[:n], hi[:n], within[:n]


def strong_parts(
    strength: np.ndarray,
    components: Components,
    labels: np.ndarray,
    high: float = 1.0,
    *,
    scale: float = 1.0,
) -> tuple[Components, np.ndarray]:
    """The 8-connected parts of the strong change (``|strength * scale| >= high``) within
    the components ``labels`` (of :func:`label_runs`, numbered from 1), as components of
    their own (:class:`Components`, numbered in the order of each one's first pixel, as
    :func:`scipy.ndimage.label` numbers them), and each part's component label. Only the
    components' runs are visited.

    >>> import numpy as np
    >>> s = np.array([[2, 0.6, 0.6, 2, 2], [0, 0, 0, 0, 0], [0.7, 3, 0, 0, 0]], np.float32)
    >>> parts, owner = strong_parts(s, label_runs(s), np.array([1, 2]))
    >>> parts.row.tolist(), parts.lo.tolist(), parts.hi.tolist(), owner.tolist()
    ([0, 0, 2], [0, 3, 1], [0, 4, 1], [1, 1, 2])
    """
    data = np.ascontiguousarray(strength, np.float32)
    chosen = np.zeros(len(components.stats) + 1, bool)
    chosen[np.asarray(labels, np.int64)] = True
    keep = chosen[components.label]
    scale, high = np.float32(scale), np.float32(high)
    row, lo, hi, within = _strong_runs(
        data, scale, high, components.row, components.lo, components.hi, keep
    )
    row_first = np.searchsorted(row, np.arange(data.shape[0] + 1)).astype(np.int64)
    parts = Components(*_components_of_runs(data, high, scale, row, lo, hi, row_first))
    # a part's runs all lie in one component: its first run's
    owner = components.label[within[parts.order[parts.first[:-1]]]].astype(np.int64)
    return parts, owner


@_jit
def _paint(shape, row, lo, hi, label):  # pragma: no cover - compiled
    labels = np.zeros(shape, np.int32)
    for j in range(row.shape[0]):
        for c in range(lo[j], hi[j] + 1):
            labels[row[j], c] = label[j]
    return labels


def label_components(
    strength: np.ndarray, low: float = 0.5, high: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`label_runs` as an image of labels (int32, 0 outside, numbered as
    :func:`scipy.ndimage.label` numbers them) and the statistics."""
    found = label_runs(strength, low, high)
    labels = _paint(np.shape(strength), found.row, found.lo, found.hi, found.label)
    return labels, found.stats


def spread(stats: np.ndarray) -> tuple[Any, Any]:
    """Standard deviations along the major and minor axes of components, from their exact
    sums (what ``detect._spread`` computes from their pixels): one row of statistics gives two
    floats, several rows two arrays.

    >>> import numpy as np
    >>> _, stats = label_components(np.ones((1, 9), np.float32))
    >>> [round(v, 3) for v in spread(stats[0])]
    [2.739, 0.001]
    """
    rows = np.atleast_2d(np.asarray(stats, np.float64))
    major, minor = _spread_rows(np.ascontiguousarray(rows))
    if np.ndim(stats) == 1:
        return float(major[0]), float(minor[0])
    return major, minor


@_jit
def _spread_rows(rows):  # pragma: no cover - compiled
    """:func:`spread` of each row: the same float64 operations in the same order as the
    covariance's closed form in numpy (one call, not ~15 array operations)."""
    m = rows.shape[0]
    major = np.empty(m, np.float64)
    minor = np.empty(m, np.float64)
    for k in range(m):
        n = rows[k, AREA]
        if n <= 2:
            major[k] = minor[k] = 1.0
            continue
        sr, sc, srr, scc, src = rows[k, 8], rows[k, 9], rows[k, 10], rows[k, 11], rows[k, 12]
        a = (srr - sr * sr / n) / (n - 1)
        d = (scc - sc * sc / n) / (n - 1)
        b = (src - sr * sc / n) / (n - 1)
        mid = (a + d) / 2
        half = (a - d) / 2
        radius = np.sqrt(max(0.0, half * half + b * b))
        major[k] = np.sqrt(max(mid + radius, 1e-6))
        minor[k] = np.sqrt(max(mid - radius, 1e-6))
    return major, minor


def warm_up() -> float:
    """Compile (or load from the cache) every kernel on a small input; returns the seconds
    it took (the one-off cost of a process, which benchmarks report apart).

    >>> warm_up() >= 0
    True
    """
    start = time.perf_counter()
    rng = np.random.default_rng(0)
    image = rng.normal(0, 1, (24, 24)).astype(np.float32)
    shift_and_gain(image, 0.5, 0.5, 1.0)
    *_, diff, _ = change_sweep(image, image, (0.5, 0.5), 1.0)
    high_pass(image, 15)
    components = label_runs(image)
    label_runs(image, scale=0.5, cloud=np.zeros((3, 3), bool))
    label_components(image)
    strong = np.flatnonzero(components.stats[:, STRONG] > 0)
    points, owner, _ = structure_corners(image, components, strong)
    corner_hulls(points, owner, len(strong))
    structure_hulls(image, components, strong, 2)
    strong_parts(image, components, np.arange(1, len(components.stats) + 1))
    spread(components.stats)
    component_lines(components, np.arange(len(components.stats)))
    trace_skeleton(thin(fill_holes(image > 0)))
    pixels = (image * 10 + 100).astype(np.uint8)  # 8-bit tiles, as most imagery is read
    change_sweep(pixels, pixels, (0.5, 0.5), 1.0)
    scale_cloud(diff, 1.0, np.zeros((3, 3), bool))
    median(diff.ravel())
    median_deviation(diff.ravel()[:-1])
    return time.perf_counter() - start


@_jit
def _fill_runs(lo, hi, row_first, h, w, image):  # pragma: no cover - compiled
    """Holes of a mask given as its runs (``lo``, ``hi`` inclusive, row by row as
    ``row_first`` says, in a ``h`` x ``w`` window), filled: the mask and its holes set to 1
    in ``image``, the window padded by one pixel on each side. Returns the set pixels as
    runs, row-major (each row left to right), and their number.

    The background's runs are the gaps between the mask's runs; they are joined to the gaps
    they touch on the row above (4-connected: sharing a column), and a group with a gap on
    the window's edge is outside: every other group is a hole."""
    gap_row = np.empty(row_first[h] + h, np.int64)
    gap_lo = np.empty(row_first[h] + h, np.int64)
    gap_hi = np.empty(row_first[h] + h, np.int64)
    gap_first = np.zeros(h + 1, np.int64)
    g = 0
    for r in range(h):
        gap_first[r] = g
        c = 0
        for j in range(row_first[r], row_first[r + 1]):
            if lo[j] > c:
                gap_row[g], gap_lo[g], gap_hi[g] = r, c, lo[j] - 1
                g += 1
            c = hi[j] + 1
        if c < w:
            gap_row[g], gap_lo[g], gap_hi[g] = r, c, w - 1
            g += 1
    gap_first[h] = g
    parent = np.arange(g)
    _join(parent, gap_first, gap_lo, gap_hi, 0)  # 4-connected: sharing a column
    outside = np.zeros(g, np.bool_)
    for j in range(g):
        if gap_row[j] == 0 or gap_row[j] == h - 1 or gap_lo[j] == 0 or gap_hi[j] == w - 1:
            outside[_find(parent, j)] = True
    # the mask's runs and the holes between them, in the order of their columns
    spans = row_first[h] + g
    span_row = np.empty(spans, np.int64)
    span_lo = np.empty(spans, np.int64)
    span_hi = np.empty(spans, np.int64)
    n = 0
    total = 0
    for r in range(h):
        j, j_end = row_first[r], row_first[r + 1]
        q, q_end = gap_first[r], gap_first[r + 1]
        while j < j_end or q < q_end:
            if q >= q_end or (j < j_end and lo[j] < gap_lo[q]):
                a, b = lo[j], hi[j]
                j += 1
            else:
                a, b = gap_lo[q], gap_hi[q]
                hole = not outside[_find(parent, q)]
                q += 1
                if not hole:
                    continue
            span_row[n], span_lo[n], span_hi[n] = r, a, b
            n += 1
            total += b - a + 1
            for c in range(a, b + 1):
                image[r + 1, c + 1] = 1
    return span_row[:n], span_lo[:n], span_hi[:n], total


@_jit
def _fill_holes(mask):  # pragma: no cover - compiled
    h, w = mask.shape
    _, lo, hi, row_first = _runs(mask, np.uint8(1))
    image = np.zeros((h + 2, w + 2), np.uint8)
    _fill_runs(lo, hi, row_first, h, w, image)
    return image[1 : h + 1, 1 : w + 1] == 1


def fill_holes(mask: np.ndarray) -> np.ndarray:
    """SciPy's ``binary_fill_holes`` (4-connected background), by runs of background: the
    work follows the runs, not the window's area.

    >>> import numpy as np
    >>> ring = np.ones((3, 3), bool)
    >>> ring[1, 1] = False
    >>> bool(fill_holes(ring).all())
    True
    """
    mask = np.ascontiguousarray(mask, np.bool_)
    if mask.size == 0:
        return mask.copy()
    return _fill_holes(mask.view(np.uint8))


@_jit
def _after_row(after, r, fx, shifted_x, out):  # pragma: no cover - compiled
    """Row ``r`` of the after image shifted along x (when ``shifted_x``), into ``out``."""
    w = after.shape[1]
    if not shifted_x:
        for c in range(w):
            out[c] = np.float32(after[r, c])
        return
    for c in range(w - 1):
        x = np.float32(after[r, c])
        out[c] = x + (np.float32(after[r, c + 1]) - x) * fx
    out[w - 1] = np.float32(after[r, w - 1])  # the last column has no right neighbour


@_jit
def _aligned_row(after, r, fx, fy, g, shifted_x, shifted_y, row, nxt, out):  # pragma: no cover
    """Row ``r`` of the after image as :func:`shift_and_gain` makes it (shifted along x, then
    along y, times the gain), into ``out``. ``row`` holds row ``r`` shifted along x already;
    ``nxt`` receives row ``r + 1`` shifted along x, for the caller to swap in."""
    w = row.shape[0]
    if r + 1 < after.shape[0]:
        _after_row(after, r + 1, fx, shifted_x, nxt)
        if shifted_y:
            for c in range(w):
                out[c] = (row[c] + (nxt[c] - row[c]) * fy) * g
            return
    for c in range(w):
        out[c] = row[c] * g


@_jit
def _contrast_row(before, r, sa, cols_b, cols_a, lr, fr, d, e, k):  # pragma: no cover
    """Row ``r`` of the high-passed difference (``d``) and change of contrast (``e``), into
    row ``k`` of each, from the after image's aligned row ``sa`` and the backgrounds: the
    column-upsampled grid rows ``lr`` and ``lr + 1`` (none past the last), ``fr`` of the way."""
    w = sa.shape[0]
    last = cols_b.shape[0] - 1
    for c in range(w):
        gb = cols_b[lr, c]
        ga = cols_a[lr, c]
        if lr < last:
            gb = gb + (cols_b[lr + 1, c] - gb) * fr
            ga = ga + (cols_a[lr + 1, c] - ga) * fr
        hb = np.float32(before[r, c]) - gb
        ha = sa[c] - ga
        d[k, c] = ha - hb
        e[k, c] = abs(ha) - abs(hb)


@_jit
def _gather(out, o, step, sample, taken):  # pragma: no cover - compiled
    """Every ``step``-th value of the map in row-major order, from its row ``o``, after the
    ``taken`` values gathered so far; returns how many are gathered now."""
    w = out.shape[0]
    for c in range(taken * step - o * w, w, step):
        sample[taken] = out[c]
        taken += 1
    return taken


#: rows of the sweep's rings of d and e (a row of the map needs its input rows -2 .. +2)
_RING = 8


@_jit
def _reflect(i, n):  # pragma: no cover - compiled
    """SciPy's ``reflect`` extension (d c b a | a b c d | d c b a) at any distance."""
    if n == 1:
        return 0
    i = i % (2 * n)
    return i if i < n else 2 * n - 1 - i


@_jit
def _running_mean_down(x, size, out):  # pragma: no cover - compiled
    """SciPy's ``uniform_filter1d(x, size, axis=0, mode="reflect")``, odd size: a running
    sum in float64 down each column, each output the sum divided by ``size``, as float32."""
    h, w = x.shape
    half = size // 2
    total = np.zeros(w, np.float64)
    for j in range(-half, half + 1):
        rj = _reflect(j, h)
        for c in range(w):
            total[c] += np.float64(x[rj, c])
    for c in range(w):
        out[0, c] = np.float32(total[c] / size)
    for r in range(1, h):
        add = _reflect(r + half, h)
        drop = _reflect(r - half - 1, h)
        for c in range(w):
            total[c] += np.float64(x[add, c]) - np.float64(x[drop, c])
            out[r, c] = np.float32(total[c] / size)


@_jit
def _high_pass(data, size):  # pragma: no cover - compiled
    a = np.empty_like(data)
    b = np.empty_like(data)
    h, w = data.shape
    t = np.empty((w, h), np.float32)
    u = np.empty((w, h), np.float32)
    # along rows as down the columns of the transposed image (the same sums, vectorised)
    _running_mean_down(data, size, a)
    t[:] = a.T
    _running_mean_down(t, size, u)
    b[:] = u.T
    _running_mean_down(b, size, a)
    t[:] = a.T
    _running_mean_down(t, size, u)
    b[:] = u.T
    for r in range(h):
        for c in range(w):
            b[r, c] = data[r, c] - b[r, c]
    return b


def high_pass(image: np.ndarray, size: int = 31) -> np.ndarray:
    """:func:`~fenceline.imagery.radiometry.high_pass` of a 2-D image (minus two passes of an
    odd ``size`` box mean, edges reflected), SciPy's running sums reproduced step for step.

    >>> import numpy as np
    >>> float(np.abs(high_pass(np.full((40, 40), 7, np.float32), 15)).max())
    0.0
    """
    if size % 2 != 1:
        raise ValueError("box size must be odd")
    data = np.ascontiguousarray(image, np.float32)
    if data.ndim != 2 or data.size == 0:
        raise ValueError("high_pass needs a non-empty 2-D image")
    return _high_pass(data, int(size))


# ---------------------------------------------------------------------------------------
# vectorisation: structure outlines and skeleton tracing


@_jit
def _structure_corners(
    strength, scale, run_row, run_lo, run_hi, first, order, stats, indices
):  # pragma: no cover - compiled
    m = indices.shape[0]
    core_px = np.zeros(m, np.int64)
    total = 0
    for i in range(m):
        k = indices[i]
        total += 4 * int(stats[k, BOTTOM] - stats[k, TOP])
    xs = np.empty(total, np.float64)
    ys = np.empty(total, np.float64)
    owner = np.empty(total, np.int64)
    n = 0
    for i in range(m):
        k = indices[i]
        # the strong part: what numpy computes as |window| >= float32(max(1, 0.4 * peak))
        level = np.float32(max(1.0, 0.4 * np.float64(np.float32(stats[k, PEAK]))))
        height = int(stats[k, BOTTOM] - stats[k, TOP])
        rows = np.empty(height, np.int64)
        lo = np.empty(height, np.int64)
        hi = np.empty(height, np.int64)
        count = 0
        nrows = 0
        # the component's runs, row by row (each row's runs left to right)
        for t in range(first[k], first[k + 1]):
            j = order[t]
            r = run_row[j]
            if nrows == 0 or rows[nrows - 1] != r:
                rows[nrows], lo[nrows], hi[nrows] = r, -1, -1
                nrows += 1
            at = nrows - 1
            for c in range(run_lo[j], run_hi[j] + 1):
                if abs(strength[r, c] * scale) >= level:
                    if lo[at] < 0:
                        lo[at] = c
                    hi[at] = c
                    count += 1
        core_px[i] = count
        kept = 0  # rows with a strong pixel
        for j in range(nrows):
            if lo[j] >= 0:
                rows[kept], lo[kept], hi[kept] = rows[j], lo[j], hi[j]
                kept += 1
        # each row's first and last pixel's corners, in the order detect._polygon lists them
        for j in range(kept):
            xs[n + j], ys[n + j] = lo[j], rows[j]
            xs[n + kept + j], ys[n + kept + j] = lo[j], rows[j] + 1
            xs[n + 2 * kept + j], ys[n + 2 * kept + j] = hi[j] + 1, rows[j]
            xs[n + 3 * kept + j], ys[n + 3 * kept + j] = hi[j] + 1, rows[j] + 1
        for j in range(4 * kept):
            owner[n + j] = i
        n += 4 * kept
    return xs[:n], ys[:n], owner[:n], core_px


def structure_corners(
    strength: np.ndarray, components: Components, indices: np.ndarray, scale: float = 1.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Outline points of structure components, for one convex hull each.

    For each component ``indices[i]`` (a row of :func:`label_runs`' statistics): its strong
    part (pixels with ``|strength| >= max(1, 0.4 * peak)``), each row's first and last
    pixel's corners, as ``detect._polygon`` takes them. Returns the points (``(n, 2)``,
    x = col, y = row), the index ``i`` that owns each point, and each component's number of
    strong-part pixels. Only the component's runs are visited. The map is ``strength *
    scale`` (float32), as :func:`label_runs` takes it.

    >>> import numpy as np
    >>> s = np.zeros((4, 5), np.float32)
    >>> s[1:3, 1:4] = 2
    >>> points, owner, core = structure_corners(s, label_runs(s), np.array([0]))
    >>> points.min(axis=0).tolist(), points.max(axis=0).tolist(), core.tolist()
    ([1.0, 1.0], [4.0, 3.0], [6])
    """
    xs, ys, owner, core = _structure_corners(
        np.ascontiguousarray(strength, np.float32),
        np.float32(scale),
        *components.runs(),
        np.ascontiguousarray(indices, np.int64),
    )
    return np.column_stack([xs, ys]), owner, core


@_jit
def _other_end(la, lb, link, node):  # pragma: no cover - compiled
    return lb[link] if la[link] == node else la[link]


@_jit
def _walk(adj, deg, la, lb, length, active, visited, start, link, seq, n_seq):  # pragma: no cover
    """Follow links from ``start`` through nodes of degree 2; append the nodes to ``seq``.
    Returns the new ``n_seq`` and the path's length."""
    seq[n_seq] = start
    n_seq += 1
    total = 0.0
    cur = start
    while True:
        visited[link] = True
        total += length[link]
        cur = _other_end(la, lb, link, cur)
        seq[n_seq] = cur
        n_seq += 1
        if deg[cur] != 2 or cur == start:
            break
        nxt = -1
        for j in range(8):
            other = adj[cur, j]
            if other >= 0 and active[other] and not visited[other]:
                nxt = other
                break
        if nxt < 0:
            break
        link = nxt
    return n_seq, total


@_jit
def _merge(
    adj, deg, la, lb, length, active, n_nodes, seq, part_start, part_len
):  # pragma: no cover
    """Merge the active links into maximal paths (nodes of degree 2 are interior), as GEOS's
    LineMerger merges segments; closed paths (rings) too. Returns the number of parts."""
    m = la.shape[0]
    visited = np.zeros(m, np.bool_)
    n_seq = 0
    parts = 0
    for v in range(n_nodes):
        if deg[v] == 2 or deg[v] == 0:
            continue
        for j in range(8):
            link = adj[v, j]
            if link < 0 or not active[link] or visited[link]:
                continue
            part_start[parts] = n_seq
            n_seq, total = _walk(adj, deg, la, lb, length, active, visited, v, link, seq, n_seq)
            part_len[parts] = total
            parts += 1
    for link in range(m):  # what is left are rings of nodes of degree 2
        if not active[link] or visited[link]:
            continue
        part_start[parts] = n_seq
        n_seq, total = _walk(adj, deg, la, lb, length, active, visited, la[link], link, seq, n_seq)
        part_len[parts] = total
        parts += 1
    part_start[parts] = n_seq
    return parts


@_jit
def _trace_nodes(image, span_row, span_lo, span_hi, spur_px, rounds):  # pragma: no cover
    """:func:`trace_skeleton` of the skeleton set in ``image`` (a window padded by one
    pixel on each side), whose pixels all lie in the runs ``span_*`` (row-major, each row
    left to right): only those are visited."""
    h, w = image.shape[0] - 2, image.shape[1] - 2
    # node numbers in row-major order, written (and read) only where the skeleton is set
    node = np.empty((h + 2, w + 2), np.int32)
    n = 0
    for j in range(span_row.shape[0]):
        for c in range(span_lo[j], span_hi[j] + 1):
            n += image[span_row[j] + 1, c + 1]
    rr = np.empty(n, np.int64)
    cc = np.empty(n, np.int64)
    n = 0
    for j in range(span_row.shape[0]):
        r = span_row[j]
        for c in range(span_lo[j], span_hi[j] + 1):
            if image[r + 1, c + 1]:
                node[r + 1, c + 1] = n
                rr[n] = r
                cc[n] = c
                n += 1
    # links as in skeleton_segments: right, down, and diagonals with no 4-connected path
    la = np.empty(4 * n, np.int64)
    lb = np.empty(4 * n, np.int64)
    length = np.empty(4 * n, np.float64)
    m = 0
    diagonal = math.sqrt(2.0)
    for i in range(n):
        r, c = rr[i], cc[i]
        for dr, dc in ((0, 1), (1, 0), (1, 1), (1, -1)):
            r2, c2 = r + dr, c + dc
            if not image[r2 + 1, c2 + 1]:  # past the window: the padding, unset
                continue
            if dr and dc and (image[r2 + 1, c + 1] or image[r + 1, c2 + 1]):
                continue
            la[m] = i
            lb[m] = node[r2 + 1, c2 + 1]
            length[m] = diagonal if (dr and dc) else 1.0
            m += 1
    la, lb, length = la[:m], lb[:m], length[:m]
    adj = np.full((n, 8), -1, np.int64)
    deg = np.zeros(n, np.int64)
    for link in range(m):
        for v in (la[link], lb[link]):
            adj[v, deg[v]] = link
            deg[v] += 1
    active = np.ones(m, np.bool_)
    seq = np.empty(2 * m + 1, np.int64)
    part_start = np.empty(m + 1, np.int64)
    part_len = np.empty(m + 1, np.float64)
    parts = _merge(adj, deg, la, lb, length, active, n, seq, part_start, part_len)
    for _round in range(rounds):
        if parts < 2:
            break
        # a spur: shorter than spur_px with a free end (an end no other part meets)
        keep = np.empty(parts, np.bool_)
        for p in range(parts):
            a = seq[part_start[p]]
            b = seq[part_start[p + 1] - 1]
            keep[p] = part_len[p] >= spur_px or (deg[a] > 1 and deg[b] > 1)
        if keep.all():
            break
        if not keep.any():
            parts = 0
            break
        for p in range(parts):
            if keep[p]:
                continue
            for q in range(part_start[p], part_start[p + 1] - 1):
                u, v = seq[q], seq[q + 1]
                for j in range(8):
                    link = adj[u, j]
                    if link >= 0 and active[link] and _other_end(la, lb, link, u) == v:
                        active[link] = False
                        deg[u] -= 1
                        deg[v] -= 1
                        break
        parts = _merge(adj, deg, la, lb, length, active, n, seq, part_start, part_len)
    total = part_start[parts] if parts > 0 else 0
    xy = np.empty((total, 2), np.float64)
    owner = np.empty(total, np.int64)
    for p in range(parts):
        for q in range(part_start[p], part_start[p + 1]):
            xy[q, 0] = cc[seq[q]] + 0.5
            xy[q, 1] = rr[seq[q]] + 0.5
            owner[q] = p
    return xy, owner


def trace_skeleton(
    skeleton: np.ndarray, spur_px: float = 8.0, rounds: int = 3
) -> tuple[np.ndarray, np.ndarray]:
    """Lines through a skeleton's pixel centres, before simplification: what
    :func:`~fenceline.imagery.linear.skeleton_lines` builds with GEOS (segments between linked
    pixels merged into maximal lines, spurs shorter than ``spur_px`` with a free end pruned and
    the rest merged again, up to ``rounds`` times), as vertices (``(n, 2)``, x = col + 0.5,
    y = row + 0.5) and the index of the line each belongs to.

    >>> import numpy as np
    >>> plus = np.zeros((3, 3), bool)
    >>> plus[1, :] = plus[:, 1] = True
    >>> xy, owner = trace_skeleton(plus, spur_px=0)
    >>> int(owner.max()) + 1, len(xy)
    (4, 8)
    """
    mask = np.ascontiguousarray(skeleton, np.bool_)
    if mask.ndim != 2 or mask.size == 0:
        return np.empty((0, 2)), np.empty(0, np.int64)
    image = np.pad(mask.view(np.uint8), 1)
    row, lo, hi, _ = _runs(mask.view(np.uint8), np.uint8(1))
    return _trace_nodes(image, row, lo, hi, float(spur_px), int(rounds))


# ---------------------------------------------------------------------------------------
# the change map's block grids: block means, their 5 x 5 median, resampled along columns


def _median_network(n: int = 25) -> np.ndarray:
    """Compare-exchange pairs that put the median of ``n`` values in position ``n // 2``:
    Batcher's odd-even merge sort on the next power of two, without the pairs that touch the
    (absent, +inf) padding, and only the pairs that the median depends on."""

    def merge(lo: int, hi: int, r: int):
        step = 2 * r
        if step < hi - lo:
            yield from merge(lo, hi, step)
            yield from merge(lo + r, hi, step)
            yield from ((i, i + r) for i in range(lo + r, hi - r, step))
        else:
            yield lo, lo + r

    def sort(lo: int, hi: int):
        if hi - lo >= 1:
            mid = lo + (hi - lo) // 2
            yield from sort(lo, mid)
            yield from sort(mid + 1, hi)
            yield from merge(lo, hi, 1)

    size = 1 << (n - 1).bit_length()
    pairs = [p for p in sort(0, size - 1) if p[1] < n]
    needed, kept = {n // 2}, []
    for i, j in reversed(pairs):
        if i in needed or j in needed:
            kept.append((i, j))
            needed |= {i, j}
    return np.array(kept[::-1], np.int64)


def _median_source(network: np.ndarray) -> str:
    """The compare-exchange lines of :func:`_median_row`, one per pair of ``network``: the
    network written out, so that the compiler keeps the 25 values of a cell in registers and
    runs the cells of a row side by side (7x faster than looping over the pairs at run time).
    ``tests/imagery/test_fast_paths.py`` checks that the source holds exactly these lines.
    """
    return "".join(f"        v{i}, v{j} = _exchange(v{i}, v{j})\n" for i, j in network)


@numba.njit(inline="always")
def _exchange(x, y):  # pragma: no cover - compiled
    return (x, y) if x < y else (y, x)


@_jit
def _grid_from_sums(acc, w, block, rows_in, out, i):  # pragma: no cover - compiled
    """Row ``i`` of the block means: sums along the row, in order, over ``rows_in`` rows."""
    wb = out.shape[1]
    zero = np.float32(0.0)
    full = w // block  # cells with all their columns: no test per column
    if block == 8:  # the detector's block, written out (a loop over 8 left a test per add)
        for k in range(full):
            c0 = 8 * k
            s = acc[c0] + acc[c0 + 1]
            s += acc[c0 + 2]
            s += acc[c0 + 3]
            s += acc[c0 + 4]
            s += acc[c0 + 5]
            s += acc[c0 + 6]
            s += acc[c0 + 7]
            out[i, k] = s / np.float32(rows_in * 8)
    else:
        for k in range(full):
            c0 = k * block
            s = acc[c0]
            for j in range(1, block):
                s += acc[c0 + j]
            out[i, k] = s / np.float32(rows_in * block)
    for k in range(full, wb):  # a partial last cell: the missing columns add zeros, as numpy pads
        c0 = k * block
        s = acc[c0]
        for j in range(1, block):
            s += acc[c0 + j] if c0 + j < w else zero
        out[i, k] = s / np.float32(rows_in * (w - c0))


@_jit
def _add_rows(acc_b, acc_a, before, r, sa, j, block, h):  # pragma: no cover - compiled
    """Row ``r`` of both images (the after image's aligned row ``sa``) into the sums of the
    rows of its block, ``j`` of them before it; on the image's last row, a partial block's
    missing rows add zeros, as numpy pads."""
    w = sa.shape[0]
    if j == 0:
        for c in range(w):
            acc_a[c] = sa[c]
            acc_b[c] = np.float32(before[r, c])
    else:
        for c in range(w):
            acc_a[c] += sa[c]
            acc_b[c] += np.float32(before[r, c])
    if r == h - 1:
        zero = np.float32(0.0)
        for _ in range(j + 1, block):
            for c in range(w):
                acc_b[c] += zero
                acc_a[c] += zero


@_jit
def _block_means(acc_b, acc_a, w, block, h, i, means_b, means_a):  # pragma: no cover
    """Row ``i`` of both images' block means, from their rows' sums."""
    rows_in = min(block, h - i * block)
    _grid_from_sums(acc_b, w, block, rows_in, means_b, i)
    _grid_from_sums(acc_a, w, block, rows_in, means_a, i)


@_jit
def _pad_row(grid, padded, i):  # pragma: no cover - compiled
    """Row ``i`` of ``grid`` into ``padded`` (2 cells more on each side, edges repeated): its
    row ``i + 2``, and the two rows beyond an edge when ``i`` is the first or last row."""
    hb, wb = grid.shape
    for r in range(i + 2 if i > 0 else 0, i + 3 if i < hb - 1 else hb + 4):
        for j in range(wb + 4):
            padded[r, j] = grid[i, min(max(j - 2, 0), wb - 1)]


@_jit
def _median_row(padded, out, i):  # pragma: no cover - compiled
    """Row ``i`` of the 5 x 5 median from the padded grid (:func:`_pad_row`'s rows ``i`` to
    ``i + 4``): each cell's 25 neighbours through the compare-exchange network of
    :func:`_median_network`."""
    wb = out.shape[1]
    p0, p1, p2, p3, p4 = padded[i], padded[i + 1], padded[i + 2], padded[i + 3], padded[i + 4]
    row = out[i]
    for j in range(wb):
        v0, v1, v2, v3, v4 = p0[j + 0], p0[j + 1], p0[j + 2], p0[j + 3], p0[j + 4]
        v5, v6, v7, v8, v9 = p1[j + 0], p1[j + 1], p1[j + 2], p1[j + 3], p1[j + 4]
        v10, v11, v12, v13, v14 = p2[j + 0], p2[j + 1], p2[j + 2], p2[j + 3], p2[j + 4]
        v15, v16, v17, v18, v19 = p3[j + 0], p3[j + 1], p3[j + 2], p3[j + 3], p3[j + 4]
        v20, v21, v22, v23, v24 = p4[j + 0], p4[j + 1], p4[j + 2], p4[j + 3], p4[j + 4]
        # the network (_median_source(_median_network(25)))
        v0, v1 = _exchange(v0, v1)
        v2, v3 = _exchange(v2, v3)
        v0, v2 = _exchange(v0, v2)
        v1, v3 = _exchange(v1, v3)
        v1, v2 = _exchange(v1, v2)
        v4, v5 = _exchange(v4, v5)
        v6, v7 = _exchange(v6, v7)
        v4, v6 = _exchange(v4, v6)
        v5, v7 = _exchange(v5, v7)
        v5, v6 = _exchange(v5, v6)
        v0, v4 = _exchange(v0, v4)
        v2, v6 = _exchange(v2, v6)
        v2, v4 = _exchange(v2, v4)
        v1, v5 = _exchange(v1, v5)
        v3, v7 = _exchange(v3, v7)
        v3, v5 = _exchange(v3, v5)
        v1, v2 = _exchange(v1, v2)
        v3, v4 = _exchange(v3, v4)
        v5, v6 = _exchange(v5, v6)
        v8, v9 = _exchange(v8, v9)
        v10, v11 = _exchange(v10, v11)
        v8, v10 = _exchange(v8, v10)
        v9, v11 = _exchange(v9, v11)
        v9, v10 = _exchange(v9, v10)
        v12, v13 = _exchange(v12, v13)
        v14, v15 = _exchange(v14, v15)
        v12, v14 = _exchange(v12, v14)
        v13, v15 = _exchange(v13, v15)
        v13, v14 = _exchange(v13, v14)
        v8, v12 = _exchange(v8, v12)
        v10, v14 = _exchange(v10, v14)
        v10, v12 = _exchange(v10, v12)
        v9, v13 = _exchange(v9, v13)
        v11, v15 = _exchange(v11, v15)
        v11, v13 = _exchange(v11, v13)
        v9, v10 = _exchange(v9, v10)
        v11, v12 = _exchange(v11, v12)
        v13, v14 = _exchange(v13, v14)
        v0, v8 = _exchange(v0, v8)
        v4, v12 = _exchange(v4, v12)
        v4, v8 = _exchange(v4, v8)
        v2, v10 = _exchange(v2, v10)
        v6, v14 = _exchange(v6, v14)
        v6, v10 = _exchange(v6, v10)
        v2, v4 = _exchange(v2, v4)
        v6, v8 = _exchange(v6, v8)
        v10, v12 = _exchange(v10, v12)
        v1, v9 = _exchange(v1, v9)
        v5, v13 = _exchange(v5, v13)
        v5, v9 = _exchange(v5, v9)
        v3, v11 = _exchange(v3, v11)
        v7, v15 = _exchange(v7, v15)
        v7, v11 = _exchange(v7, v11)
        v3, v5 = _exchange(v3, v5)
        v7, v9 = _exchange(v7, v9)
        v11, v13 = _exchange(v11, v13)
        v1, v2 = _exchange(v1, v2)
        v3, v4 = _exchange(v3, v4)
        v5, v6 = _exchange(v5, v6)
        v7, v8 = _exchange(v7, v8)
        v9, v10 = _exchange(v9, v10)
        v11, v12 = _exchange(v11, v12)
        v13, v14 = _exchange(v13, v14)
        v16, v17 = _exchange(v16, v17)
        v18, v19 = _exchange(v18, v19)
        v16, v18 = _exchange(v16, v18)
        v17, v19 = _exchange(v17, v19)
        v17, v18 = _exchange(v17, v18)
        v20, v21 = _exchange(v20, v21)
        v22, v23 = _exchange(v22, v23)
        v20, v22 = _exchange(v20, v22)
        v21, v23 = _exchange(v21, v23)
        v21, v22 = _exchange(v21, v22)
        v16, v20 = _exchange(v16, v20)
        v18, v22 = _exchange(v18, v22)
        v18, v20 = _exchange(v18, v20)
        v17, v21 = _exchange(v17, v21)
        v19, v23 = _exchange(v19, v23)
        v19, v21 = _exchange(v19, v21)
        v17, v18 = _exchange(v17, v18)
        v19, v20 = _exchange(v19, v20)
        v21, v22 = _exchange(v21, v22)
        v16, v24 = _exchange(v16, v24)
        v20, v24 = _exchange(v20, v24)
        v18, v20 = _exchange(v18, v20)
        v22, v24 = _exchange(v22, v24)
        v19, v21 = _exchange(v19, v21)
        v17, v18 = _exchange(v17, v18)
        v19, v20 = _exchange(v19, v20)
        v21, v22 = _exchange(v21, v22)
        v23, v24 = _exchange(v23, v24)
        v0, v16 = _exchange(v0, v16)
        v8, v24 = _exchange(v8, v24)
        v8, v16 = _exchange(v8, v16)
        v4, v20 = _exchange(v4, v20)
        v12, v20 = _exchange(v12, v20)
        v12, v16 = _exchange(v12, v16)
        v2, v18 = _exchange(v2, v18)
        v10, v18 = _exchange(v10, v18)
        v6, v22 = _exchange(v6, v22)
        v6, v10 = _exchange(v6, v10)
        v10, v12 = _exchange(v10, v12)
        v1, v17 = _exchange(v1, v17)
        v9, v17 = _exchange(v9, v17)
        v5, v21 = _exchange(v5, v21)
        v13, v21 = _exchange(v13, v21)
        v13, v17 = _exchange(v13, v17)
        v3, v19 = _exchange(v3, v19)
        v11, v19 = _exchange(v11, v19)
        v7, v23 = _exchange(v7, v23)
        v7, v11 = _exchange(v7, v11)
        v11, v13 = _exchange(v11, v13)
        v11, v12 = _exchange(v11, v12)
        row[j] = v12


@_jit
def _change_sweep(
    before, after, dy, dx, gain, block, low_c, frac_c, low_r, frac_r, diff, step, sample
):  # pragma: no cover - compiled
    """The block grids, their upsampling and the map in one sweep of the rows: each aligned
    row of the after image is made once and kept in a ring until the backgrounds it needs
    are known (a grid row needs the block rows 2 below it, so an input row waits at most
    ``4 * block - 1`` rows)."""
    h, w = before.shape
    hb, wb = (h + block - 1) // block, (w + block - 1) // block
    fx, fy, g = np.float32(dx), np.float32(dy), np.float32(gain)
    means_b = np.empty((hb, wb), np.float32)
    means_a = np.empty((hb, wb), np.float32)
    padded_b = np.empty((hb + 4, wb + 4), np.float32)
    padded_a = np.empty((hb + 4, wb + 4), np.float32)
    grid_b = np.empty((hb, wb), np.float32)
    grid_a = np.empty((hb, wb), np.float32)
    cols_b = np.empty((hb, w), np.float32)
    cols_a = np.empty((hb, w), np.float32)
    cell_step = np.zeros(wb, np.float32)
    starts = _cell_starts(low_c, wb)
    acc_b = np.empty(w, np.float32)
    acc_a = np.empty(w, np.float32)
    kept = 4 * block + 1  # aligned rows of the after image waiting for their backgrounds
    aligned = np.empty((kept, w), np.float32)
    d = np.empty((_RING, w), np.float32)
    e = np.empty((_RING, w), np.float32)
    row = np.empty(w, np.float32)
    nxt = np.empty(w, np.float32)
    tmp = np.empty(w, np.float32)
    last = hb - 1
    third, fifth = np.float32(1.0 / 9), np.float32(1.0 / 25)
    means_done = 0  # rows of block means made
    ready = 0  # rows of the grids medianed and upsampled
    contrast = 0  # input rows of d and e made
    made = 0  # rows of the map made
    taken = 0  # values of the sample gathered
    _after_row(after, 0, fx, dx != 0, nxt)
    for r in range(h):
        row, nxt = nxt, row
        sa = aligned[r % kept]
        _aligned_row(after, r, fx, fy, g, dx != 0, dy != 0, row, nxt, sa)
        _add_rows(acc_b, acc_a, before, r, sa, r % block, block, h)
        if r % block == block - 1 or r == h - 1:
            i = r // block
            _block_means(acc_b, acc_a, w, block, h, i, means_b, means_a)
            _pad_row(means_b, padded_b, i)
            _pad_row(means_a, padded_a, i)
            means_done = i + 1
            # the grid rows whose 5 x 5 windows are complete
            while ready < hb and (ready + 2 < means_done or means_done == hb):
                _median_row(padded_b, grid_b, ready)
                _median_row(padded_a, grid_a, ready)
                _upsample_row(grid_b, ready, starts, frac_c, cell_step, cols_b)
                _upsample_row(grid_a, ready, starts, frac_c, cell_step, cols_a)
                ready += 1
        # the input rows whose backgrounds are ready, and the map rows they complete
        while contrast <= r and min(low_r[contrast] + 1, last) < ready:
            q = contrast
            lr, fr = low_r[q], frac_r[q]
            _contrast_row(before, q, aligned[q % kept], cols_b, cols_a, lr, fr, d, e, q % _RING)
            contrast += 1
            while made < h and (made + 2 < contrast or contrast == h):
                # map row o: the 3 x 3 mean of d (column sums, then row sums: numpy's order),
                # σ's sample from it, then its magnitude with the sign (bit) of the 5 x 5 mean
                # of e (written here: as a function of its own it ran at half the speed)
                o = made
                out = diff[o]
                d0, d1, d2 = (
                    d[_mirror(o - 1, h) % _RING],
                    d[o % _RING],
                    d[_mirror(o + 1, h) % _RING],
                )
                for c in range(w):
                    tmp[c] = d0[c] + d1[c] + d2[c]
                for c in range(1, w - 1):
                    out[c] = (tmp[c - 1] + tmp[c] + tmp[c + 1]) * third
                for c in (0, w - 1):
                    s = tmp[_mirror(c - 1, w)]
                    s += tmp[c]
                    s += tmp[_mirror(c + 1, w)]
                    out[c] = s * third
                taken = _gather(out, o, step, sample, taken)
                e0, e1, e2 = (
                    e[_mirror(o - 2, h) % _RING],
                    e[_mirror(o - 1, h) % _RING],
                    e[o % _RING],
                )
                e3, e4 = e[_mirror(o + 1, h) % _RING], e[_mirror(o + 2, h) % _RING]
                for c in range(w):
                    tmp[c] = e0[c] + e1[c] + e2[c] + e3[c] + e4[c]
                for c in range(2, w - 2):
                    s = (tmp[c - 2] + tmp[c - 1] + tmp[c] + tmp[c + 1] + tmp[c + 2]) * fifth
                    out[c] = np.copysign(out[c], s)
                for edge in range(4):  # the columns within 2 of an edge (each once)
                    c = edge if edge < 2 else w - 4 + edge
                    if c >= w or (edge >= 2 and c < 2):
                        continue
                    s = tmp[_mirror(c - 2, w)]
                    for j in range(-1, 3):
                        s += tmp[_mirror(c + j, w)]
                    out[c] = np.copysign(out[c], s * fifth)
                made += 1
    return grid_b, grid_a


def change_sweep(
    before: np.ndarray,
    after: np.ndarray,
    shift: tuple[float, float],
    gain: float,
    block: int = 8,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The classical detector's change map before its scale, in one sweep of rows (a few
    rows of the intermediate images kept, none whole): the robust background grids of both
    images (``grid_median(block_means(x, block))`` of ``before`` and of
    :func:`shift_and_gain` of ``after``, the after image shifted on the fly), and from them
    what ``detect.ClassicalDetector._change_numpy`` computes: the magnitude of the 3 x 3
    mean of the high-passed difference with the sign of the 5 x 5 mean of the change of
    contrast (``np.copysign``), and the sample of the first (signed by itself) that
    :func:`~fenceline.imagery.radiometry.robust_sigma` takes (every ``sigma_step``-th
    value, row-major), gathered as the rows are made. The same float32 operations in the
    same order as the numpy steps. Returns both grids, the map and the sample. Images at
    least 2 px on each side.

    >>> import numpy as np
    >>> flat = np.full((16, 24), 10, np.uint8)
    >>> grid_b, grid_a, signed, sample = change_sweep(flat, flat, (0.0, 0.0), 1.0)
    >>> grid_b.shape, signed.shape, float(np.abs(signed).max())
    ((2, 3), (16, 24), 0.0)
    """
    dy, dx = shift
    if abs(dy) < 1e-3 and abs(dx) < 1e-3:
        dy = dx = 0.0
    elif not (0 <= dy < 1 and 0 <= dx < 1):
        raise ValueError("sub-pixel shifts must be in [0, 1)")
    b, a = _pixels(before), _pixels(after)
    h, w = b.shape
    if a.shape != b.shape or min(h, w) < 2:
        raise ValueError("change_sweep needs two images of one shape, at least 2 x 2 px")
    diff = np.empty((h, w), np.float32)
    step = sigma_step(h * w)
    sample = np.empty((h * w + step - 1) // step, np.float32)
    grid_b, grid_a = _change_sweep(
        b,
        a,
        float(dy),
        float(dx),
        float(gain),
        int(block),
        *_resampling(w, block),
        *_resampling(h, block),
        diff,
        step,
        sample,
    )
    return grid_b, grid_a, diff, sample


@_jit
def _cell_starts(low, cells):  # pragma: no cover - compiled
    """Where each cell's run of pixels starts in ``low`` (each pixel's lower cell, never
    decreasing), and its end: ``cells + 1`` positions."""
    starts = np.empty(cells + 1, np.intp)
    k = 0
    for c in range(low.shape[0]):
        while k <= low[c]:
            starts[k] = c
            k += 1
    while k <= cells:
        starts[k] = low.shape[0]
        k += 1
    return starts


@_jit
def _upsample_row(grid, i, starts, frac_c, step, out):  # pragma: no cover - compiled
    """Row ``i`` of ``grid`` upsampled along its columns into row ``i`` of ``out``, cell by
    cell (``starts``: :func:`_cell_starts` of the pixels' lower cells); ``step`` (one per
    cell, the last 0, as numpy pads) is scratch.

    A cell of 8 columns (every inner cell of the detector's 8 px grid) is written as 8
    statements, with no loop: as a loop whose length the compiler cannot know, the same
    upsampling cost 2.4 times as much (docs/imagery.md §5, ninth session)."""
    wb = grid.shape[1]
    for k in range(wb - 1):
        step[k] = grid[i, k + 1] - grid[i, k]
    row = out[i]
    for k in range(wb):
        g, s = grid[i, k], step[k]
        c0, c1 = starts[k], starts[k + 1]
        if c1 - c0 == 8:
            row[c0] = g + s * frac_c[c0]
            row[c0 + 1] = g + s * frac_c[c0 + 1]
            row[c0 + 2] = g + s * frac_c[c0 + 2]
            row[c0 + 3] = g + s * frac_c[c0 + 3]
            row[c0 + 4] = g + s * frac_c[c0 + 4]
            row[c0 + 5] = g + s * frac_c[c0 + 5]
            row[c0 + 6] = g + s * frac_c[c0 + 6]
            row[c0 + 7] = g + s * frac_c[c0 + 7]
        else:
            for c in range(c0, c1):
                row[c] = g + s * frac_c[c]


@_jit
def _scale_cloud(diff, scale, cloud, block):  # pragma: no cover - compiled
    h, w = diff.shape
    clear = np.empty(w, np.uint8)
    for r in range(h):
        if r % block == 0:
            _clear_row(cloud, r // block, block, clear)
        for c in range(w):
            # as numpy masks it, times 1 or 0 (-0.0 stays -0.0)
            diff[r, c] = diff[r, c] * scale * np.float32(clear[c])


def scale_cloud(diff: np.ndarray, scale: float, cloud: np.ndarray, block: int = 8) -> np.ndarray:
    """``diff * scale``, and 0 in the blocks ``cloud`` marks (a grid of ``block`` px cells),
    in one pass, written into ``diff``.

    >>> import numpy as np
    >>> d = np.array([[1, 1, -1, 1], [1, -1, 1, 1]], np.float32)
    >>> scale_cloud(d, 2.0, np.array([[False, True]]), 2)
    array([[ 2.,  2., -0.,  0.],
           [ 2., -2.,  0.,  0.]], dtype=float32)
    """
    _scale_cloud(diff, np.float32(scale), np.ascontiguousarray(cloud, np.bool_), block)
    return diff


# ---------------------------------------------------------------------------------------
# thinning, and every linear component of a map in one call


_ZHANG_SUEN = zhang_suen_table()


@_jit
def _code(image, r, c):  # pragma: no cover - compiled
    """The pattern of a pixel's 8 neighbours (bits as in linear.zhang_suen_table)."""
    return (
        image[r - 1, c - 1]
        | image[r - 1, c] << 1
        | image[r - 1, c + 1] << 2
        | image[r, c + 1] << 3
        | image[r + 1, c + 1] << 4
        | image[r + 1, c] << 5
        | image[r + 1, c - 1] << 6
        | image[r, c - 1] << 7
    )


@_jit
def _code_at(flat, p, w):  # pragma: no cover - compiled
    """:func:`_code` of pixel ``p`` of a padded image ``w`` px wide, as one flat array."""
    return (
        flat[p - w - 1]
        | flat[p - w] << 1
        | flat[p - w + 1] << 2
        | flat[p + 1] << 3
        | flat[p + w + 1] << 4
        | flat[p + w] << 5
        | flat[p + w - 1] << 6
        | flat[p - 1] << 7
    )


@_jit
def _candidates(image, span_row, span_lo, span_hi, total):  # pragma: no cover - compiled
    """The pixels of the runs ``span_*`` (all those set in ``image``, padded by one pixel)
    that have a background neighbour, as flat indices of the padded image; room for
    ``total``."""
    width = image.shape[1]
    points = np.empty(total, np.int64)
    n = 0
    for j in range(span_row.shape[0]):
        r = span_row[j] + 1
        for c in range(span_lo[j] + 1, span_hi[j] + 2):
            if image[r, c] and _code(image, r, c) != 255:
                points[n] = r * width + c
                n += 1
    return points, n


@_jit
def _thin_padded(image, points, n, table):  # pragma: no cover - compiled
    """Zhang and Suen's thinning of ``image`` (padded by one pixel, C-contiguous), in place.
    Only pixels with a background neighbour can go (one with all eight set never does), so
    each sub-iteration visits those (``points``: the first ``n``, flat indices), and a
    removed pixel's neighbours join them. A pixel is in the list at most once (``active``),
    so the list, which has room for every pixel set, never overflows; one that both
    sub-iterations kept on the same neighbourhood leaves it until a neighbour goes. The
    image is read as one flat array (a neighbour is a fixed offset: no row arithmetic per
    read, 22 % less time than by row and column on the dense 4096 px scene's components)."""
    w = image.shape[1]
    flat = image.ravel()  # a view: the image is contiguous
    total = points.shape[0]
    active = np.zeros(flat.shape[0], np.uint8)
    calm = np.zeros(flat.shape[0], np.uint8)  # decisions since the neighbourhood last changed
    new = np.empty(total, np.int64)
    remove = np.empty(total, np.bool_)
    for i in range(n):
        active[points[i]] = 1
    removed = True
    while removed:
        removed = False
        for step in (1, 2):
            # decide for every pixel on the image as it was (the sub-iteration is parallel)
            for i in range(n):
                p = points[i]
                which = table[_code_at(flat, p, w)]
                remove[i] = which == 3 or which == step
                calm[p] += 1
            for i in range(n):
                if remove[i]:
                    flat[points[i]] = 0
            added = 0
            for i in range(n):
                if not remove[i]:
                    continue
                removed = True
                p = points[i]
                for row in (p - w, p, p + w):
                    for q in (row - 1, row, row + 1):
                        calm[q] = 0
                        if flat[q] and not active[q]:
                            active[q] = 1
                            new[added] = q
                            added += 1
            # a pixel kept by both sub-iterations' rules on the same neighbourhood is kept
            # until a neighbour goes: it leaves the list, and that neighbour brings it back
            kept = 0
            for i in range(n):
                p = points[i]
                if remove[i]:
                    continue
                if calm[p] >= 2:
                    active[p] = 0
                    continue
                points[kept] = p
                kept += 1
            for j in range(added):
                points[kept + j] = new[j]
            n = kept + added


@_jit
def _thin(mask):  # pragma: no cover - compiled
    h, w = mask.shape
    image = np.zeros((h + 2, w + 2), np.uint8)
    image[1 : h + 1, 1 : w + 1] = mask
    row, lo, hi, _ = _runs(mask, np.uint8(1))
    total = 0
    for j in range(row.shape[0]):
        total += hi[j] - lo[j] + 1
    points, n = _candidates(image, row, lo, hi, total)
    _thin_padded(image, points, n, _ZHANG_SUEN)
    return image[1 : h + 1, 1 : w + 1] == 1


def thin(mask: np.ndarray) -> np.ndarray:
    """:func:`fenceline.imagery.linear.thin` (Zhang and Suen's thinning), visiting only the
    pixels still set.

    >>> import numpy as np
    >>> bar = np.zeros((7, 12), bool)
    >>> bar[2:5, 1:11] = True
    >>> thin(bar).sum(axis=0).tolist()
    [0, 0, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0]
    """
    mask = np.ascontiguousarray(mask, np.bool_)
    if mask.ndim != 2:
        raise ValueError("thin needs a 2-D mask")
    if mask.size == 0:
        return mask.copy()
    return _thin(mask.view(np.uint8))


@_jit
def _component_lines(
    run_row, run_lo, run_hi, first, order, stats, indices, spur_px, rounds
):  # pragma: no cover - compiled
    m = indices.shape[0]
    chunks_xy = []
    chunks_owner = []
    parts = 0
    part_of = []
    for i in range(m):
        k = indices[i]
        top, left = int(stats[k, TOP]), int(stats[k, LEFT])
        h, w = int(stats[k, BOTTOM]) - top, int(stats[k, RIGHT]) - left
        # the component's runs in its window, row by row (its rows follow one another)
        count = first[k + 1] - first[k]
        lo = np.empty(count, np.int64)
        hi = np.empty(count, np.int64)
        row_first = np.zeros(h + 1, np.int64)
        for t in range(count):
            j = order[first[k] + t]
            lo[t], hi[t] = run_lo[j] - left, run_hi[j] - left
            row_first[run_row[j] - top + 1] += 1
        for r in range(h):
            row_first[r + 1] += row_first[r]
        image = np.zeros((h + 2, w + 2), np.uint8)
        span_row, span_lo, span_hi, total = _fill_runs(lo, hi, row_first, h, w, image)
        points, n = _candidates(image, span_row, span_lo, span_hi, total)
        _thin_padded(image, points, n, _ZHANG_SUEN)
        xy, owner = _trace_nodes(image, span_row, span_lo, span_hi, spur_px, rounds)
        if xy.shape[0] == 0:
            continue
        count = owner[-1] + 1
        chunks_xy.append(xy)
        chunks_owner.append(owner + parts)
        for _ in range(count):
            part_of.append(i)
        parts += count
    total = 0
    for chunk in chunks_xy:
        total += chunk.shape[0]
    xy_all = np.empty((total, 2), np.float64)
    owner_all = np.empty(total, np.int64)
    at = 0
    for j in range(len(chunks_xy)):
        chunk = chunks_xy[j]
        xy_all[at : at + chunk.shape[0]] = chunk
        owner_all[at : at + chunk.shape[0]] = chunks_owner[j]
        at += chunk.shape[0]
    component = np.empty(parts, np.int64)
    for j in range(parts):
        component[j] = part_of[j]
    return xy_all, owner_all, component


def component_lines(
    components: Components,
    indices: np.ndarray,
    spur_px: float = 8.0,
    rounds: int = 3,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The lines of every component ``indices[i]`` (of :func:`label_runs`): each one's
    pixels in its bounding window, holes filled (:func:`fill_holes`), thinned (:func:`thin`),
    traced and pruned (:func:`trace_skeleton`), in one call. Each step works from the
    component's runs, visiting its pixels, not its whole window (a fence across a tile has
    a window as large as the tile).

    Returns the vertices (x = col + 0.5, y = row + 0.5 in each component's window), the line
    each vertex belongs to, and the index ``i`` of each line's component.

    >>> import numpy as np
    >>> s = np.zeros((9, 40), np.float32)
    >>> s[3:6, 2:38] = 2
    >>> xy, owner, component = component_lines(label_runs(s), np.array([0]))
    >>> xy[[0, -1]].tolist(), component.tolist()
    ([[1.5, 1.5], [33.5, 1.5]], [0])
    """
    if len(indices) == 0:
        return np.empty((0, 2)), np.empty(0, np.int64), np.empty(0, np.int64)
    return _component_lines(
        *components.runs(), np.ascontiguousarray(indices, np.int64), float(spur_px), int(rounds)
    )


@_jit
def _turn(hull, h, pts, i):  # pragma: no cover - compiled
    """Cross product of (last hull point - the one before) and (point i - the one before):
    positive where point i turns left."""
    return (hull[h - 1, 0] - hull[h - 2, 0]) * (pts[i, 1] - hull[h - 2, 1]) - (
        hull[h - 1, 1] - hull[h - 2, 1]
    ) * (pts[i, 0] - hull[h - 2, 0])


@_jit
def _group_starts(owner, count):  # pragma: no cover - compiled
    """Where each owner's points start (owners numbered 0 .. count - 1, each one's points
    together), and the end."""
    start = np.zeros(count + 1, np.int64)
    for i in range(owner.shape[0]):
        start[owner[i] + 1] += 1
    for k in range(count):
        start[k + 1] += start[k]
    return start


@_jit
def _chain(pts, p, hull):  # pragma: no cover - compiled
    """Andrew's monotone chain over ``pts[:p]`` (sorted, no point twice), collinear points
    dropped, into ``hull``: counter-clockwise and closed (the last point is the first);
    returns how many points it wrote."""
    h = 0
    for i in range(p):  # one side
        while h >= 2 and _turn(hull, h, pts, i) <= 0:
            h -= 1
        hull[h] = pts[i]
        h += 1
    lower = h + 1
    for i in range(p - 2, -1, -1):  # the other side, back to the first point
        while h >= lower and _turn(hull, h, pts, i) <= 0:
            h -= 1
        hull[h] = pts[i]
        h += 1
    return h


@_jit
def _convex_rings(points, owner, count):  # pragma: no cover - compiled
    """Convex hull of each owner's points (Andrew's monotone chain, collinear points dropped),
    as closed rings, clockwise from the point of least x (of least y among those): the shell
    that GEOS's normalize makes."""
    n = points.shape[0]
    start = _group_starts(owner, count)
    ring = np.empty((n + count, 2), np.float64)
    ring_owner = np.empty(n + count, np.int64)
    hull = np.empty((2 * n + 1, 2), np.float64)
    m = 0
    for k in range(count):
        a, b = start[k], start[k + 1]
        if b == a:
            continue
        xy = points[a:b]
        by_y = np.argsort(xy[:, 1], kind="mergesort")
        order = by_y[np.argsort(xy[by_y, 0], kind="mergesort")]  # x, then y
        h = _chain(xy[order], b - a, hull)
        for j in range(h):  # clockwise (GEOS's normal form), closed: the last is the first
            ring[m] = hull[h - 1 - j]
            ring_owner[m] = k
            m += 1
    return ring[:m], ring_owner[:m]


def convex_rings(points: np.ndarray, owner: np.ndarray, count: int) -> np.ndarray:
    """Convex hulls of groups of points (``owner`` numbers each point's group, 0 .. count -
    1, a group's points together) as shapely polygons in GEOS's normal form: the polygons
    ``shapely.normalize(shapely.convex_hull(multipoint))`` gives, without making a point
    object per point.

    >>> import numpy as np
    >>> square = np.array([[0, 0], [2, 0], [1, 1], [2, 2], [0, 2], [1, 0]], float)
    >>> convex_rings(square, np.zeros(6, np.int64), 1)[0].wkt
    'POLYGON ((0 0, 0 2, 2 2, 2 0, 0 0))'
    """
    import shapely

    ring, ring_owner = _convex_rings(
        np.ascontiguousarray(points, np.float64), np.ascontiguousarray(owner, np.int64), count
    )
    return shapely.polygons(shapely.linearrings(ring, indices=ring_owner))


@_jit
def _corner_hulls(points, owner, count):  # pragma: no cover - compiled
    """:func:`_convex_rings` of outline corners as :func:`structure_corners` lists them,
    with no sort: per row of a structure its first pixel's corners, then its last pixel's,
    rows in order, so the leftmost and rightmost corner on each horizontal line (the only
    ones that can be hull vertices) come in order of y, then x, and the monotone chain runs
    along y. The ring is then turned to start, clockwise, at the vertex of least x (of least
    y among those): the same ring."""
    n = points.shape[0]
    start = _group_starts(owner, count)
    ring = np.empty((n + count, 2), np.float64)
    ring_owner = np.empty(n + count, np.int64)
    pts = np.empty((n, 2), np.float64)
    hull = np.empty((2 * n + 1, 2), np.float64)
    m = 0
    for k in range(count):
        a, b = start[k], start[k + 1]
        rows = (b - a) // 4
        if rows == 0:
            continue
        last = a + 2 * rows  # the rows' last-pixel corners (x = last column + 1)
        p = 0
        for j in range(rows):
            y = points[a + j, 1]
            left, right = points[a + j, 0], points[last + j, 0]
            if j > 0 and points[a + j - 1, 1] + 1 == y:  # the row above ends on this line
                left = min(left, points[a + j - 1, 0])
                right = max(right, points[last + j - 1, 0])
            pts[p, 0], pts[p, 1] = left, y
            pts[p + 1, 0], pts[p + 1, 1] = right, y
            p += 2
            if j == rows - 1 or points[a + j + 1, 1] != y + 1:  # no row below on this line
                pts[p, 0], pts[p, 1] = points[a + j, 0], y + 1
                pts[p + 1, 0], pts[p + 1, 1] = points[last + j, 0], y + 1
                p += 2
        h = _chain(pts, p, hull)  # down one side of the rows and back up the other
        # counter-clockwise and closed (hull[h - 1] is hull[0]); clockwise from least x, y
        size = h - 1
        s = 0
        for i in range(1, size):
            if hull[i, 0] < hull[s, 0] or (hull[i, 0] == hull[s, 0] and hull[i, 1] < hull[s, 1]):
                s = i
        for t in range(size + 1):
            ring[m] = hull[(s - t) % size]
            ring_owner[m] = k
            m += 1
    return ring[:m], ring_owner[:m]


@_jit
def _structure_hulls(
    strength, scale, run_row, run_lo, run_hi, first, order, stats, indices, min_px
):  # pragma: no cover - compiled
    """:func:`structure_corners`, then :func:`corner_hulls` of the components with at least
    ``min_px`` strong pixels, in one call: the rings' coordinates, where each ring starts
    (and the end), which components have one, and every component's strong pixels."""
    xs, ys, owner, core_px = _structure_corners(
        strength, scale, run_row, run_lo, run_hi, first, order, stats, indices
    )
    m = indices.shape[0]
    ok = core_px >= min_px
    renumber = np.empty(m, np.int64)
    count = 0
    for i in range(m):
        renumber[i] = count
        if ok[i]:
            count += 1
    n = 0
    for j in range(owner.shape[0]):
        if ok[owner[j]]:
            n += 1
    points = np.empty((n, 2), np.float64)
    chosen_owner = np.empty(n, np.int64)
    n = 0
    for j in range(owner.shape[0]):
        if ok[owner[j]]:
            points[n, 0], points[n, 1] = xs[j], ys[j]
            chosen_owner[n] = renumber[owner[j]]
            n += 1
    ring, ring_owner = _corner_hulls(points, chosen_owner, count)
    starts = _group_starts(ring_owner, count)
    return ring, starts, ok, core_px


def structure_hulls(
    strength: np.ndarray,
    components: Components,
    indices: np.ndarray,
    min_px: int,
    scale: float = 1.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The outlines of the structure components ``indices`` whose strong part has at least
    ``min_px`` pixels: :func:`corner_hulls` of their :func:`structure_corners`, in one
    compiled call and one shapely construction. Returns the polygons, which of ``indices``
    they outline (a boolean mask) and every component's number of strong pixels.

    >>> import numpy as np
    >>> s = np.zeros((6, 9), np.float32)
    >>> s[1, 2:4] = s[2, 1:5] = s[3, 2:3] = 2
    >>> s[4, 7] = 2
    >>> hulls, ok, core = structure_hulls(s, label_runs(s), np.array([0, 1]), 2)
    >>> [h.wkt for h in hulls], ok.tolist(), core.tolist()
    (['POLYGON ((1 2, 1 3, 2 4, 3 4, 5 3, 5 2, 4 1, 2 1, 1 2))'], [True, False], [7, 1])
    """
    import shapely

    ring, starts, ok, core = _structure_hulls(
        np.ascontiguousarray(strength, np.float32),
        np.float32(scale),
        *components.runs(),
        np.ascontiguousarray(indices, np.int64),
        int(min_px),
    )
    if not ok.any():
        return np.empty(0, object), ok, core
    hulls = shapely.from_ragged_array(
        shapely.GeometryType.POLYGON, ring, (starts, np.arange(len(starts), dtype=np.int64))
    )
    return hulls, ok, core


def corner_hulls(points: np.ndarray, owner: np.ndarray, count: int) -> np.ndarray:
    """:func:`convex_rings` of structures' outline corners exactly as
    :func:`structure_corners` lists them (each group's rows' first-pixel corners, then their
    last-pixel corners; whole groups kept or dropped), without sorting the points: the same
    polygons (GEOS's normal form). Other points need :func:`convex_rings`.

    >>> import numpy as np
    >>> s = np.zeros((5, 6), np.float32)
    >>> s[1, 2:4] = s[2, 1:5] = s[3, 2:3] = 2
    >>> points, owner, _ = structure_corners(s, label_runs(s), np.array([0]))
    >>> corner_hulls(points, owner, 1)[0].wkt
    'POLYGON ((1 2, 1 3, 2 4, 3 4, 5 3, 5 2, 4 1, 2 1, 1 2))'
    """
    import shapely

    ring, ring_owner = _corner_hulls(
        np.ascontiguousarray(points, np.float64), np.ascontiguousarray(owner, np.int64), count
    )
    return shapely.polygons(shapely.linearrings(ring, indices=ring_owner))
