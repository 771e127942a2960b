"""Export fences and facilities, with the dates derived from their observations.

Every exported feature carries ``built_after``, ``built_by``, ``upgraded_after``,
``upgraded_by``, ``removed_after`` and ``removed_by`` (ISO dates, empty when unknown); with
``at`` it also carries ``status`` (present / uncertain) and certainly absent features are left
out. Importing an export gives the same features and the same timeline back. The project's
``notice`` (e.g. SYNTHETIC DEMONSTRATION DATA) goes into each file's metadata, and into a
``notice`` column where the format has no metadata (CSV, Shapefile).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from fenceline.dates import from_days, parse_date, to_days
from fenceline.errors import InputError, ParameterError
from fenceline.store import AuditEntry, Snapshot
from fenceline.temporal import PRESENT, UNCERTAIN, UNKNOWN_AFTER, UNKNOWN_BY, Timeline

__all__ = [
    "EXPORT_FORMATS",
    "SHAPEFILE_DATE_NAMES",
    "export",
    "features_with_dates",
    "timeline_for",
]

EXPORT_FORMATS = {
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".gpkg": "GPKG",
    ".kml": "LIBKML",
    ".kmz": "LIBKML",
    ".csv": "CSV",
    ".shp": "ESRI Shapefile",
}
DATE_COLUMNS = (
    "built_after",
    "built_by",
    "upgraded_after",
    "upgraded_by",
    "removed_after",
    "removed_by",
)
#: Shapefile field names are at most 10 characters
SHAPEFILE_DATE_NAMES = {
    "built_after": "bld_after",
    "built_by": "bld_by",
    "upgraded_after": "upg_after",
    "upgraded_by": "upg_by",
    "removed_after": "rem_after",
    "removed_by": "rem_by",
}
_STATUS = {PRESENT: "present", UNCERTAIN: "uncertain"}


def timeline_for(features: pd.DataFrame, observations: pd.DataFrame) -> Timeline:
    """The :class:`Timeline` of ``features`` (in their order) from ``observations``."""
    position = pd.Series(np.arange(len(features)), index=features["id"].to_numpy())
    obs = observations[observations["feature_id"].isin(position.index)]
    index = position.loc[obs["feature_id"].to_numpy()].to_numpy()
    days = pd.to_datetime(obs["observed"]).to_numpy().astype("datetime64[D]").astype(np.int64)
    return Timeline.from_observations(len(features), index, days, obs["state"].to_numpy())


def _iso(days: np.ndarray) -> list[str | None]:
    return [
        None if d in (UNKNOWN_AFTER, UNKNOWN_BY) else from_days(int(d)).isoformat() for d in days
    ]


def features_with_dates(snapshot: Snapshot, table: str, at: int | None = None) -> gpd.GeoDataFrame:
    """Features of ``table`` with their derived dates (and ``status`` at day ``at``)."""
    features = getattr(snapshot, table).copy()
    timeline = timeline_for(features, snapshot.observations)
    for column in DATE_COLUMNS:
        features[column] = _iso(getattr(timeline, column))
    if at is not None:
        status = timeline.status_at(at)
        keep = status != 0
        features = features[keep].copy()
        features["status"] = [_STATUS[s] for s in status[keep]]
    features = features.drop(columns=["fid"], errors="ignore")
    return features


def _write(
    frame: gpd.GeoDataFrame,
    path: Path,
    driver: str,
    layer: str,
    notice: str | None,
    append: bool = False,
) -> None:
    layer_options: dict[str, str] = {}
    dataset_options: dict[str, str] = {}
    if notice and driver in ("GeoJSON", "GPKG"):
        layer_options["DESCRIPTION"] = notice
    if notice and driver == "LIBKML" and not append:
        dataset_options["NAME"] = notice.split(":")[0]
        dataset_options["DESCRIPTION"] = notice
    if driver == "CSV":
        layer_options["GEOMETRY"] = "AS_WKT"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        pyogrio.write_dataframe(
            frame,
            path,
            driver=driver,
            layer=layer,
            append=append,
            layer_options=layer_options or None,
            dataset_options=dataset_options or None,
        )


def export(
    project: object, out: Path, *, at: str | None, only: str | None, analyst: str
) -> dict[str, int]:
    """Write the project's fences and facilities to ``out`` (format from its suffix)."""
    suffix = out.suffix.lower()
    if suffix not in EXPORT_FORMATS:
        raise InputError(
            str(out), f"unsupported export format {suffix!r} (use {', '.join(EXPORT_FORMATS)})"
        )
    if only not in (None, "fences", "facilities"):
        raise ParameterError("--only", f"must be fences or facilities, not {only!r}")
    if not out.parent.exists():
        raise InputError(str(out), f"directory {out.parent} does not exist")
    at_day = None
    if at is not None:
        try:
            at_day = to_days(parse_date(at))
        except ValueError as exc:
            raise ParameterError("--at", str(exc)) from None
    store = project.store  # type: ignore[attr-defined]
    snapshot: Snapshot = store.snapshot()
    notice = store.meta().get("notice")
    tables = [only] if only else ["fences", "facilities"]
    frames = {t: features_with_dates(snapshot, t, at_day) for t in tables}
    driver = EXPORT_FORMATS[suffix]
    if driver == "ESRI Shapefile":
        non_empty = [t for t in tables if len(frames[t])]
        if len(non_empty) > 1:
            raise ParameterError(
                "--only",
                "a Shapefile holds one geometry type: choose --only fences or --only facilities",
            )
        frames = {t: frames[t].rename(columns=SHAPEFILE_DATE_NAMES) for t in tables}
    if notice and driver in ("CSV", "ESRI Shapefile"):
        frames = {t: f.assign(notice=notice) for t, f in frames.items()}

    tmpdir = Path(tempfile.mkdtemp(prefix=".fenceline-export-", dir=out.parent))
    try:
        tmp = tmpdir / out.name
        if driver in ("GPKG", "LIBKML"):
            # a KMZ is written as Google Earth writes it: one doc.kml in a zip
            target = tmpdir / "doc.kml" if suffix == ".kmz" else tmp
            first = True
            for table, frame in frames.items():
                _write(frame, target, driver, table, notice, append=not first)
                first = False
            if suffix == ".kmz":
                with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
                    archive.write(target, "doc.kml")
                target.unlink()
        else:
            combined = (
                pd.concat([f.assign(feature_type=t) for t, f in frames.items()], ignore_index=True)
                if len(frames) > 1
                else next(iter(frames.values()))
            )
            combined = gpd.GeoDataFrame(combined, geometry="geometry", crs="EPSG:4326")
            _write(combined, tmp, driver, out.stem, notice)
        for produced in sorted(tmpdir.iterdir()):
            os.replace(produced, out.parent / produced.name)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    counts = {f"{t}_exported": len(f) for t, f in frames.items()}
    entry = AuditEntry(
        analyst=analyst,
        action="export",
        source=str(out.resolve()),
        counts=counts,
        detail={"at": at, "only": only},
    )
    with store.transaction(entry):
        pass
    return counts
