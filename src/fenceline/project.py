"""The public Python API: a :class:`Project` wraps one project file.

>>> import tempfile, os, fenceline
>>> path = os.path.join(tempfile.mkdtemp(), "demo.gpkg")
>>> project = fenceline.create(path)          # bundled Natural Earth border
>>> project.border.geometry.iloc[0].geom_type
'LineString'
>>> project.close()
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd

from fenceline.errors import InputError
from fenceline.settings import resolve_analyst
from fenceline.store import AuditEntry, GeoPackageStore, Snapshot, Store
from fenceline.vocab import SIDES

__all__ = ["Project", "create", "open"]

ProgressCallback = Callable[[int, int], None]


class Project:
    """A fenceline project (a GeoPackage file)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @property
    def path(self) -> str:
        return self.store.path

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Project:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<fenceline.Project {self.path!r}>"

    # --- reading ------------------------------------------------------------------------
    @property
    def border(self) -> gpd.GeoDataFrame:
        return self.store.read_border()

    @property
    def areas(self) -> gpd.GeoDataFrame:
        return self.store.read_areas()

    @property
    def fences(self) -> gpd.GeoDataFrame:
        return self.store.read_features("fences")

    @property
    def facilities(self) -> gpd.GeoDataFrame:
        return self.store.read_features("facilities")

    @property
    def observations(self) -> Any:
        return self.store.read_observations()

    @property
    def images(self) -> gpd.GeoDataFrame:
        return self.store.read_images()

    @property
    def audit(self) -> Any:
        return self.store.read_audit()

    def snapshot(self) -> Snapshot:
        """Everything the indicators need, read consistently, with the content's sha256."""
        return self.store.snapshot()

    def content_sha256(self) -> str:
        return self.store.content_sha256()

    # --- indicators ---------------------------------------------------------------------
    def metrics(
        self,
        at: str | Any,
        since: str | Any | None = None,
        area: str | None = None,
        corridor_m: float = 3000.0,
        near_m: float = 500.0,
        layer_profile: bool = False,
    ) -> dict[str, Any]:
        """Every indicator of DESIGN.md at ``at`` (baseline ``since``), as ``metrics --format json``.

        With ``layer_profile`` each area also gets ``layer_profile``: ``[[from_km, to_km,
        layers], ...]`` along the border on ``at``. See
        :func:`fenceline.metrics.compute_metrics` and docs/metrics.md.
        """
        from fenceline.metrics import compute_metrics

        return compute_metrics(
            self.snapshot(),
            at,
            since,
            area=area,
            corridor_m=corridor_m,
            near_m=near_m,
            notice=self.store.meta().get("notice"),
            layer_profile=layer_profile,
        )

    def timeline(
        self,
        start: str | Any,
        end: str | Any,
        step: str = "month",
        area: str | None = None,
        corridor_m: float = 3000.0,
    ) -> dict[str, Any]:
        """Fence km, fenced border km and facilities every ``step``, with lower/upper bounds."""
        from fenceline.metrics import compute_timeline

        return compute_timeline(
            self.snapshot(),
            start,
            end,
            step,
            area=area,
            corridor_m=corridor_m,
            notice=self.store.meta().get("notice"),
        )

    # --- writing ------------------------------------------------------------------------
    def import_file(
        self,
        source: str | os.PathLike[str],
        *,
        as_: str,
        field_map: dict[str, str] | None = None,
        value_map: dict[str, dict[str, str]] | None = None,
        defaults: dict[str, str] | None = None,
        observed: str | None = None,
        crs: str | None = None,
        layer: str | None = None,
        day_first: bool | None = None,
        analyst: str | None = None,
        progress: ProgressCallback | None = None,
    ) -> dict[str, int]:
        """Import a file as ``fences``, ``facilities``, ``areas`` or ``observations``.

        All or nothing: a bad feature raises :class:`~fenceline.errors.InputError` naming the
        file, the feature and the field, and the project is unchanged. Returns the counts
        recorded in the audit.
        """
        from fenceline.io.importer import import_file

        return import_file(
            self.store,
            Path(source),
            as_=as_,
            field_map=field_map or {},
            value_map=value_map or {},
            defaults=defaults or {},
            observed=observed,
            crs=crs,
            layer=layer,
            day_first=day_first,
            analyst=resolve_analyst(analyst),
            progress=progress,
        )

    def export(
        self,
        out: str | os.PathLike[str],
        *,
        at: str | None = None,
        only: str | None = None,
        analyst: str | None = None,
    ) -> dict[str, int]:
        """Export fences and facilities (with their derived dates) to a file."""
        from fenceline.io.exporter import export

        return export(self, Path(out), at=at, only=only, analyst=resolve_analyst(analyst))


def create(
    path: str | os.PathLike[str],
    *,
    border: str | os.PathLike[str] | gpd.GeoDataFrame | None = None,
    side: str | None = None,
    areas: str | os.PathLike[str] | None = None,
    analyst: str | None = None,
    notice: str | None = None,
) -> Project:
    """Create a project. Without ``border`` the bundled Natural Earth line is used.

    Parameters
    ----------
    path : path
        The new GeoPackage; it must not exist.
    border : path or GeoDataFrame, optional
        A line file (any format fenceline reads); its parts, in file order, make the border.
    side : {"left", "right"}, optional
        The monitored country's side relative to the line's direction (default: ``left``, or
        the file's ``side`` field).
    areas : path, optional
        Study areas to import (polygons with ``name``, or a table with ``name``, ``from_km``,
        ``to_km``).
    notice : str, optional
        A notice carried into every output (e.g. that the data are synthetic).
    """
    from fenceline.io.importer import read_border

    if side is not None and side not in SIDES:
        raise InputError("--side", f"must be 'left' or 'right', not {side!r}")
    if border is None:
        from fenceline.data import bundled_border

        border_frame = bundled_border()
        border_source = "bundled:natural-earth-10m"
        border_sha = None
    elif isinstance(border, gpd.GeoDataFrame):
        border_frame, border_source, border_sha = border, "<GeoDataFrame>", None
    else:
        border_frame, border_sha = read_border(Path(border))
        border_source = str(border)
    if side is not None:
        border_frame = border_frame.assign(side=side)
    elif "side" not in border_frame:
        border_frame = border_frame.assign(side="left")
    border_frame = border_frame[[c for c in ("name", "side") if c in border_frame] + ["geometry"]]

    store = GeoPackageStore.create(path)
    project = Project(store)
    try:
        who = resolve_analyst(analyst)
        entry = AuditEntry(
            analyst=who,
            action="init",
            source=border_source,
            source_sha256=border_sha,
            detail={"notice": notice} if notice else {},
        )
        with store.transaction(entry) as tx:
            tx.set_border(border_frame)
            if notice:
                tx.set_meta("notice", notice)
        if areas is not None:
            project.import_file(areas, as_="areas", analyst=who)
    except BaseException:
        store.close()
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(f"{path}{suffix}"):
                os.remove(f"{path}{suffix}")
        raise
    return project


def open(path: str | os.PathLike[str]) -> Project:
    """Open an existing project."""
    return Project(GeoPackageStore.open(path))
