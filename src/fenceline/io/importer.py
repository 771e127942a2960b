"""Import files into a project (all or nothing)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import geopandas as gpd
import pyogrio
import shapely

from fenceline.errors import InputError

__all__ = ["read_border", "sha256_file"]


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_border(path: Path) -> tuple[gpd.GeoDataFrame, str]:
    """Read a border line file: its LineString parts in file order, in EPSG:4326."""
    if not path.exists():
        raise InputError(str(path), "no such file")
    try:
        frame = pyogrio.read_dataframe(path)
    except Exception as exc:
        raise InputError(str(path), f"cannot be read ({exc})") from None
    if frame.crs is None:
        raise InputError(str(path), "has no coordinate reference system")
    frame = frame.to_crs("EPSG:4326")
    parts = []
    for index, geom in enumerate(frame.geometry):
        if geom is None or geom.is_empty:
            raise InputError(str(path), "empty geometry", feature=index, field="geometry")
        geom = shapely.force_2d(geom)
        if geom.geom_type == "MultiLineString":
            geom = shapely.line_merge(geom)
        if geom.geom_type == "LineString":
            parts.append(geom)
        elif geom.geom_type == "MultiLineString":
            parts.extend(geom.geoms)
        else:
            raise InputError(
                str(path), f"a border must be lines, not {geom.geom_type}", feature=index,
                field="geometry",
            )
    border = gpd.GeoDataFrame({"name": [path.stem] * len(parts)}, geometry=parts, crs="EPSG:4326")
    if "side" in frame.columns and len(frame) == len(parts):
        border["side"] = frame["side"].to_numpy()
    return border, sha256_file(path)
