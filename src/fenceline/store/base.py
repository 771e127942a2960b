"""The storage interface: the calls every backend answers (GeoPackage now, PostGIS later).

Reads return plain tables: ``geopandas.GeoDataFrame`` for layers (EPSG:4326) and
``pandas.DataFrame`` for attribute tables. Writes happen only inside
:meth:`Store.transaction`, which is all or nothing and records one audit entry.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import pandas as pd

__all__ = ["AuditEntry", "Snapshot", "Store", "Writer"]


@dataclass(frozen=True)
class AuditEntry:
    """What one write did: who, what, from which source (never any content)."""

    analyst: str
    action: str
    source: str | None = None
    source_sha256: str | None = None
    counts: Mapping[str, int] = field(default_factory=dict)
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Snapshot:
    """Everything the indicators read from a project, read in one consistent transaction."""

    border: gpd.GeoDataFrame
    areas: gpd.GeoDataFrame
    fences: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    observations: pd.DataFrame
    images: gpd.GeoDataFrame
    content_sha256: str


class Writer(abc.ABC):
    """The write calls available inside a transaction.

    ``counts`` accumulates what the transaction did (rows inserted, updated...); it is written
    to the audit entry when the transaction commits.
    """

    counts: dict[str, int]

    @abc.abstractmethod
    def set_border(self, border: gpd.GeoDataFrame) -> int:
        """Replace the border with these parts (LineStrings, in chainage order)."""

    @abc.abstractmethod
    def upsert_areas(self, areas: gpd.GeoDataFrame) -> tuple[int, int]:
        """Insert or replace areas by ``name``; returns (inserted, updated)."""

    @abc.abstractmethod
    def upsert_features(self, table: str, features: gpd.GeoDataFrame) -> tuple[int, int]:
        """Insert or update fences or facilities by ``id``; returns (inserted, updated)."""

    @abc.abstractmethod
    def add_observations(self, observations: pd.DataFrame) -> int:
        """Add observations; an identical one already stored is skipped. Returns how many were new."""

    @abc.abstractmethod
    def upsert_images(self, images: gpd.GeoDataFrame) -> tuple[int, int]:
        """Insert or update image records by ``id``."""

    @abc.abstractmethod
    def delete_features(self, table: str, ids: list[str]) -> int:
        """Delete features (and their observations) by id."""

    @abc.abstractmethod
    def set_meta(self, key: str, value: str) -> None:
        """Set a project metadata value (e.g. ``notice``)."""

    # --- imagery review queue (schema version 2) -------------------------------------------
    @abc.abstractmethod
    def add_candidates(self, run_id: str, tiles: pd.DataFrame, candidates: gpd.GeoDataFrame) -> int:
        """Record finished tiles of a detection run and the candidates they found.

        ``tiles`` has ``tile_row``, ``tile_col`` and ``candidates`` (the count); a tile already
        recorded for ``run_id`` is skipped with its candidates, so a resumed run never
        duplicates. Returns how many candidates were added.
        """

    @abc.abstractmethod
    def decide_candidates(self, decisions: pd.DataFrame) -> int:
        """Set ``status`` (and ``decided_by``, ``decided_at``, ``feature_id``, ``note``) by ``id``."""


class Store(abc.ABC):
    """A fenceline project store."""

    path: str

    @abc.abstractmethod
    def close(self) -> None: ...

    @abc.abstractmethod
    def schema_version(self) -> int: ...

    @abc.abstractmethod
    def meta(self) -> dict[str, str]:
        """Project metadata: ``schema_version``, ``created``, ``notice`` (if any)..."""

    @abc.abstractmethod
    def read_border(self) -> gpd.GeoDataFrame: ...

    @abc.abstractmethod
    def read_areas(self) -> gpd.GeoDataFrame: ...

    @abc.abstractmethod
    def read_features(self, table: str) -> gpd.GeoDataFrame: ...

    @abc.abstractmethod
    def read_observations(self) -> pd.DataFrame: ...

    @abc.abstractmethod
    def read_images(self) -> gpd.GeoDataFrame: ...

    def read_image_records(self) -> pd.DataFrame:
        """The images layer without its footprints (for what needs only the records: a
        store may read it without decoding a geometry)."""
        return pd.DataFrame(self.read_images().drop(columns="geometry"))

    @abc.abstractmethod
    def read_audit(self) -> pd.DataFrame: ...

    @abc.abstractmethod
    def content_sha256(self) -> str:
        """A hash of the project's content (all layers and observations, not the audit)."""

    @abc.abstractmethod
    def snapshot(self) -> Snapshot: ...

    @abc.abstractmethod
    def dump(self) -> Iterator[str]:
        """A canonical text dump of every table, for comparing projects byte for byte."""

    @abc.abstractmethod
    def transaction(self, entry: AuditEntry) -> AbstractContextManager[Writer]:
        """All-or-nothing write: commit and audit on success, roll back on any exception."""

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- imagery review queue (schema version 2) -------------------------------------------
    @abc.abstractmethod
    def read_candidates(self) -> gpd.GeoDataFrame:
        """The change-detection review queue (EPSG:4326; polygons and lines)."""

    @abc.abstractmethod
    def read_detect_tiles(self, run_id: str) -> pd.DataFrame:
        """The tiles of detection run ``run_id`` already done (``tile_row``, ``tile_col``)."""
