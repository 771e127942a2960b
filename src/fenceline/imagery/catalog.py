"""The evidence catalog: register images in a project, export them as STAC items.

Registering an image records the sha256 of the original file (which is never modified), its
acquisition date, sensor, ground sample distance, CRS and the footprint of its valid pixels
(EPSG:4326). A working COG copy is made next to the project when the file is not a COG.

>>> import tempfile, os, fenceline
>>> from fenceline.imagery.synthetic import make_pair
>>> tmp = tempfile.mkdtemp()
>>> pair = make_pair(tmp, size=256, nuisance="none")
>>> with fenceline.create(os.path.join(tmp, "p.gpkg")) as project:
...     record = add_image(project.store, pair.before, acquired="2019-06-14", sensor="SYNTHETIC")
>>> record["gsd_m"], record["crs"]
(0.5, 'EPSG:32652')
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from fenceline.dates import DateParseError, parse_date
from fenceline.errors import InputError, MissingDependencyError, ParameterError
from fenceline.imagery.cog import is_cog, make_cog, rasterio_env
from fenceline.store import AuditEntry, Store

__all__ = [
    "ImageInfo",
    "add_image",
    "coverage",
    "get_image",
    "inspect_image",
    "sha256_file",
    "to_stac",
]


def _rasterio():
    try:
        import rasterio
        import rasterio.features
    except ImportError:  # pragma: no cover - depends on the environment
        raise MissingDependencyError("rasterio", "imagery") from None
    return rasterio


def sha256_file(path: str | os.PathLike[str], chunk: int = 1 << 22) -> str:
    """The sha256 of a file's bytes, read in chunks (memory does not grow with the file)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


class ImageInfo(dict):
    """What :func:`inspect_image` finds: crs, gsd_m, width, height, bands, footprint (4326)."""


def _crs_text(crs: Any) -> str:
    epsg = crs.to_epsg()
    return f"EPSG:{epsg}" if epsg else crs.to_wkt()


def inspect_image(path: str | os.PathLike[str]) -> ImageInfo:
    """Open an image and describe it; a file that is not usable evidence is an InputError.

    The footprint is the outline of the valid pixels (the dataset mask, read at a reduced
    resolution of at most 1024 pixels a side), in EPSG:4326.
    """
    rasterio = _rasterio()
    from pyproj import Transformer
    from rasterio.errors import RasterioIOError

    source = str(path)
    if not os.path.isfile(source):
        raise InputError(source, "no such file")
    try:
        with rasterio_env(), rasterio.open(source) as ds:
            if ds.crs is None:
                raise InputError(source, "has no CRS: georeference it first", field="crs")
            if ds.transform.is_identity or ds.transform.b != 0 or ds.transform.d != 0:
                raise InputError(
                    source, "has no usable north-up geotransform (warp it first)", field="transform"
                )
            if not ds.crs.is_projected:
                raise InputError(
                    source, "is not in a projected CRS (warp it to UTM first)", field="crs"
                )
            scale = max(1.0, max(ds.width, ds.height) / 1024)
            out_shape = (max(1, round(ds.height / scale)), max(1, round(ds.width / scale)))
            mask = ds.dataset_mask(out_shape=out_shape)
            transform = ds.transform @ rasterio.Affine.scale(
                ds.width / out_shape[1], ds.height / out_shape[0]
            )
            polygons = [
                shapely.geometry.shape(geom)
                for geom, value in rasterio.features.shapes(
                    mask, mask=mask > 0, transform=transform
                )
                if value > 0
            ]
            if not polygons:
                raise InputError(source, "has no valid pixels")
            footprint = shapely.unary_union(polygons).simplify(abs(transform.a) / 2)
            info = ImageInfo(
                crs=_crs_text(ds.crs),
                gsd_m=float(abs(ds.transform.a)),
                width=ds.width,
                height=ds.height,
                bands=ds.count,
                dtype=ds.dtypes[0],
                synthetic=ds.tags().get("SYNTHETIC", "") == "yes",
                footprint_native=footprint,
            )
            to_4326 = Transformer.from_crs(ds.crs, "EPSG:4326", always_xy=True)
    except RasterioIOError as exc:
        raise InputError(source, f"not a readable GeoTIFF ({exc})") from None
    dense = shapely.segmentize(footprint, max(info["gsd_m"] * 200, 10))
    info["footprint"] = shapely.transform(
        dense, lambda xy: np.column_stack(to_4326.transform(xy[:, 0], xy[:, 1]))
    )
    return info


def _parse_acquired(value: str | dt.date) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return parse_date(value)
    except DateParseError as exc:
        raise ParameterError("--acquired", str(exc)) from None


