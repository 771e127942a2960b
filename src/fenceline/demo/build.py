"""Write the demonstration project through the store API."""

from __future__ import annotations

import os
from pathlib import Path

from fenceline.demo.generate import SEED, generate
from fenceline.demo.plan import DEMO_NOTICE
from fenceline.errors import ProjectError
from fenceline.store import AuditEntry

__all__ = ["build_demo"]


def build_demo(
    path: str | os.PathLike[str], *, seed: int = SEED, analyst: str = "fenceline-demo"
) -> Path:
    """Create the demonstration project at ``path`` (replacing one already there).

    The project carries :data:`~fenceline.demo.plan.DEMO_NOTICE`, which every output repeats.

    >>> import tempfile, os, fenceline
    >>> path = build_demo(os.path.join(tempfile.mkdtemp(), "demo.gpkg"))
    >>> with fenceline.open(path) as project:
    ...     len(project.facilities), project.store.meta()["notice"].startswith("SYNTHETIC")
    (6820, True)
    """
    import fenceline

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and not _is_demo(path):
        raise ProjectError(
            str(path), "exists and is not a demonstration project: choose another directory"
        )
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    project = fenceline.create(path, analyst=analyst, notice=DEMO_NOTICE)
    try:
        data = generate(project.border.geometry.iloc[0], seed=seed)
        entry = AuditEntry(
            analyst=analyst,
            action="demo",
            source=f"fenceline.demo.generate(seed={seed})",
            detail={"notice": DEMO_NOTICE},
        )
        with project.store.transaction(entry) as tx:
            tx.upsert_areas(data.areas)
            tx.upsert_images(data.images)
            tx.upsert_features("fences", data.fences)
            tx.upsert_features("facilities", data.facilities)
            tx.add_observations(data.observations)
    finally:
        project.close()
    _label_layers(path, DEMO_NOTICE)
    return path


def _is_demo(path: Path) -> bool:
    """Whether ``path`` is a project an earlier demo wrote (the only kind it may replace)."""
    import contextlib
    import sqlite3

    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            row = db.execute("SELECT value FROM fenceline_meta WHERE key = 'notice'").fetchone()
    except sqlite3.DatabaseError:
        return False
    return row is not None and row[0] == DEMO_NOTICE


def _label_layers(path: Path, notice: str) -> None:
    """Put the notice first in each layer's GeoPackage description.

    QGIS, ArcGIS and ``ogrinfo`` show ``gpkg_contents.description`` as the layer's abstract,
    so an analyst who opens the demo file in their own GIS is told it is synthetic too.
    """
    import contextlib
    import sqlite3

    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.execute(
            "UPDATE gpkg_contents SET description = ? || ' | ' || COALESCE(description, '')",
            (notice,),
        )
