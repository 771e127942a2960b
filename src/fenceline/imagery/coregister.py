"""Co-registration: the shift of the after image against the before image.

Phase correlation (the upsampled DFT of Guizar-Sicairos et al., as scikit-image's) on
high-passed sample windows spread over the overlap; the median of the windows' sub-pixel
shifts is the correction. A shift ``(dy, dx)`` means the after image's pixel
``(row + dy, col + dx)`` shows what the before image shows at ``(row, col)``.

>>> import numpy as np
>>> from scipy import ndimage
>>> rng = np.random.default_rng(0)
>>> before = ndimage.gaussian_filter(rng.normal(size=(256, 256)), 2)
>>> after = ndimage.shift(before, (1.5, -1.0), order=3)
>>> dy, dx = window_shift(before, after)
>>> bool(abs(dy - 1.5) < 0.15 and abs(dx + 1.0) < 0.15)
True
"""

from __future__ import annotations

import contextlib
import functools
from typing import Any

import numpy as np

from fenceline.errors import MissingDependencyError
from fenceline.imagery.radiometry import high_pass

try:
    # loaded with this module, not at the first search: importing SciPy loads its own
    # OpenBLAS, whose new threads spin for ~0.06 s of CPU; at the plan's first search that
    # was a CPU taken from the tiles after it (tests/imagery/test_threads.py)
    from scipy import fft as _fft
except ImportError:  # pragma: no cover - depends on the environment
    _fft = None

__all__ = [
    "CHIP_HIGH_PASS_PX",
    "apply_subpixel_shift",
    "median_shift",
    "phase_correlation",
    "window_shift",
]


#: background box (px) of the high-pass that co-registration and the gain work on
CHIP_HIGH_PASS_PX = 15


@functools.cache
def _threadpools() -> Any:
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - depends on the environment
        return None
    return ThreadpoolController()


def one_blas_thread() -> contextlib.AbstractContextManager[Any]:
    """BLAS (numpy's OpenBLAS) on one thread within the block (threadpoolctl).

    The matrix products of the sub-pixel search are small. On more than one thread, OpenBLAS
    leaves its other threads spinning for about 0.1 s after each product: on a 2-CPU machine
    that took a whole CPU from the tile reads and the pool's workers just after the plan
    (benchmarks/detect_speed.py; docs/imagery.md §5).
    """
    controller = _threadpools()
    if controller is None:  # pragma: no cover - depends on the environment
        return contextlib.nullcontext()
    return controller.limit(limits=1, user_api="blas")


def window_shift(
    before: np.ndarray, after: np.ndarray, *, high_passed: bool = False
) -> tuple[float, float]:
    """Sub-pixel shift of ``after`` against ``before`` (same shape) by phase correlation of
    the high-passed windows (``high_pass(..., CHIP_HIGH_PASS_PX)``; already done when
    ``high_passed``), to 1/10 px."""
    if not high_passed:
        before = high_pass(before, CHIP_HIGH_PASS_PX)
        after = high_pass(after, CHIP_HIGH_PASS_PX)
    dy, dx = phase_correlation(before, after, upsample=10)
    return -dy, -dx


