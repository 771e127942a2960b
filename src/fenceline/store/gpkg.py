"""The GeoPackage store: a project is one GeoPackage file that GIS clients open as it is.

Writes go through SQLite transactions in WAL mode: a write is all or nothing, and a process
killed mid-write leaves the file as it was before the write.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from fenceline.errors import ProjectError, SchemaError
from fenceline.store import geopackage_blob
from fenceline.store.base import AuditEntry, Snapshot, Store, Writer
from fenceline.store.schema import (
    APPLICATION_ID,
    CORE_COLUMNS,
    GPKG_USER_VERSION,
    MIGRATIONS,
    SCHEMA_VERSION,
    base_ddl,
)

__all__ = ["GeoPackageStore"]

_CONTENT_TABLES = ("border", "areas", "images", "fences", "facilities", "observations")


def _q(name: str) -> str:
    """Quote an SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def _sql_type(series: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(series):
        return "BOOLEAN"
    if pd.api.types.is_integer_dtype(series):
        return "INTEGER"
    if pd.api.types.is_float_dtype(series):
        return "REAL"
    if pd.api.types.is_datetime64_any_dtype(series):
        return "DATETIME"
    return "TEXT"


def _sql_value(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    if value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, bytes | str | int | float):
        return value
    return str(value)


_NATIVE = (type(None), str, int, float, bytes)
_TEXT = {str}


def _sql_column(series: pd.Series) -> list[Any]:
    """A column as values SQLite stores (None for missing), converted column-wise."""
    if pd.api.types.is_datetime64_any_dtype(series):
        return [None if pd.isna(v) else v.isoformat() for v in series]
    numpy_dtype = isinstance(series.dtype, np.dtype)  # not pandas' nullable ones (pd.NA)
    if numpy_dtype and series.dtype.kind in "iub":  # numpy integers and booleans: never missing
        return series.tolist()
    if numpy_dtype and series.dtype.kind == "f":
        values = series.tolist()
        return [None if v != v else v for v in values]  # NaN is missing
    values = series.tolist()
    if series.dtype == object and set(map(type, values)) <= _TEXT:
        return values  # all text (the common case): nothing missing, nothing to convert
    for i in np.flatnonzero(series.isna().to_numpy()):
        values[i] = None  # None, NaN, NaT or pd.NA
    if series.dtype == object or isinstance(series.dtype, pd.StringDtype):
        values = [v if type(v) in _NATIVE else _sql_value(v) for v in values]
    return values


class GeoPackageStore(Store):
    """A project in a GeoPackage file.

    Use :meth:`create` for a new project and :meth:`open` for an existing one.
    """

    def __init__(self, path: str | os.PathLike[str], connection: sqlite3.Connection) -> None:
        self.path = str(path)
        self._db = connection

    # --- opening ------------------------------------------------------------------------
    @staticmethod
    def _connect(path: str) -> sqlite3.Connection:
        db = sqlite3.connect(path, isolation_level=None, timeout=30.0)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA foreign_keys=ON")
        return db

    @classmethod
    def create(cls, path: str | os.PathLike[str]) -> GeoPackageStore:
        """Create an empty project. Refuses to overwrite an existing file."""
        path = str(path)
        if os.path.exists(path):
            raise ProjectError(path, "already exists; choose another name or delete it first")
        parent = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(parent):
            raise ProjectError(path, f"directory {parent} does not exist")
        # Build in a temporary file and rename, so a half-created project never exists.
        tmp = f"{path}.creating-{os.getpid()}"
        try:
            db = sqlite3.connect(tmp, isolation_level=None)
            db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            db.execute(f"PRAGMA user_version = {GPKG_USER_VERSION}")
            db.executescript("BEGIN;" + base_ddl() + "COMMIT;")
            from fenceline import __version__

            db.executemany(
                "INSERT INTO fenceline_meta VALUES (?, ?)",
                [
                    ("schema_version", str(SCHEMA_VERSION)),
                    ("created", dt.datetime.now(dt.UTC).isoformat(timespec="seconds")),
                    ("created_by_version", __version__),
                ],
            )
            db.close()
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
        return cls.open(path)

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> GeoPackageStore:
        """Open an existing project, migrating its schema forward if it is older."""
        path = str(path)
        if not os.path.isfile(path):
            raise ProjectError(path, "no such project file (create one with `fenceline init`)")
        try:
            db = cls._connect(path)
            (app_id,) = db.execute("PRAGMA application_id").fetchone()
            has_meta = db.execute(
                "SELECT count(*) FROM sqlite_master WHERE name = 'fenceline_meta'"
            ).fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise ProjectError(path, f"not a GeoPackage ({exc})") from None
        if app_id != APPLICATION_ID or not has_meta:
            db.close()
            raise ProjectError(
                path, "not a fenceline project (a GeoPackage made by `fenceline init`)"
            )
        store = cls(path, db)
        store._migrate()
        return store

    def _migrate(self) -> None:
        version = self.schema_version()
        if version > SCHEMA_VERSION:
            raise SchemaError(
                self.path,
                f"schema version {version} is newer than this fenceline understands "
                f"({SCHEMA_VERSION}); upgrade fenceline",
            )
        while version < SCHEMA_VERSION:
            version += 1
            self._db.executescript(
                "BEGIN IMMEDIATE;"
                + MIGRATIONS[version]
                + f"UPDATE fenceline_meta SET value = '{version}' WHERE key = 'schema_version';"
                + "COMMIT;"
            )

    def close(self) -> None:
        self._db.close()

    def schema_version(self) -> int:
        row = self._db.execute(
            "SELECT value FROM fenceline_meta WHERE key = 'schema_version'"
        ).fetchone()
        return int(row[0])

    def meta(self) -> dict[str, str]:
        return dict(self._db.execute("SELECT key, value FROM fenceline_meta").fetchall())

    # --- reading ------------------------------------------------------------------------
    def _columns(self, table: str) -> list[str]:
        return [row[1] for row in self._db.execute(f"PRAGMA table_info({_q(table)})")]

    def _read(self, table: str, hasher: Any = None) -> pd.DataFrame:
        columns = self._columns(table)
        rows = self._db.execute(
            f"SELECT {', '.join(map(_q, columns))} FROM {_q(table)} ORDER BY fid"
        ).fetchall()
        if hasher is not None:
            hasher.update(f"{table}\x00{columns!r}\x00".encode())
            for row in rows:
                hasher.update(repr(row).encode())
        frame = pd.DataFrame.from_records(rows, columns=columns)
        return frame

    def _read_layer(self, table: str, hasher: Any = None) -> gpd.GeoDataFrame:
        frame = self._read(table, hasher)
        geometry = geopackage_blob.decode(frame.pop("geom").tolist())
        out = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geometry, crs="EPSG:4326"))
        return out

    def _finish_features(self, table: str, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        defaults = {"fences": {"layer": "other", "kind": "fence"}, "facilities": {"kind": "other"}}
        for column, default in defaults.get(table, {}).items():
            frame[column] = frame[column].fillna(default).astype(str)
        frame["id"] = frame["id"].astype(str)
        return frame

    def read_border(self) -> gpd.GeoDataFrame:
        return self._read_layer("border")

    def read_areas(self) -> gpd.GeoDataFrame:
        return self._read_layer("areas")

    def read_features(self, table: str) -> gpd.GeoDataFrame:
        if table not in ("fences", "facilities"):
            raise ValueError(f"not a feature table: {table!r}")
        return self._finish_features(table, self._read_layer(table))

    def read_observations(self) -> pd.DataFrame:
        return self._read("observations")

    def read_images(self) -> gpd.GeoDataFrame:
        return self._read_layer("images")

    def read_image_records(self) -> pd.DataFrame:
        return self._read("images").drop(columns="geom")  # the blobs, never decoded

    def read_audit(self) -> pd.DataFrame:
        return self._read("audit")

    def content_sha256(self) -> str:
        return self.snapshot().content_sha256

    def snapshot(self) -> Snapshot:
        hasher = hashlib.sha256()
        self._db.execute("BEGIN")
        try:
            border = self._read_layer("border", hasher)
            areas = self._read_layer("areas", hasher)
            images = self._read_layer("images", hasher)
            fences = self._finish_features("fences", self._read_layer("fences", hasher))
            facilities = self._finish_features("facilities", self._read_layer("facilities", hasher))
            observations = self._read("observations", hasher)
        finally:
            self._db.execute("COMMIT")
        return Snapshot(
            border=border,
            areas=areas,
            fences=fences,
            facilities=facilities,
            observations=observations,
            images=images,
            content_sha256=hasher.hexdigest(),
        )

    def dump(self) -> Iterator[str]:
        yield from self._db.iterdump()

    # --- writing ------------------------------------------------------------------------
    @contextmanager
    def transaction(self, entry: AuditEntry) -> Iterator[Writer]:
        from fenceline import __version__

        self._db.execute("BEGIN IMMEDIATE")
        try:
            writer = _GeoPackageWriter(self)
            yield writer
            counts = dict(entry.counts) | writer.counts
            self._db.execute(
                "INSERT INTO audit (at, analyst, action, source, source_sha256, counts, detail, "
                "fenceline_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                    entry.analyst,
                    entry.action,
                    entry.source,
                    entry.source_sha256,
                    json.dumps(counts, sort_keys=True),
                    json.dumps(dict(entry.detail), sort_keys=True, default=str),
                    __version__,
                ),
            )
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    # --- imagery review queue (schema version 2) -------------------------------------------
    def read_candidates(self) -> gpd.GeoDataFrame:
        return self._read_layer("candidates")

    def read_detect_tiles(self, run_id: str) -> pd.DataFrame:
        rows = self._db.execute(
            "SELECT tile_row, tile_col, candidates, done_at FROM detect_tiles WHERE run_id = ? "
            "ORDER BY tile_row, tile_col",
            (run_id,),
        ).fetchall()
        return pd.DataFrame.from_records(
            rows, columns=["tile_row", "tile_col", "candidates", "done_at"]
        )


