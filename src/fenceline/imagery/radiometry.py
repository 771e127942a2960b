"""Radiometric normalisation: local contrast, and a global gain from after to before.

Change is measured on high-passed images (each pixel minus its local mean), which removes
slow changes of brightness (season, illumination, thin haze and cloud edges); the remaining
difference in contrast between the dates is a gain estimated robustly from sample windows.

>>> import numpy as np
>>> ramp = np.full((128, 128), 100, np.float32) + np.linspace(0, 30, 128)
>>> float(np.abs(high_pass(ramp)[40:-40, 40:-40]).max()) < 1
True
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

__all__ = [
    "BACKGROUND_PX",
    "block_means",
    "box_mean",
    "estimate_gain",
    "grid_median",
    "high_pass",
    "robust_background",
    "robust_sigma",
    "upsample",
    "upsample_columns",
]

#: side of the box whose mean is the local background (pixels)
BACKGROUND_PX = 31


def high_pass(image: np.ndarray, size: int = BACKGROUND_PX) -> np.ndarray:
    """``image`` minus its local mean (two passes of a box filter, close to a Gaussian).

    SciPy's ``uniform_filter`` (edges reflected); for 2-D images and odd sizes the compiled
    kernel that reproduces it to the bit (:func:`fenceline.imagery.kernels.high_pass`) runs
    instead where numba is installed.
    """
    data = np.asarray(image)
    if size % 2 == 1 and data.ndim == 2 and data.size:
        kernels = _kernels()
        if kernels is not None:
            return kernels.high_pass(data, size)
    return _high_pass_scipy(image, size)


def _high_pass_scipy(image: np.ndarray, size: int = BACKGROUND_PX) -> np.ndarray:
    """:func:`high_pass` by SciPy (the kernel's reference)."""
    from scipy import ndimage

    data = image.astype(np.float32, copy=False)
    background = ndimage.uniform_filter(data, size, mode="reflect")
    background = ndimage.uniform_filter(background, size, mode="reflect")
    return data - background


def _kernels() -> Any:
    """The compiled kernels module, or None (numba not installed, or ``FENCELINE_NUMBA=0``);
    detection, linear features and radiometry all ask here."""
    try:
        from fenceline.imagery import kernels
    except ImportError:  # pragma: no cover - depends on the environment
        return None
    return kernels if kernels.enabled() else None


def _median(values: np.ndarray) -> np.floating:
    """``np.median`` of a 1-D array without NaNs: the same value. A float32 array goes to the
    compiled radix selection (:func:`fenceline.imagery.kernels.median`) where numba is
    installed; otherwise :func:`_median_numpy`.

    >>> import numpy as np
    >>> values = np.random.default_rng(0).normal(0, 1, 1000).astype(np.float32)
    >>> bool(_median(values) == np.median(values)), bool(_median(values[:-1]) == np.median(values[:-1]))
    (True, True)
    """
    kernels = _kernels()
    if kernels is not None and values.dtype == np.float32 and values.ndim == 1 and values.size:
        return kernels.median(values)
    return _median_numpy(values)


def _median_numpy(values: np.ndarray) -> np.floating:
    """``np.median`` of a 1-D array without NaNs, by one partition: the same value (the middle
    element, or the float mean of the two middle ones), at a third of the cost. The lower
    middle one of an even count is the largest below the partition's middle: a partition at
    two places costs as much as the median (0.50 against 0.09 ms on 49,000 values)."""
    n = values.size
    half = n // 2
    part = np.partition(values, half)
    if n % 2:
        return part[half]
    middle = np.array([part[:half].max(), part[half]], values.dtype)
    return np.mean(middle)


#: :func:`robust_sigma` of more values than this takes a regular sample of them
SIGMA_SAMPLE = 50_000


def sigma_step(n: int) -> int:
    """The stride of :func:`robust_sigma`'s sample of ``n`` values (1: all of them); the
    sample, ``values[::step]``, holds at most :data:`SIGMA_SAMPLE` values.

    >>> sigma_step(50_000), sigma_step(1088 * 1088)
    (1, 24)
    """
    return n // SIGMA_SAMPLE + 1 if n > SIGMA_SAMPLE else 1


def robust_sigma(values: np.ndarray) -> float:
    """Standard deviation estimated from the median absolute deviation.

    >>> import numpy as np
    >>> round(robust_sigma(np.random.default_rng(0).normal(0, 2, 100_001)), 1)
    2.0
    """
    values = np.asarray(values, np.float32).ravel()
    if values.size == 0:
        return 0.0
    # a regular sample of many values: enough for the median and MAD (about 0.5 % error)
    values = values[:: sigma_step(values.size)]
    if np.isnan(values).any():
        return float("nan")
    kernels = _kernels()
    if kernels is not None:
        middle, deviation = kernels.median_deviation(values)  # the same medians, compiled
        if np.isfinite(middle):  # (an infinite median: numpy's inf - inf is nan)
            return float(1.4826 * deviation)
    median = _median_numpy(values)
    return float(1.4826 * _median_numpy(np.abs(values - median)))


def estimate_gain(
    before_samples: list[np.ndarray],
    after_samples: list[np.ndarray],
    size: int | None = BACKGROUND_PX,
) -> float:
    """Gain that brings the after image's local contrast to the before image's: the ratio of
    the robust σ of the high-passed samples (``high_pass(sample, size)``; ``size=None``: the
    samples are high-passed already)."""

    def contrast(samples: list[np.ndarray]) -> float:
        passed = samples if size is None else [high_pass(s, size) for s in samples]
        return robust_sigma(np.concatenate([np.ravel(p) for p in passed]))

    b, a = contrast(before_samples), contrast(after_samples)
    if a <= 0 or b <= 0:
        return 1.0
    return float(np.clip(b / a, 0.25, 4.0))


@functools.lru_cache(maxsize=16)
def _resampling(n: int, block: int) -> tuple[np.ndarray, np.ndarray]:
    """Bilinear weights from block centres to the ``n`` pixel centres of one axis: each
    pixel's lower block and its fraction of the way to the next (0 past the last centre)."""
    coarse = -(-n // block)
    position = np.clip((np.arange(n, dtype=np.float32) + 0.5) / block - 0.5, 0, coarse - 1)
    low = np.floor(position).astype(np.intp)
    return low, (position - low).astype(np.float32)


def block_means(image: np.ndarray, block: int = 8) -> np.ndarray:
    """Means of ``block`` x ``block`` blocks (a partial last block: the mean of its pixels).

    The sums run in a fixed order (the block's rows one after the other, then its columns),
    the order :func:`fenceline.imagery.kernels.change_sweep` sums in, so both give the same
    float32 means to the bit.

    >>> import numpy as np
    >>> block_means(np.arange(20, dtype=np.float32).reshape(4, 5), 2).tolist()
    [[3.0, 5.0, 6.5], [13.0, 15.0, 16.5]]
    """
    data = np.asarray(image, np.float32)
    h, w = data.shape
    hb, wb = -(-h // block), -(-w // block)
    if (hb * block, wb * block) != (h, w):
        padded = np.zeros((hb * block, wb * block), np.float32)
        padded[:h, :w] = data
        data = padded
    rows = data[0::block].copy()
    for j in range(1, block):
        rows += data[j::block]
    sums = rows[:, 0::block].copy()
    for j in range(1, block):
        sums += rows[:, j::block]
    counts_r = np.minimum(block, h - block * np.arange(hb))
    counts_c = np.minimum(block, w - block * np.arange(wb))
    return sums / (counts_r[:, None] * counts_c[None, :]).astype(np.float32)


def grid_median(grid: np.ndarray, window: int = 5) -> np.ndarray:
    """Median over ``window`` x ``window`` neighbourhoods, edges repeated: SciPy's
    ``median_filter(grid, window, mode="nearest")``, by partitioning the stacked neighbourhoods
    (for the small block grids here, several times faster).

    >>> import numpy as np
    >>> grid = np.zeros((6, 6), np.float32)
    >>> grid[2, 3] = 9                                  # one outlier block: filtered away
    >>> float(grid_median(grid).max())
    0.0
    """
    from numpy.lib.stride_tricks import sliding_window_view

    half = window // 2
    padded = np.pad(np.asarray(grid, np.float32), half, mode="edge")
    stack = sliding_window_view(padded, (window, window)).reshape(-1, window * window)
    middle = (window * window) // 2
    return np.partition(stack, middle, axis=1)[:, middle].reshape(grid.shape)


def upsample(grid: np.ndarray, shape: tuple[int, int], block: int = 8) -> np.ndarray:
    """Bilinear resampling of a block grid (values at block centres) to ``shape`` pixels.

    Columns first, on the small grid; then each output row is its lower grid row plus a
    fraction of the step to the next: four passes over the pixels, no matrix product.

    >>> import numpy as np
    >>> upsample(np.array([[0, 8]], np.float32), (1, 16))[0, [0, 4, 8, 12]].tolist()
    [0.0, 0.5, 4.5, 8.0]
    """
    low_r, frac_r = _resampling(shape[0], block)
    columns = upsample_columns(grid, shape[1], block)
    out = columns[low_r]
    step = _steps(columns, 0)[low_r]
    step *= frac_r[:, None]
    out += step
    return out


def _steps(values: np.ndarray, axis: int) -> np.ndarray:
    """Difference to the next block along the axis (0 after the last)."""
    out = np.zeros_like(values)
    if axis == 0:
        out[:-1] = values[1:] - values[:-1]
    else:
        out[:, :-1] = values[:, 1:] - values[:, :-1]
    return out


def upsample_columns(grid: np.ndarray, width: int, block: int = 8) -> np.ndarray:
    """The first step of :func:`upsample`: each grid row resampled to ``width`` pixels.

    >>> import numpy as np
    >>> upsample_columns(np.array([[0, 8]], np.float32), 16)[0, [0, 4, 8, 12]].tolist()
    [0.0, 0.5, 4.5, 8.0]
    """
    grid = np.asarray(grid, np.float32)
    low_c, frac_c = _resampling(width, block)
    return grid[:, low_c] + _steps(grid, 1)[:, low_c] * frac_c


def box_mean(image: np.ndarray, size: int) -> np.ndarray:
    """Mean over ``size`` x ``size`` boxes (odd size), edges mirrored: SciPy's
    ``uniform_filter(image, size)`` by shifted sums in float32, several times faster.

    >>> import numpy as np
    >>> from scipy import ndimage
    >>> x = np.random.default_rng(0).normal(size=(40, 30)).astype(np.float32)
    >>> bool(np.allclose(box_mean(x, 5), ndimage.uniform_filter(x, 5), atol=1e-5))
    True
    """
    if size % 2 != 1:
        raise ValueError("box size must be odd")
    data = np.asarray(image, np.float32)
    half = size // 2
    if half == 0:
        return data.copy()
    if half > min(data.shape):
        from scipy import ndimage

        return ndimage.uniform_filter(data, size)
    rows = _box_sum(data, half, 0)
    out = _box_sum(rows, half, 1)
    out *= np.float32(1.0 / (size * size))
    return out


def _box_sum(data: np.ndarray, half: int, axis: int) -> np.ndarray:
    """Sum over ``2 * half + 1`` neighbours along ``axis`` of a 2-D array, edges mirrored
    (d c b a | a b c d, SciPy's ``reflect``); ``half`` at most the axis length.

    Shifted additions over the flattened array (contiguous, so fast); the ``half`` rows or
    columns at each edge (where the shifts leave the array, or wrap into the next row) are
    then computed on their own.
    """
    x = np.ascontiguousarray(data)
    h, w = x.shape
    step = w if axis == 0 else 1
    flat = x.ravel()
    out = np.empty_like(flat)
    # where every neighbour lies in the array: the first two terms into ``out``, then the rest
    reach = half * step
    lo, hi = reach, flat.size - reach
    if hi > lo:
        inner = out[lo:hi]
        np.add(flat[: hi - reach], flat[step : hi - reach + step], out=inner)
        for d in range(2 - half, half + 1):
            inner += flat[lo + d * step : hi + d * step]
    out = out.reshape(h, w)
    n = h if axis == 0 else w

    def mirror(i: int) -> int:
        return -i - 1 if i < 0 else (2 * n - 1 - i if i >= n else i)

    for edge in {*range(half), *range(n - half, n)}:
        idx = [mirror(edge + d) for d in range(-half, half + 1)]
        if axis == 0:
            out[edge] = x[idx].sum(axis=0)
        else:
            out[:, edge] = x[:, idx].sum(axis=1)
    return out


def robust_background(
    image: np.ndarray, block: int = 8, window: int = 5, *, coarse: bool = False
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Local background that small objects and thin lines do not pull: the median, over
    ``window`` x ``window`` blocks, of ``block`` x ``block`` block means, resampled bilinearly.

    Season, illumination and haze change slowly and stay in it; a guard post or a fence
    covers too few blocks to move the median, so subtracting it leaves no halo around them.
    With ``coarse=True`` the median-filtered block grid is returned too. The median runs on
    the block grid (1/64 of the pixels); block means and resampling are a few passes over the
    pixels, which is what keeps this close to the cost of reading them.

    >>> import numpy as np
    >>> img = np.full((128, 128), 100, np.float32)
    >>> img[60:70, 60:70] = 250
    >>> round(float(robust_background(img)[65, 65]), 3)
    100.0
    """
    data = np.asarray(image, np.float32)
    grid = grid_median(block_means(data, block), window)
    background = upsample(grid, data.shape, block)
    return (background, grid) if coarse else background