def phase_correlation(
    reference: np.ndarray, moving: np.ndarray, upsample: int = 10
) -> tuple[float, float]:
    """The shift ``(dy, dx)`` that registers ``moving`` with ``reference`` (2-D, same shape),
    to ``1 / upsample`` px: the peak of their cross-correlation, then refined on an upsampled
    grid of 1.5 px around it by a matrix-multiply DFT (Guizar-Sicairos, Thurman and Fienup,
    "Efficient subpixel image registration algorithms", Optics Letters 33, 2008). The same
    estimate as scikit-image's ``phase_cross_correlation(..., normalization=None)``, in
    float32 FFTs of the real images (half spectra: half the work).

    >>> import numpy as np
    >>> from scipy import ndimage
    >>> image = ndimage.gaussian_filter(np.random.default_rng(1).normal(size=(128, 128)), 2)
    >>> phase_correlation(image, ndimage.shift(image, (-2.3, 0.7), order=3))
    (2.3, -0.7)
    """
    if _fft is None:  # pragma: no cover - depends on the environment
        raise MissingDependencyError("scipy", "imagery")
    ref = np.asarray(reference, np.float32)
    mov = np.asarray(moving, np.float32)
    rows, cols = ref.shape
    product = _fft.rfft2(ref, workers=1) * np.conj(_fft.rfft2(mov, workers=1))
    correlation = _fft.irfft2(product, s=ref.shape, workers=1)
    peak = np.unravel_index(int(np.argmax(np.abs(correlation))), ref.shape)
    shift = np.array(peak, float)
    size = np.array(ref.shape)
    shift[shift > size // 2] -= size[shift > size // 2]
    if upsample <= 1:
        return float(shift[0]), float(shift[1])
    shift = np.round(shift * upsample) / upsample
    region = int(np.ceil(upsample * 1.5))
    centre = np.fix(region / 2.0)
    offset = centre - shift * upsample
    # the inverse DFT of the full spectrum at (centre + k / upsample) around the shift:
    # sum over k of S[k] exp(2 pi i f(k) x); for real images S[-k] = conj(S[k]), so the
    # columns the half spectrum lacks are its own, conjugated, at the mirrored frequencies
    f_rows = np.fft.fftfreq(rows, upsample)
    f_cols = np.fft.fftfreq(cols, upsample)
    at_rows = (np.arange(region) - offset[0])[:, None]
    at_cols = (np.arange(region) - offset[1])[:, None]
    k_rows = np.exp(2j * np.pi * at_rows * f_rows).astype(np.complex64)
    half = product.shape[1]
    k_cols = np.exp(2j * np.pi * at_cols * f_cols[:half]).astype(np.complex64)
    missing = np.arange(half, cols)  # columns of the full spectrum: N - k for k in 1 .. N - half
    with one_blas_thread():
        upsampled = k_rows @ product @ k_cols.T
        if len(missing):
            mirror_cols = cols - missing
            mirror_rows = (-np.arange(rows)) % rows
            k_cols_missing = np.exp(2j * np.pi * at_cols * f_cols[missing]).astype(np.complex64)
            upsampled += (
                k_rows[:, mirror_rows] @ np.conj(product[:, mirror_cols]) @ k_cols_missing.T
            )
    best = np.unravel_index(int(np.argmax(np.abs(upsampled))), upsampled.shape)
    shift = shift + (np.array(best) - centre) / upsample
    return float(round(shift[0], 6)), float(round(shift[1], 6))


def median_shift(
    pairs: list[tuple[np.ndarray, np.ndarray]], max_px: float = 16, *, high_passed: bool = False
) -> tuple[float, float]:
    """Median of the per-window shifts (windows that disagree wildly are ignored)."""
    shifts = np.array([window_shift(b, a, high_passed=high_passed) for b, a in pairs], dtype=float)
    if len(shifts) == 0:
        return 0.0, 0.0
    shifts = shifts[np.all(np.abs(shifts) <= max_px, axis=1)]
    if len(shifts) == 0:
        return 0.0, 0.0
    dy, dx = np.median(shifts, axis=0)
    return float(dy), float(dx)


def apply_subpixel_shift(image: np.ndarray, dy: float, dx: float) -> np.ndarray:
    """Resample ``image`` so that ``out[r, c] = image[r + dy, c + dx]`` (0 <= dy, dx < 1).

    Bilinear, from four shifted views (the last row and column repeat the edge).

    >>> import numpy as np
    >>> ramp = np.tile(np.arange(5, dtype=np.float32), (3, 1))
    >>> apply_subpixel_shift(ramp, 0.0, 0.25)[0].tolist()
    [0.25, 1.25, 2.25, 3.25, 4.0]
    """
    data = image.astype(np.float32, copy=False)
    if abs(dy) < 1e-3 and abs(dx) < 1e-3:
        return data
    if not (0 <= dy < 1 and 0 <= dx < 1):
        raise ValueError("sub-pixel shifts must be in [0, 1)")
    # along rows, then columns: x + f * (next - x), the next of the last being itself
    out = data.copy()
    if dx:
        step = data[:, 1:] - data[:, :-1]
        step *= np.float32(dx)
        out[:, :-1] += step
    if dy:
        step = out[1:] - out[:-1]
        step *= np.float32(dy)
        out[:-1] += step
    return out
