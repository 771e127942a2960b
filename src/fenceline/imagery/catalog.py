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
import os
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from fenceline.dates import DateParseError, parse_date
from fenceline.errors import InputError, MissingDependencyError, ParameterError
from fenceline.hashing import sha256_file
from fenceline.imagery.cog import is_cog, make_cog, rasterio_env
from fenceline.store import AuditEntry, Store

__all__ = [
    "ImageInfo",
    "add_image",
    "assessable_coverage",
    "coverage",
    "epoch_coverage",
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


def get_image(
    store: Store, image_id: str, option: str = "--image", images: pd.DataFrame | None = None
) -> pd.Series:
    """The catalog record of one image (from ``images``, the catalog already read, when
    given); an unknown id is a ParameterError."""
    if images is None:
        images = store.read_images()
    where = np.flatnonzero(images["id"].to_numpy() == image_id)
    if len(where) == 0:
        known = ", ".join(images["id"].astype(str).tolist()[:10]) or "none registered"
        raise ParameterError(option, f"no image {image_id!r} in the project (known: {known})")
    return images.iloc[int(where[0])]


def _acquired_days(images: gpd.GeoDataFrame) -> np.ndarray:
    """The ``acquired`` column as days since 1970 (the images layer stores ISO dates)."""
    text = images["acquired"].astype(str).str.slice(0, 10).to_numpy()
    try:
        return np.asarray(text, dtype="datetime64[D]").astype(np.int64)
    except ValueError as exc:
        raise ParameterError("images", f"an acquisition date cannot be read: {exc}") from None


def _valid_footprints(images: gpd.GeoDataFrame) -> np.ndarray:
    geoms = np.asarray(images.geometry.values, dtype=object)
    return np.array([g is not None and not g.is_empty for g in geoms], dtype=bool)


def coverage(images: gpd.GeoDataFrame, start: dt.date | str, end: dt.date | str) -> Any:
    """Union of the valid-pixel footprints of images acquired in ``[start, end]`` (EPSG:4326).

    >>> import geopandas as gpd, shapely
    >>> images = gpd.GeoDataFrame(
    ...     {"acquired": ["2019-06-14", "2021-09-27"]},
    ...     geometry=[shapely.box(0, 0, 2, 1), shapely.box(1, 0, 3, 1)], crs=4326)
    >>> coverage(images, "2019-01-01", "2019-12-31").bounds
    (0.0, 0.0, 2.0, 1.0)
    """
    if len(images) == 0:
        return shapely.GeometryCollection()
    days = _acquired_days(images)
    first = np.datetime64(_parse_acquired(start), "D").astype(np.int64)
    last = np.datetime64(_parse_acquired(end), "D").astype(np.int64)
    keep = _valid_footprints(images) & (days >= first) & (days <= last)
    return shapely.union_all(images.geometry.values[keep])


def epoch_coverage(
    images: gpd.GeoDataFrame, since: dt.date | str, at: dt.date | str
) -> tuple[Any, Any]:
    """Valid-pixel coverage of the two epochs of a comparison ``since`` -> ``at`` (EPSG:4326).

    The *since* epoch is every image acquired on or before ``since``; the *at* epoch every
    image acquired after ``since`` and on or before ``at``. Each is the union of the images'
    footprints (the outline of their valid pixels, as ``fenceline images add`` records it in
    the ``images`` layer: geometry in EPSG:4326 and the ISO date ``acquired``). An epoch with
    no image is an empty geometry.

    >>> import geopandas as gpd, shapely
    >>> images = gpd.GeoDataFrame(
    ...     {"acquired": ["2019-06-14", "2021-09-27", "2023-05-01"]},
    ...     geometry=[shapely.box(0, 0, 2, 1), shapely.box(1, 0, 3, 1), shapely.box(9, 9, 10, 10)],
    ...     crs=4326)
    >>> since_cover, at_cover = epoch_coverage(images, "2020-01-01", "2022-01-01")
    >>> since_cover.bounds, at_cover.bounds
    ((0.0, 0.0, 2.0, 1.0), (1.0, 0.0, 3.0, 1.0))
    """
    since_day = np.datetime64(_parse_acquired(since), "D").astype(np.int64)
    at_day = np.datetime64(_parse_acquired(at), "D").astype(np.int64)
    if at_day <= since_day:
        raise ParameterError("--at", "must be later than --since")
    if len(images) == 0:
        return shapely.GeometryCollection(), shapely.GeometryCollection()
    days = _acquired_days(images)
    valid = _valid_footprints(images)
    geoms = images.geometry.values
    before = valid & (days <= since_day)
    after = valid & (days > since_day) & (days <= at_day)
    return shapely.union_all(geoms[before]), shapely.union_all(geoms[after])


def assessable_coverage(
    images: gpd.GeoDataFrame, since: dt.date | str, at: dt.date | str
) -> Any | None:
    """Where both epochs of ``since`` -> ``at`` were imaged: the denominator of ``assessable_km``.

    The intersection of the two :func:`epoch_coverage` unions (EPSG:4326, made valid);
    ``None`` when no image is registered (``assessable_km`` is then null), an empty geometry
    when an epoch has no image (``assessable_km`` is 0). ``assessable_km`` is the geodesic
    length of the border inside this geometry (and inside the area).

    >>> import geopandas as gpd, shapely
    >>> images = gpd.GeoDataFrame(
    ...     {"acquired": ["2019-06-14", "2021-09-27"]},
    ...     geometry=[shapely.box(0, 0, 2, 1), shapely.box(1, 0, 3, 1)], crs=4326)
    >>> assessable_coverage(images, "2020-01-01", "2022-01-01").bounds
    (1.0, 0.0, 2.0, 1.0)
    >>> assessable_coverage(images.iloc[0:0], "2020-01-01", "2022-01-01") is None
    True
    """
    if len(images) == 0:
        return None
    since_cover, at_cover = epoch_coverage(images, since, at)
    return shapely.make_valid(shapely.intersection(since_cover, at_cover))


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