class _GeoPackageWriter(Writer):
    def __init__(self, store: GeoPackageStore) -> None:
        self._store = store
        self._db = store._db
        self.counts: dict[str, int] = {}

    def _count(self, key: str, n: int) -> None:
        self.counts[key] = self.counts.get(key, 0) + int(n)

    def _touch(self, table: str, geometries: Sequence[Any] | None = None) -> None:
        """Update gpkg_contents: last_change, and the layer extent grown by new geometries."""
        self._db.execute(
            "UPDATE gpkg_contents SET last_change = strftime('%Y-%m-%dT%H:%M:%fZ','now') "
            "WHERE table_name = ?",
            (table,),
        )
        if geometries is None or len(geometries) == 0:
            return
        geoms = np.asarray(geometries, dtype=object)
        geoms = geoms[~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)]
        if len(geoms) == 0:
            return
        minx, miny, maxx, maxy = shapely.total_bounds(geoms)
        self._db.execute(
            "UPDATE gpkg_contents SET "
            "min_x = min(ifnull(min_x, :minx), :minx), min_y = min(ifnull(min_y, :miny), :miny), "
            "max_x = max(ifnull(max_x, :maxx), :maxx), max_y = max(ifnull(max_y, :maxy), :maxy) "
            "WHERE table_name = :table",
            {"minx": minx, "miny": miny, "maxx": maxx, "maxy": maxy, "table": table},
        )

    def _ensure_columns(self, table: str, frame: pd.DataFrame) -> list[str]:
        """Add user attribute columns that the table does not have yet; return all columns."""
        existing = self._store._columns(table)
        lower = {c.lower() for c in existing}
        for column in frame.columns:
            if column == "geometry" or column in existing:
                continue
            if column.lower() in lower:
                raise ValueError(f"column {column!r} clashes with an existing column")
            self._db.execute(
                f"ALTER TABLE {_q(table)} ADD COLUMN {_q(column)} {_sql_type(frame[column])}"
            )
            existing.append(column)
            lower.add(column.lower())
        return [c for c in frame.columns if c != "geometry"]

    def _rows(
        self, frame: pd.DataFrame, columns: list[str], blobs: list[bytes | None]
    ) -> list[tuple[Any, ...]]:
        return list(zip(blobs, *(_sql_column(frame[c]) for c in columns), strict=True))

    def set_border(self, border: gpd.GeoDataFrame) -> int:
        self._db.execute("DELETE FROM border")
        columns = self._ensure_columns("border", border)
        blobs = geopackage_blob.encode(border.geometry.values)
        self._db.executemany(
            f"INSERT INTO border (geom, {', '.join(map(_q, columns))}) "
            f"VALUES (?{', ?' * len(columns)})",
            self._rows(border, columns, blobs),
        )
        self._touch("border", border.geometry.values)
        self._count("border_parts", len(border))
        return len(border)

    def _upsert(self, table: str, key: str, frame: gpd.GeoDataFrame) -> tuple[int, int]:
        columns = self._ensure_columns(table, frame)
        existing = {row[0] for row in self._db.execute(f"SELECT {_q(key)} FROM {_q(table)}")}
        blobs = geopackage_blob.encode(frame.geometry.values)
        names = ", ".join(map(_q, ["geom", *columns]))
        updates = ", ".join(f"{_q(c)} = excluded.{_q(c)}" for c in ["geom", *columns] if c != key)
        self._db.executemany(
            f"INSERT INTO {_q(table)} ({names}) VALUES (?{', ?' * len(columns)}) "
            f"ON CONFLICT({_q(key)}) DO UPDATE SET {updates}",
            self._rows(frame, columns, blobs),
        )
        updated = int(frame[key].isin(existing).sum())
        inserted = len(frame) - updated
        self._touch(table, frame.geometry.values)
        self._count(f"{table}_inserted", inserted)
        self._count(f"{table}_updated", updated)
        return inserted, updated

    def upsert_areas(self, areas: gpd.GeoDataFrame) -> tuple[int, int]:
        return self._upsert("areas", "name", areas)

    def upsert_features(self, table: str, features: gpd.GeoDataFrame) -> tuple[int, int]:
        if table not in ("fences", "facilities"):
            raise ValueError(f"not a feature table: {table!r}")
        return self._upsert(table, "id", features)

    def upsert_images(self, images: gpd.GeoDataFrame) -> tuple[int, int]:
        return self._upsert("images", "id", images)

    def add_observations(self, observations: pd.DataFrame) -> int:
        columns = [c for c in CORE_COLUMNS["observations"] if c != "fid" and c in observations]
        before = self._db.total_changes
        self._db.executemany(
            f"INSERT OR IGNORE INTO observations ({', '.join(columns)}) "
            f"VALUES ({', '.join('?' * len(columns))})",
            zip(*(_sql_column(observations[c]) for c in columns), strict=True),
        )
        added = self._db.total_changes - before
        self._touch("observations")
        self._count("observations_added", added)
        return added

    def set_meta(self, key: str, value: str) -> None:
        self._db.execute(
            "INSERT INTO fenceline_meta VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def delete_features(self, table: str, ids: list[str]) -> int:
        if table not in ("fences", "facilities"):
            raise ValueError(f"not a feature table: {table!r}")
        before = self._db.total_changes
        self._db.executemany(f"DELETE FROM {_q(table)} WHERE id = ?", [(i,) for i in ids])
        deleted = self._db.total_changes - before
        self._db.executemany("DELETE FROM observations WHERE feature_id = ?", [(i,) for i in ids])
        self._touch(table)
        self._count(f"{table}_deleted", deleted)
        return deleted

    # --- imagery review queue (schema version 2) -------------------------------------------
    def add_candidates(self, run_id: str, tiles: pd.DataFrame, candidates: gpd.GeoDataFrame) -> int:
        done = {
            (r, c)
            for r, c in self._db.execute(
                "SELECT tile_row, tile_col FROM detect_tiles WHERE run_id = ?", (run_id,)
            )
        }
        new_tiles = [
            (int(r), int(c), int(n))
            for r, c, n in zip(
                tiles["tile_row"], tiles["tile_col"], tiles["candidates"], strict=True
            )
            if (int(r), int(c)) not in done
        ]
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        self._db.executemany(
            "INSERT INTO detect_tiles (run_id, tile_row, tile_col, candidates, done_at) "
            "VALUES (?, ?, ?, ?, ?)",
            [(run_id, r, c, n, now) for r, c, n in new_tiles],
        )
        self._count("tiles_done", len(new_tiles))
        if len(candidates) == 0:
            return 0
        frame = candidates
        if done:  # a resumed run: what an earlier run recorded is skipped
            keep = [
                (int(r), int(c)) not in done
                for r, c in zip(candidates["tile_row"], candidates["tile_col"], strict=True)
            ]
            frame = candidates.loc[keep]
            if len(frame) == 0:
                return 0
        columns = [c for c in frame.columns if c != "geometry"]
        blobs = geopackage_blob.encode(frame.geometry.values)
        before = self._db.total_changes
        self._db.executemany(
            f"INSERT OR IGNORE INTO candidates (geom, {', '.join(map(_q, columns))}) "
            f"VALUES (?{', ?' * len(columns)})",
            self._rows(frame, columns, blobs),
        )
        added = self._db.total_changes - before
        self._touch("candidates", frame.geometry.values)
        self._count("candidates_added", added)
        return added

    def decide_candidates(self, decisions: pd.DataFrame) -> int:
        allowed = ("status", "decided_by", "decided_at", "feature_id", "note")
        columns = [c for c in allowed if c in decisions]
        values = [decisions[c].tolist() for c in columns]
        ids = decisions["id"].tolist()
        before = self._db.total_changes
        self._db.executemany(
            f"UPDATE candidates SET {', '.join(f'{c} = ?' for c in columns)} WHERE id = ?",
            [(*(_sql_value(col[i]) for col in values), ids[i]) for i in range(len(decisions))],
        )
        changed = self._db.total_changes - before
        self._touch("candidates")
        for status in ("accepted", "rejected", "pending"):
            n = int((decisions.get("status") == status).sum()) if "status" in decisions else 0
            if n:
                self._count(f"candidates_{status}", n)
        return changed
