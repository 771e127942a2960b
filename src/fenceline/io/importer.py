"""Import a file into a project: read, map, validate everything, then write in one transaction.

All or nothing: the whole file is read and checked before anything is written, and the write
is one SQLite transaction, so a bad feature (or a killed process) leaves the project unchanged.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from fenceline.dates import DateParseError, parse_date
from fenceline.errors import InputError, ParameterError
from fenceline.hashing import sha256_file
from fenceline.io.mapping import normalise_value
from fenceline.io.readers import read_vector
from fenceline.store import AuditEntry, Store
from fenceline.store.schema import CORE_COLUMNS
from fenceline.vocab import FEATURE_TABLES, OBSERVATION_STATES

__all__ = ["DATE_FIELDS", "IMPORT_TARGETS", "import_file", "read_border", "sha256_file"]

IMPORT_TARGETS = ("fences", "facilities", "areas", "observations")

#: date attributes that become observations: field -> (state, which end of a coarse date)
DATE_FIELDS: dict[str, tuple[str, str]] = {
    "first_seen": ("present", "end"),
    "last_absent": ("absent", "start"),
    "upgraded_seen": ("upgraded", "end"),
    "removed_seen": ("removed", "end"),
    # the derived dates fenceline exports, so an export imports back to the same timeline
    "built_by": ("present", "end"),
    "built_after": ("absent", "start"),
    "upgraded_by": ("upgraded", "end"),
    "upgraded_after": ("present", "start"),
    "removed_by": ("removed", "end"),
    "removed_after": ("present", "start"),
    # the same, as fenceline's Shapefile exports name them (10 characters at most)
    "bld_after": ("absent", "start"),
    "bld_by": ("present", "end"),
    "upg_after": ("present", "start"),
    "upg_by": ("upgraded", "end"),
    "rem_after": ("present", "start"),
    "rem_by": ("removed", "end"),
}
#: fields fenceline's own exports add that are not attributes to store
EXPORT_ONLY_FIELDS = ("feature_type", "status", "notice")

_DEFAULTS = {"fences": {"layer": "other", "kind": "fence"}, "facilities": {"kind": "other"}}
_GEOMETRY_TYPES = {
    "fences": ("LineString", "MultiLineString"),
    "facilities": ("Point", "MultiPoint"),
    "areas": ("Polygon", "MultiPolygon"),
}
_CHUNK = 20_000

Progress = Callable[[int, int], None]


def read_border(path: Path) -> tuple[gpd.GeoDataFrame, str]:
    """Read a border line file: its LineString parts in file order, in EPSG:4326."""
    frame = read_vector(path)
    label = str(path)
    parts: list[shapely.LineString] = []
    sides: list[Any] = []
    for index, geom in enumerate(frame.geometry):
        if geom is None or geom.is_empty:
            raise InputError(label, "empty geometry", feature=index, field="geometry")
        if geom.geom_type == "MultiLineString":
            geom = shapely.line_merge(geom)
        if geom.geom_type not in ("LineString", "MultiLineString"):
            raise InputError(
                label,
                f"a border must be lines, not {geom.geom_type}",
                feature=index,
                field="geometry",
            )
        pieces = [geom] if geom.geom_type == "LineString" else list(geom.geoms)
        parts.extend(pieces)
        side = frame["side"].iloc[index] if "side" in frame.columns else None
        sides.extend([side] * len(pieces))
    if not parts:
        raise InputError(label, "holds no border line")
    name_col = next((c for c in frame.columns if c.lower() == "name"), None)
    names = [path.stem] * len(parts)
    if name_col is not None and len(frame) == len(parts):
        names = [str(n) if n is not None else path.stem for n in frame[name_col]]
    border = gpd.GeoDataFrame({"name": names}, geometry=parts, crs="EPSG:4326")
    if any(s is not None for s in sides):
        bad = [s for s in sides if s not in ("left", "right")]
        if bad:
            raise InputError(label, f"side must be left or right, not {bad[0]!r}", field="side")
        border["side"] = sides
    return border, sha256_file(path)


# --- helpers --------------------------------------------------------------------------
def _resolve(columns: list[str], field_map: dict[str, str], target: str, label: str) -> str | None:
    """The source column for ``target``: the mapped one (must exist), or one of the same name."""
    lower = {c.lower(): c for c in columns}
    if target in field_map:
        source = field_map[target]
        if source.lower() not in lower:
            raise InputError(
                label,
                f"no such field to map to {target!r} (fields are: {', '.join(columns)})",
                field=source,
            )
        return lower[source.lower()]
    return lower.get(target.lower())


def _feature_label(index: int, ids: list[Any] | None) -> str:
    if (
        ids is not None
        and ids[index] is not None
        and not (isinstance(ids[index], float) and np.isnan(ids[index]))
    ):
        return f"{index} (id {ids[index]!r})"
    return str(index)


def _is_null(value: Any) -> bool:
    return (
        value is None
        or (isinstance(value, float) and np.isnan(value))
        or value is pd.NaT
        or (isinstance(value, str) and not value.strip())
    )


def _check_geometry(
    frame: gpd.GeoDataFrame, table: str, label: str, ids: list[Any] | None
) -> np.ndarray:
    geoms = frame.geometry.to_numpy()
    if len(geoms) == 0:
        return geoms
    missing = shapely.is_missing(geoms)
    if missing.any():
        i = int(np.flatnonzero(missing)[0])
        raise InputError(label, "has no geometry", feature=_feature_label(i, ids), field="geometry")
    empty = shapely.is_empty(geoms)
    if empty.any():
        i = int(np.flatnonzero(empty)[0])
        raise InputError(label, "empty geometry", feature=_feature_label(i, ids), field="geometry")
    types = np.array([g.geom_type for g in geoms])
    wrong = ~np.isin(types, _GEOMETRY_TYPES[table])
    if wrong.any():
        i = int(np.flatnonzero(wrong)[0])
        expected = " or ".join(_GEOMETRY_TYPES[table])
        raise InputError(
            label,
            f"{table} must be {expected}, not {types[i]}",
            feature=_feature_label(i, ids),
            field="geometry",
        )
    coords_ok = (
        np.array([np.isfinite(shapely.get_coordinates(g)).all() for g in geoms])
        if len(geoms) < 1000
        else None
    )
    bounds = shapely.bounds(geoms)
    finite = (
        np.isfinite(bounds).all(axis=1)
        if coords_ok is None
        else coords_ok & np.isfinite(bounds).all(axis=1)
    )
    in_range = (
        finite
        & (bounds[:, 0] >= -180)
        & (bounds[:, 2] <= 180)
        & (bounds[:, 1] >= -90)
        & (bounds[:, 3] <= 90)
    )
    if not in_range.all():
        i = int(np.flatnonzero(~in_range)[0])
        raise InputError(
            label,
            f"invalid coordinate (bounds {np.round(bounds[i], 6).tolist()} are not longitude/latitude)",
            feature=_feature_label(i, ids),
            field="geometry",
        )
    if coords_ok is None:
        # large files: check non-finite coordinates vectorised
        counts = shapely.get_num_coordinates(geoms)
        coords = shapely.get_coordinates(geoms)
        bad_coord = ~np.isfinite(coords).all(axis=1)
        if bad_coord.any():
            owner = np.repeat(np.arange(len(geoms)), counts)
            i = int(owner[np.flatnonzero(bad_coord)[0]])
            raise InputError(
                label,
                "invalid coordinate (not a number)",
                feature=_feature_label(i, ids),
                field="geometry",
            )
    valid = shapely.is_valid(geoms)
    if not valid.all():
        i = int(np.flatnonzero(~valid)[0])
        raise InputError(
            label,
            f"invalid geometry ({shapely.is_valid_reason(geoms[i])})",
            feature=_feature_label(i, ids),
            field="geometry",
        )
    return geoms


def _vocabulary(
    frame: pd.DataFrame,
    table: str,
    label: str,
    field_map: dict[str, str],
    value_map: dict[str, dict[str, str]],
    defaults: dict[str, str],
    ids: list[Any] | None,
) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    columns = list(frame.columns)
    for field, allowed in FEATURE_TABLES[table].items():
        source = _resolve(columns, field_map, field, label)
        default = defaults.get(field, _DEFAULTS[table][field])
        if normalise_value(default) not in allowed:
            raise ParameterError(
                "--default", f"{field}={default!r} is not one of {', '.join(allowed)}"
            )
        if source is None:
            out[field] = np.full(len(frame), normalise_value(default), dtype=object)
            continue
        mapping = value_map.get(field, {})
        raw = frame[source].tolist()
        values = np.empty(len(raw), dtype=object)
        for i, value in enumerate(raw):
            if _is_null(value):
                values[i] = normalise_value(default)
                continue
            key = normalise_value(value)
            mapped = normalise_value(mapping[key]) if key in mapping else key
            if mapped not in allowed:
                raise InputError(
                    label,
                    f"{value!r} is not one of {', '.join(allowed)}; map it with "
                    f'--value "{field}:{value}=<one of those>"',
                    feature=_feature_label(i, ids),
                    field=source,
                )
            values[i] = mapped
        out[field] = values
    return out


def _make_ids(
    table: str,
    geoms: np.ndarray,
    vocab: dict[str, np.ndarray],
    given: list[Any] | None,
    label: str,
    id_field: str | None,
) -> list[str]:
    """Source ids where given; elsewhere a stable id from the content, so re-import is idempotent."""
    wkb = (
        shapely.to_wkb(shapely.set_precision(geoms, 1e-9), byte_order=1, flavor="iso")
        if len(geoms)
        else []
    )
    seen: dict[str, int] = {}
    ids: list[str] = []
    given_seen: set[str] = set()
    prefix = {"fences": "fence", "facilities": "facility"}[table]
    for i in range(len(geoms)):
        if given is not None and not _is_null(given[i]):
            value = str(given[i]).strip()
            if isinstance(given[i], float) and given[i].is_integer():
                value = str(int(given[i]))
            if value in given_seen:
                raise InputError(label, f"duplicate id {value!r}", feature=i, field=id_field)
            given_seen.add(value)
            ids.append(value)
            continue
        digest = hashlib.sha1(
            wkb[i] + "|".join(str(v[i]) for v in vocab.values()).encode()
        ).hexdigest()[:16]
        key = f"{prefix}-{digest}"
        n = seen.get(key, 0)
        seen[key] = n + 1
        ids.append(key if n == 0 else f"{key}-{n}")
    return ids


def _observations(
    frame: pd.DataFrame,
    label: str,
    field_map: dict[str, str],
    ids: list[str],
    observed: str | None,
    day_first: bool | None,
    analyst: str,
    source_name: str,
) -> pd.DataFrame:
    columns = list(frame.columns)
    rows: list[tuple[str, str, str]] = []
    used: list[str] = []
    date_sources: dict[str, str] = {}
    for field in DATE_FIELDS:
        source = _resolve(columns, field_map, field, label)
        if source is not None:
            date_sources[field] = source
    sources = [(field, source, *DATE_FIELDS[field]) for field, source in date_sources.items()]
    kml_time = _resolve(columns, {}, "timestamp", label)
    if kml_time is not None and kml_time not in date_sources.values():
        # Google Earth's TimeStamp <when>: the placemark was seen present on that date
        sources.append(("timestamp", kml_time, "present", "end"))
    for _field, source, state, bound in sources:
        used.append(source)
        parsed: dict[
            Any, str
        ] = {}  # dates repeat (an image date for many features): parse each once
        for i, value in enumerate(frame[source].tolist()):
            if _is_null(value):
                continue
            key = value if isinstance(value, str) else repr(value)
            iso = parsed.get(key)
            if iso is None:
                try:
                    iso = parse_date(value, bound=bound, day_first=day_first).isoformat()  # type: ignore[arg-type]
                except DateParseError as exc:
                    raise InputError(
                        label, str(exc), feature=f"{i} (id {ids[i]!r})", field=source
                    ) from None
                parsed[key] = iso
            rows.append((ids[i], iso, state))
    if observed is not None:
        try:
            day = parse_date(observed, bound="end", day_first=day_first)
        except DateParseError as exc:
            raise ParameterError("--observed", str(exc)) from None
        rows.extend((feature_id, day.isoformat(), "present") for feature_id in ids)
    obs = pd.DataFrame(rows, columns=["feature_id", "observed", "state"])
    # a feature cannot be certainly absent after it was seen present without a removal
    if len(obs) and "last_absent" in date_sources and "removed_seen" not in date_sources:
        days = np.array(obs["observed"].to_numpy(), dtype="datetime64[D]").astype(np.int64)
        seen = obs["state"].isin(["present", "upgraded"]).to_numpy()
        first_present = pd.Series(days[seen]).groupby(obs["feature_id"].to_numpy()[seen]).min()
        absent = (obs["state"] == "absent").to_numpy()
        limit = obs["feature_id"].map(first_present).to_numpy(dtype=float, na_value=np.inf)
        clash = np.flatnonzero(absent & (days >= limit))
        if len(clash):
            fid = obs["feature_id"].iloc[clash[0]]
            i = ids.index(fid)
            raise InputError(
                label,
                f"last_absent {obs['observed'].iloc[clash[0]]} is not before the date it was seen present",
                feature=f"{i} (id {fid!r})",
                field=date_sources["last_absent"],
            )
    obs["image_id"] = None
    obs["analyst"] = analyst
    obs["note"] = f"imported from {source_name}"
    obs.attrs["used_columns"] = used
    return obs


def _attributes(frame: pd.DataFrame, consumed: set[str], table: str) -> pd.DataFrame:
    """The source's other attributes, stored as columns of the layer."""
    reserved = {c.lower() for c in CORE_COLUMNS[table]} | {"geometry"}
    keep: dict[str, Any] = {}
    for column in frame.columns:
        if column in consumed or column == frame.geometry.name or column in EXPORT_ONLY_FIELDS:
            continue
        if column in DATE_FIELDS:
            continue
        series = frame[column]
        if series.isna().all() and column in ("description", "Description", "folder"):
            continue
        name = column if column.lower() not in reserved else f"src_{column}"
        if pd.api.types.is_datetime64_any_dtype(series):
            series = series.map(lambda v: None if pd.isna(v) else v.isoformat())
        keep[name] = series.to_numpy()
    return pd.DataFrame(keep, index=frame.index)