def add_image(
    store: Store,
    path: str | os.PathLike[str],
    *,
    acquired: str | dt.date,
    sensor: str | None = None,
    licence: str | None = None,
    image_id: str | None = None,
    analyst: str = "unknown",
    working_dir: str | os.PathLike[str] | None = None,
) -> dict[str, Any]:
    """Register an image as evidence; returns its record.

    The original file is hashed and never modified. If it is not a COG, a working COG copy is
    written to ``working_dir`` (default: ``<project>.imagery/`` next to the project file) and
    recorded as ``cog_path``. The same file registered twice is refused.
    """
    source = Path(path).resolve()
    acquired_date = _parse_acquired(acquired)
    info = inspect_image(source)
    digest = sha256_file(source)
    images = store.read_images()
    if len(images) and (images["sha256"] == digest).any():
        existing = images.loc[images["sha256"] == digest, "id"].iloc[0]
        raise InputError(str(source), f"already registered as image {existing!r}")
    image_id = image_id or f"img-{digest[:12]}"
    if len(images) and (images["id"] == image_id).any():
        raise ParameterError("--id", f"image id {image_id!r} is already used")
    working = (Path(working_dir) if working_dir else Path(f"{store.path}.imagery")).resolve()
    made: Path | None = None
    cog_path = source
    if not is_cog(source):
        made = make_cog(source, working / f"{digest}.tif")
        cog_path = made
    record = {
        "id": image_id,
        "acquired": acquired_date.isoformat(),
        "sensor": sensor or ("SYNTHETIC" if info["synthetic"] else None),
        "gsd_m": info["gsd_m"],
        "sha256": digest,
        "path": str(source),
        "licence": licence,
        "crs": info["crs"],
        "cog_path": str(cog_path),
        "width": int(info["width"]),
        "height": int(info["height"]),
        "bands": int(info["bands"]),
        "synthetic": bool(info["synthetic"]),
    }
    frame = gpd.GeoDataFrame([record], geometry=[info["footprint"]], crs="EPSG:4326")
    entry = AuditEntry(
        analyst=analyst,
        action="images.add",
        source=str(source),
        source_sha256=digest,
        detail={"id": image_id, "acquired": record["acquired"], "cog_path": str(cog_path)},
    )
    try:
        with store.transaction(entry) as tx:
            tx.upsert_images(frame)
    except BaseException:
        if made is not None and made.exists():
            made.unlink()
        raise
    return record | {"footprint": info["footprint"]}


def get_image(store: Store, image_id: str, option: str = "--image") -> pd.Series:
    """The catalog record of one image; an unknown id is a ParameterError."""
    images = store.read_images()
    match = images[images["id"] == image_id]
    if match.empty:
        known = ", ".join(images["id"].astype(str).tolist()[:10]) or "none registered"
        raise ParameterError(option, f"no image {image_id!r} in the project (known: {known})")
    return match.iloc[0]


def coverage(images: gpd.GeoDataFrame, start: dt.date | str, end: dt.date | str) -> Any:
    """Union of the footprints of images acquired in ``[start, end]`` (EPSG:4326).

    ``assessable_km`` is the border length inside the coverage of both epochs.
    """
    if len(images) == 0:
        return shapely.GeometryCollection()
    acquired = pd.to_datetime(images["acquired"]).dt.date
    keep = (acquired >= _parse_acquired(start)) & (acquired <= _parse_acquired(end))
    return shapely.unary_union(images.geometry[keep].values)


def to_stac(images: gpd.GeoDataFrame) -> dict[str, Any]:
    """The images as a STAC ItemCollection (STAC 1.0, projection and file extensions)."""
    features = []
    for _, row in images.iterrows():
        geom = row.geometry
        epsg = None
        if isinstance(row.get("crs"), str) and row["crs"].startswith("EPSG:"):
            epsg = int(row["crs"].split(":")[1])
        properties = {
            "datetime": f"{row['acquired']}T00:00:00Z",
            "gsd": row.get("gsd_m"),
            "instruments": [row["sensor"]] if row.get("sensor") else [],
            "proj:epsg": epsg,
            "fenceline:sha256": row.get("sha256"),
            "license": row.get("licence") or "proprietary",
        }
        if bool(row.get("synthetic", False)):
            properties["description"] = "SYNTHETIC image made by fenceline for tests"
        assets = {
            "original": {
                "href": Path(str(row["path"])).resolve().as_uri(),
                "type": "image/tiff; application=geotiff",
                "roles": ["data", "evidence"],
                "file:checksum": "1220" + str(row.get("sha256")),
            }
        }
        if row.get("cog_path") and row.get("cog_path") != row.get("path"):
            assets["working_cog"] = {
                "href": Path(str(row["cog_path"])).resolve().as_uri(),
                "type": "image/tiff; application=geotiff; profile=cloud-optimized",
                "roles": ["data"],
            }
        features.append(
            {
                "type": "Feature",
                "stac_version": "1.0.0",
                "stac_extensions": [
                    "https://stac-extensions.github.io/projection/v1.1.0/schema.json",
                    "https://stac-extensions.github.io/file/v2.1.0/schema.json",
                ],
                "id": str(row["id"]),
                "geometry": shapely.geometry.mapping(geom) if geom is not None else None,
                "bbox": list(geom.bounds) if geom is not None else None,
                "properties": properties,
                "assets": assets,
                "links": [],
            }
        )
    return {"type": "FeatureCollection", "features": features}
