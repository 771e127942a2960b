"""Linear features from a change mask: thin it to a skeleton and trace the skeleton as lines.

>>> import numpy as np
>>> mask = np.zeros((20, 60), bool)
>>> mask[9:12, 5:55] = True
>>> lines = skeleton_lines(mask)
>>> len(lines), round(lines[0].length)
(1, 46)
"""

from __future__ import annotations

import numpy as np
import shapely

from fenceline.imagery.radiometry import _kernels

__all__ = ["finish_lines", "line_key", "skeleton_lines", "thin", "zhang_suen_table"]

#: neighbour offsets (row, col) that each skeleton pixel links to (the other half is symmetric)
_LINKS = ((0, 1), (1, 0), (1, 1), (1, -1))


def zhang_suen_table() -> np.ndarray:
    """Which pixels the thinning removes, by the pattern of their 8 neighbours.

    Entry ``n`` describes a pixel whose neighbours are set as the bits of ``n`` say (1 = NW,
    2 = N, 4 = NE, 8 = E, 16 = SE, 32 = S, 64 = SW, 128 = W): 1 if the first sub-iteration
    removes it, 2 if the second does, 3 if both do, 0 if neither. The conditions are Zhang
    and Suen's (1984): between 2 and 6 neighbours set, exactly one 0-to-1 transition around
    them (N, NE, E, ..., NW, N), and N·E·S = E·S·W = 0 (first) or N·E·W = N·S·W = 0 (second).

    >>> table = zhang_suen_table()
    >>> int(table[0b00000010 | 0b00000100]), int(table[255]), int(table[0b00001000])
    (3, 0, 0)
    """
    table = np.zeros(256, np.uint8)
    for n in range(256):
        nw, north, ne, east, se, south, sw, west = ((n >> i) & 1 for i in range(8))
        ring = (north, ne, east, se, south, sw, west, nw)
        count = sum(ring)
        transitions = sum(1 for i in range(8) if ring[i] == 0 and ring[(i + 1) % 8] == 1)
        if not (2 <= count <= 6 and transitions == 1):
            continue
        first = north * east * south == 0 and east * south * west == 0
        second = north * east * west == 0 and north * south * west == 0
        table[n] = int(first) + 2 * int(second)
    return table


_ZHANG_SUEN = zhang_suen_table()


def thin(mask: np.ndarray) -> np.ndarray:
    """Zhang and Suen's thinning (1984) of a binary mask to a skeleton (numpy; the compiled
    :func:`fenceline.imagery.kernels.thin` is tested against it): two sub-iterations, each
    removing at once every pixel :func:`zhang_suen_table` marks for it, until none is.

    >>> import numpy as np
    >>> bar = np.zeros((7, 12), bool)
    >>> bar[2:5, 1:11] = True
    >>> thin(bar).sum(axis=0).tolist()
    [0, 0, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0]
    """
    image = np.pad(np.asarray(mask, bool), 1).astype(np.uint8)
    centre = image[1:-1, 1:-1]
    while True:
        removed = False
        for step in (1, 2):
            code = (
                image[:-2, :-2]
                | image[:-2, 1:-1] << 1
                | image[:-2, 2:] << 2
                | image[1:-1, 2:] << 3
                | image[2:, 2:] << 4
                | image[2:, 1:-1] << 5
                | image[2:, :-2] << 6
                | image[1:-1, :-2] << 7
            )
            which = _ZHANG_SUEN[code]
            remove = (centre == 1) & ((which == 3) | (which == step))
            if remove.any():
                centre[remove] = 0
                removed = True
        if not removed:
            return centre.astype(bool)


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


def skeleton_lines(
    mask: np.ndarray, simplify_px: float = 1.0, spur_px: float = 8.0
) -> list[shapely.LineString]:
    """Centre lines of a binary mask, in pixel coordinates (x = col + 0.5, y = row + 0.5).

    The mask's holes are filled and it is thinned (:func:`thin`); every pair of 8-connected skeleton
    pixels becomes a segment, and the segments are merged into lines. Spurs (pieces shorter
    than ``spur_px`` with a free end) are pruned and the rest merged again, then simplified
    (:func:`finish_lines`). With numba the thinning, merging and pruning are compiled
    (:mod:`fenceline.imagery.kernels`); this numpy and GEOS code is the reference they are tested
    against.
    """
    kernels = _kernels()
    if kernels is not None:
        xy, owner = kernels.trace_skeleton(kernels.thin(kernels.fill_holes(mask)), spur_px)
        if len(xy) == 0:
            return []
        return list(finish_lines(shapely.linestrings(xy, indices=owner), simplify_px))
    segments = _segments(thin(_fill_holes(np.asarray(mask, bool))))
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


def line_keys(coords: np.ndarray, counts: np.ndarray) -> list[tuple[float, ...]]:
    """:func:`line_key` of each of several lines, from their vertices one after the other
    (``counts[i]`` for line ``i``, as ``shapely.get_coordinates`` lists them), without an
    array per line.

    >>> import numpy as np
    >>> line_keys(np.array([[0, 1], [2, 3], [4, 5]]), np.array([2, 1]))
    [(0.0, 1.0, 2.0, 3.0), (4.0, 5.0)]
    """
    flat = np.asarray(coords, float).ravel().tolist()
    ends = (2 * np.cumsum(counts)).tolist()
    starts = [0, *ends[:-1]] if ends else []
    return [tuple(flat[start:end]) for start, end in zip(starts, ends, strict=True)]
