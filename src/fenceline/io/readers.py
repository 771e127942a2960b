"""Read vector files into a GeoDataFrame in EPSG:4326, with one clear error for bad input.

Formats: GeoJSON, GeoPackage, Shapefile (also zipped), KML and KMZ as Google Earth Pro writes
them (nested folders, ExtendedData, styles, 3D coordinates), CSV with lon/lat or WKT columns.
Every problem is an :class:`~fenceline.errors.InputError` naming the file, the feature (0-based
index in the file) and the field.
"""

from __future__ import annotations

import re
import struct
import warnings
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError

from fenceline.errors import InputError
from fenceline.settings import settings

__all__ = ["SUPPORTED_SUFFIXES", "check_archive", "read_vector"]

SUPPORTED_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp", ".zip", ".kml", ".kmz", ".csv")

#: fields LIBKML adds for KML structure; they carry no analyst data
KML_STRUCTURAL_FIELDS = (
    "altitudeMode",
    "tessellate",
    "extrude",
    "visibility",
    "drawOrder",
    "icon",
    "snippet",
    "begin",
    "end",
    "timestamp",
)

_LON_NAMES = ("lon", "lng", "long", "longitude", "x")
_LAT_NAMES = ("lat", "latitude", "y")
_WKT_NAMES = ("wkt", "geometry", "geom", "the_geom", "shape")


def check_archive(path: Path) -> zipfile.ZipFile:
    """Open a zip archive (KMZ, zipped Shapefile) after guarding against zip bombs.

    Refuses archives that unpack to more than ``FENCELINE_MAX_UNZIPPED_MB`` in all, members
    compressed more than ``FENCELINE_MAX_ZIP_RATIO`` times, and archives nested in archives.
    """
    try:
        archive = zipfile.ZipFile(path)
        members = archive.infolist()
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise InputError(
            str(path), f"not a readable zip archive (truncated or corrupt: {exc})"
        ) from None
    limits = settings()
    total = sum(m.file_size for m in members)
    if total > limits.max_unzipped_mb * 1024 * 1024:
        archive.close()
        raise InputError(
            str(path),
            f"archive would unpack to {total / 2**20:,.0f} MiB, over the limit of "
            f"{limits.max_unzipped_mb:,.0f} MiB (FENCELINE_MAX_UNZIPPED_MB): refusing a possible zip bomb",
        )
    for member in members:
        if member.file_size > 1_000_000 and member.file_size > limits.max_zip_ratio * max(
            member.compress_size, 1
        ):
            archive.close()
            raise InputError(
                str(path),
                f"member {member.filename!r} is compressed {member.file_size / max(member.compress_size, 1):,.0f} "
                f"times (limit {limits.max_zip_ratio:,.0f}, FENCELINE_MAX_ZIP_RATIO): refusing a possible zip bomb",
            )
        if member.filename.lower().endswith((".zip", ".kmz")):
            archive.close()
            raise InputError(
                str(path), f"archive nested in an archive ({member.filename!r}) is not read"
            )
    bad = archive.testzip() if total < 256 * 2**20 else None
    if bad is not None:
        archive.close()
        raise InputError(str(path), f"archive member {bad!r} is corrupt")
    return archive


def _check_shapefile(path: Path) -> None:
    """A truncated .shp still opens in GDAL and silently loses features: check its header."""
    with open(path, "rb") as fh:
        header = fh.read(100)
    if len(header) < 100 or struct.unpack(">i", header[:4])[0] != 9994:
        raise InputError(str(path), "not a Shapefile (bad .shp header)")
    declared = struct.unpack(">i", header[24:28])[0] * 2
    actual = path.stat().st_size
    if declared != actual:
        raise InputError(
            str(path), f"truncated or corrupt: header says {declared:,} bytes, file has {actual:,}"
        )


def _check_geojson_crs(path: Path) -> None:
    """GDAL reads a GeoJSON whose (pre-RFC 7946) ``crs`` member it does not know as WGS84,
    silently. Refuse it instead: coordinates in an unknown CRS must not be taken as lon/lat."""
    with open(path, "rb") as fh:
        head = fh.read(1 << 16).decode("utf-8", errors="replace")
    match = re.search(
        r'"crs"\s*:\s*\{[^{}]*"properties"\s*:\s*\{[^{}]*"name"\s*:\s*"([^"]+)"', head
    )
    if match is None:
        return
    try:
        CRS.from_user_input(match.group(1))
    except CRSError:
        raise InputError(
            str(path), f"unknown coordinate reference system {match.group(1)!r}", field="crs"
        ) from None


def _read_ogr(path: Path | str, label: str, layer: str | None = None) -> gpd.GeoDataFrame:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return pyogrio.read_dataframe(path, layer=layer, use_arrow=False)
    except Exception as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(label, f"cannot be read ({message})") from None