# --- targets --------------------------------------------------------------------------
def _prepare_features(
    frame: gpd.GeoDataFrame,
    table: str,
    label: str,
    field_map: dict[str, str],
    value_map: dict[str, dict[str, str]],
    defaults: dict[str, str],
    observed: str | None,
    day_first: bool | None,
    analyst: str,
    source_name: str,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    skipped = 0
    if "feature_type" in frame.columns:  # a fenceline export holding both kinds
        frame = frame[frame["feature_type"] == table].reset_index(drop=True)
    elif "folder" in frame.columns and len(frame):
        # a Google Earth document mixes lines and points in folders: take the target's kind
        types = np.array([None if g is None else g.geom_type for g in frame.geometry])
        wanted = np.isin(types, _GEOMETRY_TYPES[table])
        skipped = int((~wanted & (types != None)).sum())  # noqa: E711
        frame = frame[wanted | (types == None)].reset_index(drop=True)  # noqa: E711
    if len(frame) == 0:
        raise InputError(label, f"holds no {table}")
    columns = list(frame.columns)
    id_field = _resolve(columns, field_map, "id", label)
    given_ids = frame[id_field].tolist() if id_field is not None else None
    geoms = _check_geometry(frame, table, label, given_ids)
    vocab = _vocabulary(frame, table, label, field_map, value_map, defaults, given_ids)
    ids = _make_ids(table, geoms, vocab, given_ids, label, id_field)
    obs = _observations(frame, label, field_map, ids, observed, day_first, analyst, source_name)
    consumed = set(obs.attrs["used_columns"])
    consumed |= {c for c in (id_field,) if c is not None}
    consumed |= {
        c
        for f in FEATURE_TABLES[table]
        if (c := _resolve(columns, field_map, f, label)) is not None
    }
    attrs = _attributes(frame, consumed, table)
    features = gpd.GeoDataFrame(
        {
            "id": ids,
            **{k: v for k, v in vocab.items()},
            **{c: attrs[c].to_numpy() for c in attrs.columns},
        },
        geometry=gpd.GeoSeries(geoms, crs="EPSG:4326"),
        crs="EPSG:4326",
    )
    # multi-part geometries become one feature per part: id, id#2, id#3...
    if (shapely.get_type_id(geoms) >= 4).any():
        features = features.explode(index_parts=True)
        part = features.index.get_level_values(1).to_numpy()
        parent = features["id"].to_numpy()
        features["id"] = [
            f if p == 0 else f"{f}#{p + 1}" for f, p in zip(parent, part, strict=True)
        ]
        features = features.reset_index(drop=True)
        children = pd.Series(features["id"].to_numpy(), index=parent).groupby(level=0).agg(list)
        obs = obs.assign(feature_id=obs["feature_id"].map(children)).explode(
            "feature_id", ignore_index=True
        )
    features.attrs["skipped_other_geometry"] = skipped
    return features, obs


def _prepare_areas(
    frame: gpd.GeoDataFrame, label: str, field_map: dict[str, str]
) -> gpd.GeoDataFrame:
    columns = list(frame.columns)
    name = _resolve(columns, field_map, "name", label)
    if name is None:
        raise InputError(
            label, "areas need a name field (map yours with --map name=FIELD)", field="name"
        )
    names = frame[name].tolist()
    for i, value in enumerate(names):
        if _is_null(value):
            raise InputError(label, "area without a name", feature=i, field=name)
    if len(set(map(str, names))) != len(names):
        dup = pd.Series(names)[pd.Series(names).duplicated()].iloc[0]
        raise InputError(label, f"duplicate area name {dup!r}", field=name)
    out = gpd.GeoDataFrame(
        {"name": [str(n) for n in names]}, geometry=frame.geometry.to_numpy(), crs="EPSG:4326"
    )
    from_col = _resolve(columns, field_map, "from_km", label)
    to_col = _resolve(columns, field_map, "to_km", label)
    has_geometry = ~frame.geometry.isna().to_numpy()
    if from_col is not None and to_col is not None:
        lo = pd.to_numeric(frame[from_col], errors="coerce").to_numpy(dtype=float)
        hi = pd.to_numeric(frame[to_col], errors="coerce").to_numpy(dtype=float)
        for i in range(len(frame)):
            if not has_geometry[i] and (np.isnan(lo[i]) or np.isnan(hi[i])):
                raise InputError(
                    label, "needs a polygon or numeric from_km and to_km", feature=i, field=from_col
                )
            if not np.isnan(lo[i]) and not np.isnan(hi[i]) and not lo[i] < hi[i]:
                raise InputError(
                    label,
                    f"from_km ({lo[i]}) must be less than to_km ({hi[i]})",
                    feature=i,
                    field=from_col,
                )
        out["from_km"] = lo
        out["to_km"] = hi
    elif not has_geometry.all():
        i = int(np.flatnonzero(~has_geometry)[0])
        raise InputError(
            label, "area needs a polygon, or from_km and to_km columns", feature=i, field="geometry"
        )
    if has_geometry.any():
        sub = gpd.GeoDataFrame(frame[has_geometry], geometry=frame.geometry.name)
        _check_geometry(sub.reset_index(drop=True), "areas", label, None)
        geoms = out.geometry.to_numpy().copy()
        polys = shapely.get_type_id(geoms) == 3
        geoms[polys] = [shapely.MultiPolygon([g]) for g in geoms[polys]]
        out = out.set_geometry(gpd.GeoSeries(geoms, crs="EPSG:4326"))
    return out


def _prepare_observations(
    frame: pd.DataFrame,
    label: str,
    field_map: dict[str, str],
    store: Store,
    day_first: bool | None,
    analyst: str,
) -> pd.DataFrame:
    columns = [
        c for c in frame.columns if c != getattr(frame, "geometry", pd.Series(name=None)).name
    ]
    cols = {
        t: _resolve(columns, field_map, t, label)
        for t in ("feature_id", "observed", "state", "image_id", "analyst", "note")
    }
    for required in ("feature_id", "observed", "state"):
        if cols[required] is None:
            raise InputError(
                label,
                f"observations need a {required} column (or --map {required}=FIELD)",
                field=required,
            )
    known = set(store.read_features("fences")["id"]) | set(store.read_features("facilities")["id"])
    images = set(store.read_images()["id"].dropna())
    out_rows = []
    for i, row in enumerate(frame[[c for c in cols.values() if c]].itertuples(index=False)):
        values = dict(zip([k for k, c in cols.items() if c], row, strict=True))
        fid = values["feature_id"]
        if _is_null(fid) or str(fid) not in known:
            raise InputError(
                label,
                f"unknown feature {fid!r} (import its fences or facilities first)",
                feature=i,
                field=cols["feature_id"],
            )
        state = normalise_value(values["state"]) if not _is_null(values["state"]) else ""
        if state not in OBSERVATION_STATES:
            raise InputError(
                label,
                f"{values['state']!r} is not one of {', '.join(OBSERVATION_STATES)}",
                feature=i,
                field=cols["state"],
            )
        try:
            bound = "end" if state in ("present", "upgraded", "removed") else "start"
            day = parse_date(values["observed"], bound=bound, day_first=day_first)  # type: ignore[arg-type]
        except DateParseError as exc:
            raise InputError(label, str(exc), feature=i, field=cols["observed"]) from None
        image = values.get("image_id")
        image = None if _is_null(image) else str(image)
        if image is not None and image not in images:
            raise InputError(
                label,
                f"unknown image {image!r} (register it with `fenceline images add`)",
                feature=i,
                field=cols["image_id"],
            )
        who = values.get("analyst")
        note = values.get("note")
        out_rows.append(
            (
                str(fid),
                image,
                day.isoformat(),
                state,
                analyst if _is_null(who) else str(who),
                None if _is_null(note) else str(note),
            )
        )
    if not out_rows:
        raise InputError(label, "holds no observations")
    return pd.DataFrame(
        out_rows, columns=["feature_id", "image_id", "observed", "state", "analyst", "note"]
    )


def import_file(
    store: Store,
    path: Path,
    *,
    as_: str,
    field_map: dict[str, str],
    value_map: dict[str, dict[str, str]],
    defaults: dict[str, str] | None = None,
    observed: str | None,
    crs: str | None,
    layer: str | None,
    day_first: bool | None,
    analyst: str,
    progress: Progress | None = None,
) -> dict[str, int]:
    """Import ``path`` into ``store`` as ``as_``; see :meth:`fenceline.Project.import_file`."""
    if as_ not in IMPORT_TARGETS:
        raise ParameterError("--as", f"must be one of {', '.join(IMPORT_TARGETS)}, not {as_!r}")
    label = str(path)
    frame = read_vector(
        path,
        layer=layer,
        crs=crs,
        field_map=field_map,
        need_geometry=as_ in ("fences", "facilities"),
        prefer_layer=as_,
    )
    sha = sha256_file(path)
    entry = AuditEntry(
        analyst=analyst,
        action=f"import {as_}",
        source=str(path.resolve()),
        source_sha256=sha,
        counts={"records_read": len(frame)},
        detail={
            "field_map": field_map,
            "value_map": value_map,
            "defaults": defaults or {},
            "observed": observed,
            "crs": crs,
            "layer": layer,
        },
    )
    if as_ == "observations":
        obs = _prepare_observations(frame, label, field_map, store, day_first, analyst)
        with store.transaction(entry) as tx:
            tx.add_observations(obs)
            counts = {**entry.counts, **tx.counts}
        return counts
    if as_ == "areas":
        areas = _prepare_areas(frame, label, field_map)
        with store.transaction(entry) as tx:
            tx.upsert_areas(areas)
            counts = {**entry.counts, **tx.counts}
        return counts
    features, obs = _prepare_features(
        frame,
        as_,
        label,
        field_map,
        value_map,
        defaults or {},
        observed,
        day_first,
        analyst,
        path.name,
    )
    total = len(features) + len(obs)
    done = 0
    if features.attrs.get("skipped_other_geometry"):
        entry.counts["placemarks_of_other_geometry_skipped"] = features.attrs[
            "skipped_other_geometry"
        ]  # type: ignore[index]
    with store.transaction(entry) as tx:
        for start in range(0, len(features), _CHUNK):
            chunk = features.iloc[start : start + _CHUNK]
            tx.upsert_features(as_, chunk)
            done += len(chunk)
            if progress:
                progress(done, total)
        for start in range(0, len(obs), _CHUNK * 5):
            chunk = obs.iloc[start : start + _CHUNK * 5]
            tx.add_observations(chunk)
            done += len(chunk)
            if progress:
                progress(done, total)
        counts = {**entry.counts, **tx.counts}
    return counts
