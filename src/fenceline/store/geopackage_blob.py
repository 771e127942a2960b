"""GeoPackage geometry blobs (OGC 12-128r18 §2.1.3): a header and ISO WKB.

Vectorised over arrays of shapely geometries, so a store can write 100,000 features without
a Python loop doing geometry work.

>>> import shapely
>>> blobs = encode([shapely.Point(1, 2)], srs_id=4326)
>>> decode(blobs)[0].wkt
'POINT (1 2)'
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

import numpy as np
import shapely

__all__ = ["decode", "encode"]

_MAGIC = b"GP"
# flags: bit 0 little-endian; bits 1-3 envelope code (1 = xy); bit 4 empty geometry
_FLAGS_XY_ENVELOPE = 0b0000_0011
_FLAGS_NO_ENVELOPE = 0b0000_0001
_FLAGS_EMPTY = 0b0001_0001
_ENVELOPE_DOUBLES = {0: 0, 1: 4, 2: 6, 3: 6, 4: 8}


def encode(
    geometries: Sequence[shapely.Geometry | None] | np.ndarray, srs_id: int = 4326
) -> list[bytes | None]:
    """Encode geometries (None stays None) as GeoPackage blobs with an xy envelope."""
    geoms = np.asarray(geometries, dtype=object)
    out: list[bytes | None] = [None] * len(geoms)
    if len(geoms) == 0:
        return out
    missing = shapely.is_missing(geoms)
    wkb = shapely.to_wkb(geoms, byte_order=1, flavor="iso", include_srid=False)
    empty = shapely.is_empty(geoms)
    srs = struct.pack("<i", srs_id)
    # every header with its envelope (minx, maxx, miny, maxy) at once: 8 + 32 bytes each
    headers = np.zeros(len(geoms), _HEADER)
    headers["start"] = np.frombuffer(_MAGIC + bytes((0, _FLAGS_XY_ENVELOPE)) + srs, "<u8")[0]
    headers["envelope"] = shapely.bounds(geoms)[:, [0, 2, 1, 3]]
    packed = headers.tobytes()
    empty_header = _MAGIC + bytes((0, _FLAGS_EMPTY)) + srs
    size = _HEADER.itemsize
    for i in np.flatnonzero(~missing).tolist():
        if empty[i]:
            out[i] = empty_header + wkb[i]
        else:
            out[i] = packed[i * size : (i + 1) * size] + wkb[i]
    return out


#: a header with an xy envelope: magic, version, flags and srs id (8 bytes), 4 doubles
_HEADER = np.dtype([("start", "<u8"), ("envelope", "<f8", 4)])


def _wkb_offset(blob: bytes) -> int:
    if blob[:2] != _MAGIC:
        raise ValueError("not a GeoPackage geometry blob")
    flags = blob[3]
    envelope = (flags >> 1) & 0b111
    if envelope not in _ENVELOPE_DOUBLES:
        raise ValueError(f"bad GeoPackage envelope code {envelope}")
    return 8 + 8 * _ENVELOPE_DOUBLES[envelope]


def decode(blobs: Sequence[bytes | None]) -> np.ndarray:
    """Decode GeoPackage blobs to shapely geometries (2D; None stays None)."""
    wkb: list[bytes | None] = [None if b is None else bytes(b)[_wkb_offset(b) :] for b in blobs]
    geoms = shapely.from_wkb(np.asarray(wkb, dtype=object))
    if len(geoms) and shapely.has_z(geoms).any():
        geoms = shapely.force_2d(geoms)
    return geoms