def _list_layers(path: Path | str, label: str) -> list[str]:
    try:
        return [str(name) for name, _ in pyogrio.list_layers(path)]
    except Exception as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(label, f"cannot be read ({message})") from None


def _read_kml(path: Path, label: str, layer: str | None = None) -> gpd.GeoDataFrame:
    """All placemarks of all folders, or of the folder ``layer`` (LIBKML: a folder is a layer)."""
    source: Path | str = path
    if path.suffix.lower() == ".kmz":
        # read a single-document KMZ through its doc.kml, so that its schema references
        # (#name.schema) resolve
        with check_archive(path) as archive:
            kmls = [m.filename for m in archive.infolist() if m.filename.lower().endswith(".kml")]
        if not kmls:
            raise InputError(label, "KMZ holds no .kml document")
        if len(kmls) == 1:  # Google Earth's layout: one document
            source = f"/vsizip/{path}/{kmls[0]}"
        # else GDAL's layout (doc.kml linking layers/*.kml): LIBKML reads the archive itself
    frames = []
    names = _list_layers(source, label)
    if layer is not None:
        if layer not in names:
            raise InputError(label, f"has no folder {layer!r} (folders: {', '.join(names)})")
        names = [layer]
    for name in names:
        frame = _read_ogr(source, label, layer=name)
        if len(frame) == 0:
            continue
        frame["folder"] = name
        frames.append(frame)
    if not frames:
        raise InputError(label, "holds no placemarks")
    out = pd.concat(frames, ignore_index=True)
    drop = [c for c in KML_STRUCTURAL_FIELDS if c in out.columns and c != "timestamp"]
    out = out.drop(columns=drop)
    if "timestamp" in out.columns and out["timestamp"].isna().all():
        out = out.drop(columns="timestamp")
    if out.crs is None:
        out = out.set_crs("EPSG:4326")
    return gpd.GeoDataFrame(out, geometry="geometry", crs=out.crs)


def _read_zip(path: Path, label: str, layer: str | None) -> gpd.GeoDataFrame:
    archive = check_archive(path)
    with archive:
        shps = [m.filename for m in archive.infolist() if m.filename.lower().endswith(".shp")]
        if not shps:
            names = [
                m.filename
                for m in archive.infolist()
                if m.filename.lower().endswith((".geojson", ".gpkg", ".kml", ".csv"))
            ]
            if len(names) == 1:
                shps = names
            else:
                raise InputError(label, "zip archive holds no Shapefile (.shp)")
        if layer is not None:
            shps = [s for s in shps if Path(s).stem == layer] or shps
        if len(shps) > 1:
            raise InputError(
                label, f"zip archive holds several Shapefiles {shps}; choose one with --layer"
            )
        member = shps[0]
        if member.lower().endswith(".shp"):
            dbf = member[:-4] + ".dbf"
            expected = {member, dbf}
            present = {m.filename for m in archive.infolist()}
            if not expected <= present:
                raise InputError(label, f"zip archive lacks {sorted(expected - present)}")
            with archive.open(member) as fh:
                header = fh.read(100)
            declared = struct.unpack(">i", header[24:28])[0] * 2 if len(header) == 100 else -1
            if declared != archive.getinfo(member).file_size:
                raise InputError(label, f"{member} is truncated or corrupt")
    return _read_ogr(f"/vsizip/{path}/{member}", label)


def _find(columns: list[str], names: tuple[str, ...], mapped: str | None, label: str) -> str | None:
    lower = {c.lower(): c for c in columns}
    if mapped is not None:
        if mapped.lower() not in lower:
            raise InputError(
                label, f"no such field (fields are: {', '.join(columns)})", field=mapped
            )
        return lower[mapped.lower()]
    for name in names:
        if name in lower:
            return lower[name]
    return None


