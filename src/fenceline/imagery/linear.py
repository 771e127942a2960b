"""Linear features from a change mask: thin it to a skeleton and trace the skeleton as lines.

>>> import numpy as np
>>> mask = np.zeros((20, 60), bool)
>>> mask[9:12, 5:55] = True
>>> lines = skeleton_lines(mask)
>>> len(lines), round(lines[0].length)
(1, 48)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely

from fenceline.errors import MissingDependencyError

__all__ = ["finish_lines", "line_key", "skeleton_lines"]

#: neighbour offsets (row, col) that each skeleton pixel links to (the other half is symmetric)
_LINKS = ((0, 1), (1, 0), (1, 1), (1, -1))


def _fill_holes(mask: np.ndarray) -> np.ndarray:
    """SciPy's ``binary_fill_holes`` by labelling the background once (4-connected, as
    there): background components that do not touch the window's edge are holes."""
    from scipy import ndimage

    background, count = ndimage.label(~mask)
    filled = np.ones(count + 1, bool)
    for edge in (background[0], background[-1], background[:, 0], background[:, -1]):
        filled[edge] = False
    filled[0] = True
    return filled[background]


def _segments(skeleton: np.ndarray) -> np.ndarray | None:
    """Segments between linked skeleton pixels (numpy; the kernels' reference), or None."""
    rows, cols = np.nonzero(skeleton)
    if len(rows) < 2:
        return None
    padded = np.pad(skeleton, 1)
    starts, ends = [], []
    for dr, dc in _LINKS:
        linked = padded[rows + 1 + dr, cols + 1 + dc]
        # diagonal links only where no 4-connected path exists, to avoid little triangles
        if dr and dc:
            linked &= ~(padded[rows + 1 + dr, cols + 1] | padded[rows + 1, cols + 1 + dc])
        starts.append(np.column_stack([cols[linked], rows[linked]]))
        ends.append(np.column_stack([cols[linked] + dc, rows[linked] + dr]))
    a = np.concatenate(starts).astype(float) + 0.5
    b = np.concatenate(ends).astype(float) + 0.5
    if len(a) == 0:
        return None
    return shapely.linestrings(np.stack([a, b], axis=1))


def _kernels() -> Any:
    """The compiled kernels module, or None (numba missing, or ``FENCELINE_NUMBA=0``)."""
    try:
        from fenceline.imagery import kernels
    except ImportError:  # pragma: no cover - depends on the environment
        return None
    return kernels if kernels.enabled() else None


def skeleton_lines(
    mask: np.ndarray, simplify_px: float = 1.0, spur_px: float = 8.0
) -> list[shapely.LineString]:
    """Centre lines of a binary mask, in pixel coordinates (x = col + 0.5, y = row + 0.5).

    The mask is thinned (scikit-image ``skeletonize``); every pair of 8-connected skeleton
    pixels becomes a segment, and the segments are merged into lines. Spurs (pieces shorter
    than ``spur_px`` with a free end) are pruned and the rest merged again, then simplified
    (:func:`finish_lines`). With numba, :func:`fenceline.imagery.kernels.trace_skeleton` merges
    and prunes in one compiled pass; GEOS's line merging is the reference it is tested against.
    """
    try:
        from skimage.morphology import skeletonize
    except ImportError:  # pragma: no cover - depends on the environment
        raise MissingDependencyError("scikit-image", "imagery") from None
    kernels = _kernels()
    if kernels is not None:
        xy, owner = kernels.trace_skeleton(skeletonize(kernels.fill_holes(mask)), spur_px)
        if len(xy) == 0:
            return []
        return list(finish_lines(shapely.linestrings(xy, indices=owner), simplify_px))
    segments = _segments(skeletonize(_fill_holes(np.asarray(mask, bool))))
    if segments is None:
        return []
    parts = shapely.get_parts(shapely.line_merge(shapely.multilinestrings(segments)))
    for _round in range(3):
        if len(parts) < 2:
            break
        # degree of each part's two ends: a free end meets no other part. Ends are pixel
        # centres (half-integers), so twice their coordinates make an exact integer key.
        ends = 2 * np.concatenate(
            [
                shapely.get_coordinates(shapely.get_point(parts, 0)),
                shapely.get_coordinates(shapely.get_point(parts, -1)),
            ]
        )
        keys = np.rint(ends[:, 0]).astype(np.int64) * (1 << 32) + np.rint(ends[:, 1]).astype(
            np.int64
        )
        _, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
        degree = counts[inverse]
        n = len(parts)
        keep = (shapely.length(parts) >= spur_px) | ((degree[:n] > 1) & (degree[n:] > 1))
        if keep.all():
            break
        if not keep.any():
            return []
        parts = shapely.get_parts(shapely.line_merge(shapely.multilinestrings(parts[keep])))
    return list(finish_lines(parts, simplify_px))


def finish_lines(parts: np.ndarray, simplify_px: float = 1.0) -> np.ndarray:
    """Merged skeleton lines, each put in GEOS's normal form (a ring starts at its lowest
    vertex; an open line runs from its lower end), then simplified (Douglas-Peucker): the
    same lines give the same result whichever vertex or direction they were traced from."""
    parts = parts[~shapely.is_empty(parts)]
    return shapely.simplify(shapely.normalize(parts), simplify_px, preserve_topology=False)


def line_key(coords: np.ndarray) -> tuple[float, ...]:
    """Sort key of a line: its vertices (lines of one component are listed in this order)."""
    return tuple(np.asarray(coords, float).ravel().tolist())
