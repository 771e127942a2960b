"""Shared fixtures for the I/O tests: small fence and facility layers written by GDAL."""

from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

DATA = Path(__file__).parent.parent / "data"


def fence_layer() -> gpd.GeoDataFrame:
    lines = [
        shapely.LineString(
            [(129.7403214, 42.4458132), (129.7441519, 42.4479233), (129.7502237, 42.4501174)]
        ),
        shapely.LineString([(126.1234567, 41.4000001), (126.1300003, 41.4100009)]),
        shapely.LineString(
            [(124.5000001, 40.1000001), (124.5100002, 40.1050003), (124.5200009, 40.1099997)]
        ),
    ]
    return gpd.GeoDataFrame(
        {
            "id": ["F1", "F2", "F3"],
            "Fence_Type": ["Main", "secondary", "Tertiary"],
            "height_m": [3.5, 2.25, 4.0],
            "posts": [120, 45, 80],
            "remark": ["double, concertina wire", "near road", "kind of 'wall'"],
            "first_seen": ["2022-04-11", "2021-09-30", "2023-01-15"],
            "last_absent": ["2019-06-02", None, "2020-03-01"],
        },
        geometry=lines,
        crs="EPSG:4326",
    )


def facility_layer() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "id": ["P1", "P2"],
            "type": ["Guard post", "watchtower"],
            "remark": ["on the ridge", "old tower"],
            "first_seen": ["2022-04-11", "2019-05-01"],
        },
        geometry=[shapely.Point(129.7421877, 42.4466102), shapely.Point(126.1250001, 41.4050003)],
        crs="EPSG:4326",
    )


def write_with_gdal(frame: gpd.GeoDataFrame, directory: Path, fmt: str, name: str) -> Path:
    """Write ``frame`` as ``fmt`` with GDAL itself (CSV with pandas, as spreadsheets write it)."""
    directory.mkdir(parents=True, exist_ok=True)
    if fmt == "geojson":
        path = directory / f"{name}.geojson"
        pyogrio.write_dataframe(frame, path, driver="GeoJSON")
    elif fmt == "gpkg":
        path = directory / f"{name}.gpkg"
        pyogrio.write_dataframe(frame, path, driver="GPKG", layer=name)
    elif fmt == "shp":
        path = directory / f"{name}.shp"
        pyogrio.write_dataframe(frame, path, driver="ESRI Shapefile")
    elif fmt == "shp.zip":
        inner = write_with_gdal(frame, directory / "shp", "shp", name)
        path = directory / f"{name}.zip"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            for part in inner.parent.glob(f"{name}.*"):
                archive.write(part, part.name)
    elif fmt == "kml":
        path = directory / f"{name}.kml"
        pyogrio.write_dataframe(frame, path, driver="LIBKML", layer=name)
    elif fmt == "kmz":
        path = directory / f"{name}.kmz"
        pyogrio.write_dataframe(frame, path, driver="LIBKML", layer=name)
    elif fmt == "csv":
        path = directory / f"{name}.csv"
        table = pd.DataFrame(frame.drop(columns="geometry"))
        if (frame.geom_type == "Point").all():
            table["lon"] = frame.geometry.x
            table["lat"] = frame.geometry.y
        else:
            table["wkt"] = shapely.to_wkt(frame.geometry.to_numpy(), rounding_precision=-1)
        table.to_csv(path, index=False)
    else:
        raise ValueError(fmt)
    return path


def google_earth_kmz(directory: Path) -> Path:
    """The committed Google Earth Pro KML, zipped as Google Earth writes a KMZ (doc.kml)."""
    path = directory / "google_earth_fences.kmz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(DATA / "google_earth_fences.kml", "doc.kml")
    return path


def same_value(a: object, b: object) -> bool:
    """Attribute equality across formats (CSV and KML may hand numbers back as text)."""

    def missing(v: object) -> bool:
        return v is None or (isinstance(v, float) and np.isnan(v)) or v == ""

    if missing(a) or missing(b):
        return missing(a) and missing(b)
    try:
        return bool(np.isclose(float(a), float(b), rtol=0, atol=1e-9))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(a) == str(b)