def _read_csv(
    path: Path, label: str, field_map: dict[str, str], need_geometry: bool
) -> gpd.GeoDataFrame:
    try:
        frame = pd.read_csv(
            path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8-sig"
        )
    except UnicodeDecodeError:
        raise InputError(label, "is not UTF-8 text") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(
            label, f"cannot be read as CSV ({str(exc).strip().splitlines()[0]})"
        ) from None
    columns = list(frame.columns)
    wkt = _find(columns, _WKT_NAMES, field_map.get("wkt"), label)
    lon = _find(columns, _LON_NAMES, field_map.get("lon"), label)
    lat = _find(columns, _LAT_NAMES, field_map.get("lat"), label)
    if wkt is not None:
        geometry = np.empty(len(frame), dtype=object)
        for index, text in enumerate(frame[wkt].tolist()):
            if text is None or (isinstance(text, float) and np.isnan(text)):
                geometry[index] = None
                continue
            try:
                geometry[index] = shapely.from_wkt(text)
            except shapely.errors.GEOSException as exc:
                raise InputError(
                    label, f"not valid WKT ({exc})", feature=index, field=wkt
                ) from None
        frame = frame.drop(columns=[wkt])
    elif lon is not None and lat is not None:
        xs = np.empty(len(frame))
        ys = np.empty(len(frame))
        for column, out in ((lon, xs), (lat, ys)):
            values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
            bad = np.flatnonzero(np.isnan(values) & frame[column].notna().to_numpy())
            if len(bad):
                raise InputError(
                    label,
                    f"not a number: {frame[column].iloc[bad[0]]!r}",
                    feature=int(bad[0]),
                    field=column,
                )
            out[:] = values
        missing = np.isnan(xs) | np.isnan(ys)
        geometry = shapely.points(xs, ys)
        geometry[missing] = None
        frame = frame.drop(columns=[lon, lat])
    elif need_geometry:
        raise InputError(
            label,
            "has no coordinate columns: expected lon/lat (or longitude/latitude, x/y) or a WKT "
            "column (wkt, geometry); name yours with --map lon=COL --map lat=COL or --map wkt=COL",
            field="lon/lat",
        )
    else:
        geometry = np.full(len(frame), None, dtype=object)
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geometry), crs=None)


def read_vector(
    path: Path,
    *,
    layer: str | None = None,
    crs: str | None = None,
    field_map: dict[str, str] | None = None,
    need_geometry: bool = True,
    prefer_layer: str | None = None,
) -> gpd.GeoDataFrame:
    """Read a vector file as a GeoDataFrame in EPSG:4326 (2D), attributes as they are.

    Parameters
    ----------
    path : Path
        The file.
    layer : str, optional
        Which layer (GeoPackage, multi-Shapefile zip). KML/KMZ reads every folder.
    crs : str, optional
        CRS to assume when the file declares none (CSV is EPSG:4326 unless given).
    field_map : dict, optional
        For CSV: ``lon``, ``lat`` or ``wkt`` column names.
    need_geometry : bool
        False for tables (observations, areas by chainage) that may have no geometry.
    prefer_layer : str, optional
        Layer to take from a multi-layer file when ``layer`` is not given (e.g. ``fences``).
    """
    label = str(path)
    if not path.exists():
        raise InputError(label, "no such file")
    if path.is_dir():
        raise InputError(label, "is a directory, not a file")
    if path.stat().st_size == 0:
        raise InputError(label, "is empty (0 bytes)")
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise InputError(
            label, f"unsupported format {suffix!r} (supported: {', '.join(SUPPORTED_SUFFIXES)})"
        )
    declared_crs: CRS | None = None
    if suffix in (".kml", ".kmz"):
        frame = _read_kml(path, label, layer)
    elif suffix == ".zip":
        frame = _read_zip(path, label, layer)
    elif suffix == ".csv":
        frame = _read_csv(path, label, field_map or {}, need_geometry)
        if crs is None:
            crs = "EPSG:4326"
    else:
        if suffix == ".shp":
            _check_shapefile(path)
        if suffix in (".geojson", ".json"):
            _check_geojson_crs(path)
        chosen = layer
        if chosen is None and suffix == ".gpkg":
            layers = _list_layers(path, label)
            if len(layers) > 1:
                if prefer_layer in layers:
                    chosen = prefer_layer
                else:
                    raise InputError(
                        label, f"holds several layers {layers}; choose one with --layer"
                    )
        frame = _read_ogr(path, label, layer=chosen)
    if crs is not None:
        try:
            declared_crs = CRS.from_user_input(crs)
        except CRSError as exc:
            raise InputError("--crs", f"unknown CRS {crs!r} ({exc})") from None
    if frame.crs is None:
        if not need_geometry and frame.geometry.isna().all():
            return frame.set_crs("EPSG:4326", allow_override=True)
        if declared_crs is None:
            raise InputError(
                label,
                "declares no coordinate reference system (a Shapefile without .prj?); "
                "give it with --crs EPSG:XXXX",
            )
        frame = frame.set_crs(declared_crs)
    if frame.crs.to_epsg() != 4326:
        try:
            frame = frame.to_crs("EPSG:4326")
        except Exception as exc:
            raise InputError(
                label, f"cannot be transformed to EPSG:4326 from {frame.crs.name} ({exc})"
            ) from None
    present = ~frame.geometry.isna().to_numpy()
    geoms = frame.geometry.to_numpy()
    if present.any() and shapely.has_z(geoms[present]).any():
        geoms = geoms.copy()
        geoms[present] = shapely.force_2d(geoms[present])
        frame = frame.set_geometry(gpd.GeoSeries(geoms, index=frame.index, crs="EPSG:4326"))
    return frame
