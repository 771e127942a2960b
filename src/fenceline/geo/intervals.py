"""Sets of chainage intervals (km along the border): union, measure, intersection.

A set is a pair of arrays ``(start, end)``; "normalised" sets are sorted and disjoint.

>>> s = union(np.array([0.0, 1.0, 5.0]), np.array([2.0, 3.0, 6.0]))
>>> s[0].tolist(), s[1].tolist(), measure(*s)
([0.0, 5.0], [3.0, 6.0], 4.0)
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["clip_to", "intersect", "measure", "union", "union_measure"]

FloatArray = npt.NDArray[np.float64]
Intervals = tuple[FloatArray, FloatArray]


def union(start: FloatArray, end: FloatArray, *, presorted: bool = False) -> Intervals:
    """The union of intervals as a sorted set of disjoint intervals (touching ones merge)."""
    start = np.asarray(start, dtype=np.float64)
    end = np.asarray(end, dtype=np.float64)
    if len(start) == 0:
        return np.zeros(0), np.zeros(0)
    if not presorted:
        order = np.argsort(start, kind="stable")
        start, end = start[order], end[order]
    running_end = np.maximum.accumulate(end)
    new_group = np.empty(len(start), dtype=bool)
    new_group[0] = True
    new_group[1:] = start[1:] > running_end[:-1]
    group_start = start[new_group]
    last_of_group = np.r_[np.flatnonzero(new_group)[1:] - 1, len(start) - 1]
    return group_start, running_end[last_of_group]


def measure(start: FloatArray, end: FloatArray) -> float:
    """Total length of a normalised set."""
    return float(np.sum(np.asarray(end) - np.asarray(start)))


def union_measure(start: FloatArray, end: FloatArray, *, presorted: bool = False) -> float:
    """Length of the union of intervals (overlaps counted once)."""
    return measure(*union(start, end, presorted=presorted))


def intersect(a: Intervals, b: Intervals) -> Intervals:
    """Intersection of two normalised sets."""
    a_start, a_end = a
    b_start, b_end = b
    if len(a_start) == 0 or len(b_start) == 0:
        return np.zeros(0), np.zeros(0)
    i, j = np.meshgrid(np.arange(len(a_start)), np.arange(len(b_start)), indexing="ij")
    lo = np.maximum(a_start[i.ravel()], b_start[j.ravel()])
    hi = np.minimum(a_end[i.ravel()], b_end[j.ravel()])
    keep = hi > lo
    return union(lo[keep], hi[keep])


def clip_to(
    start: FloatArray, end: FloatArray, within: Intervals
) -> tuple[FloatArray, FloatArray, npt.NDArray[np.int64]]:
    """Clip many intervals to a (small) normalised set; returns the pieces and their source index.

    >>> clip_to(np.array([0.0]), np.array([10.0]), (np.array([2.0, 5.0]), np.array([3.0, 6.0])))[:2]
    (array([2., 5.]), array([3., 6.]))
    """
    starts, ends, sources = [], [], []
    for lo_w, hi_w in zip(*within, strict=True):
        lo = np.maximum(start, lo_w)
        hi = np.minimum(end, hi_w)
        keep = np.flatnonzero(hi > lo)
        starts.append(lo[keep])
        ends.append(hi[keep])
        sources.append(keep)
    if not starts:
        return np.zeros(0), np.zeros(0), np.zeros(0, dtype=np.int64)
    return np.concatenate(starts), np.concatenate(ends), np.concatenate(sources).astype(np.int64)
