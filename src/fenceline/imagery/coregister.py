"""Co-registration: the shift of the after image against the before image.

Phase correlation (scikit-image) on high-passed sample windows spread over the overlap; the
median of the windows' sub-pixel shifts is the correction. A shift ``(dy, dx)`` means the
after image's pixel ``(row + dy, col + dx)`` shows what the before image shows at ``(row, col)``.

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

import numpy as np

from fenceline.errors import MissingDependencyError
from fenceline.imagery.radiometry import high_pass

__all__ = ["apply_subpixel_shift", "median_shift", "window_shift"]


def window_shift(before: np.ndarray, after: np.ndarray) -> tuple[float, float]:
    """Sub-pixel shift of ``after`` against ``before`` (same shape) by phase correlation."""
    try:
        from skimage.registration import phase_cross_correlation
    except ImportError:  # pragma: no cover - depends on the environment
        raise MissingDependencyError("scikit-image", "imagery") from None
    shift, _error, _phase = phase_cross_correlation(
        high_pass(before, 15), high_pass(after, 15), upsample_factor=10, normalization=None
    )
    return float(-shift[0]), float(-shift[1])


def median_shift(
    pairs: list[tuple[np.ndarray, np.ndarray]], max_px: float = 16
) -> tuple[float, float]:
    """Median of the per-window shifts (windows that disagree wildly are ignored)."""
    shifts = np.array([window_shift(b, a) for b, a in pairs], dtype=float)
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
