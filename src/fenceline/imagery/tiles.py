"""Tiling: a scene is cut into core windows read with an overlap margin.

Each tile's candidates are kept only where they belong to its core window (a polygon by its
centroid, a line clipped to the core), so overlapping reads never produce duplicates.

>>> tiles = tile_grid(2500, 1200, size=1024, overlap=32)
>>> len(tiles), tiles[0].core, tiles[0].read
(6, (0, 0, 1024, 1024), (0, 0, 1056, 1056))
>>> tiles[-1].core
(2048, 1024, 452, 176)
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["STRIP_TILES", "Tile", "strip_order", "tile_grid"]

#: tiles are visited in vertical strips this many tiles wide (:func:`strip_order`)
STRIP_TILES = 4


@dataclass(frozen=True)
class Tile:
    """One tile: ``core`` and ``read`` windows as (col_off, row_off, width, height)."""

    row: int
    col: int
    core: tuple[int, int, int, int]
    read: tuple[int, int, int, int]

    @property
    def window_text(self) -> str:
        """The core window as ``col_off,row_off,width,height`` (provenance)."""
        return ",".join(str(v) for v in self.core)


def tile_grid(
    width: int,
    height: int,
    *,
    size: int = 1024,
    overlap: int = 32,
    col_range: tuple[int, int] | None = None,
    row_range: tuple[int, int] | None = None,
) -> list[Tile]:
    """Tiles covering ``width`` x ``height`` pixels (optionally only a column/row range)."""
    if size <= 0 or overlap < 0:
        raise ValueError("tile size must be positive and overlap not negative")
    c0, c1 = col_range or (0, width)
    r0, r1 = row_range or (0, height)
    c0, c1 = max(0, c0), min(width, c1)
    r0, r1 = max(0, r0), min(height, r1)
    tiles = []
    for ti, row_off in enumerate(range(0, height, size)):
        if row_off + size <= r0 or row_off >= r1:
            continue
        for tj, col_off in enumerate(range(0, width, size)):
            if col_off + size <= c0 or col_off >= c1:
                continue
            w, h = min(size, width - col_off), min(size, height - row_off)
            rc, rr = max(0, col_off - overlap), max(0, row_off - overlap)
            re_c = min(width, col_off + w + overlap)
            re_r = min(height, row_off + h + overlap)
            tiles.append(Tile(ti, tj, (col_off, row_off, w, h), (rc, rr, re_c - rc, re_r - rr)))
    return tiles


def strip_order(tiles: list[Tile], width: int = STRIP_TILES) -> list[Tile]:
    """``tiles`` in vertical strips ``width`` tiles wide, each strip row by row.

    A tile's read window shares image blocks with the tiles around it (its overlap reaches
    into their blocks). Row by row across a whole scene, the blocks a row of tiles shares with
    the next row are long gone from a cache bounded by the tile when the next row comes; in a
    strip they are one strip row back, so a block cache that holds a strip row of windows
    (:func:`fenceline.imagery.pipeline.cache_bytes`) decodes each block about once.

    >>> order = strip_order(tile_grid(6, 3, size=1, overlap=0), width=4)
    >>> [(t.row, t.col) for t in order][:9]
    [(0, 0), (0, 1), (0, 2), (0, 3), (1, 0), (1, 1), (1, 2), (1, 3), (2, 0)]
    >>> [(t.row, t.col) for t in order][12:]
    [(0, 4), (0, 5), (1, 4), (1, 5), (2, 4), (2, 5)]
    """
    if width < 1:
        raise ValueError("a strip is at least one tile wide")
    return sorted(tiles, key=lambda t: (t.col // width, t.row, t.col))
