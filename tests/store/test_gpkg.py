"""The GeoPackage store: GDAL reads it, writes are all or nothing, the audit is append-only."""

from __future__ import annotations

import sqlite3
import struct
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely

import fenceline
from fenceline.errors import ProjectError
from fenceline.store import AuditEntry


@pytest.fixture
def project(tmp_path: Path) -> fenceline.Project:
    p = fenceline.create(tmp_path / "p.gpkg")
    yield p
    p.close()


def fences(ids: list[str]) -> gpd.GeoDataFrame:
    lines = [
        shapely.LineString([(125 + i * 0.01, 40.5), (125 + i * 0.01, 40.51)])
        for i in range(len(ids))
    ]
    return gpd.GeoDataFrame(
        {"id": ids, "layer": "primary", "kind": "fence"}, geometry=lines, crs="EPSG:4326"
    )


def test_gdal_sees_every_layer(project: fenceline.Project) -> None:
    layers = dict(pyogrio.list_layers(project.path))
    assert layers["border"] == "LineString"
    assert layers["fences"] == "LineString"
    assert layers["facilities"] == "Point"
    assert {"areas", "images", "observations", "audit"} <= set(layers)
    border = pyogrio.read_dataframe(project.path, layer="border")
    assert border.crs.to_epsg() == 4326
    assert border.geometry.iloc[0].equals(project.border.geometry.iloc[0])


def test_upsert_is_idempotent(project: fenceline.Project) -> None:
    entry = AuditEntry(analyst="a", action="test")
    with project.store.transaction(entry) as tx:
        assert tx.upsert_features("fences", fences(["a", "b"])) == (2, 0)
    with project.store.transaction(entry) as tx:
        assert tx.upsert_features("fences", fences(["a", "b", "c"])) == (1, 2)
    assert sorted(project.fences["id"]) == ["a", "b", "c"]


def test_failed_transaction_leaves_project_unchanged(project: fenceline.Project) -> None:
    before = list(project.store.dump())
    with pytest.raises(RuntimeError), project.store.transaction(AuditEntry("a", "test")) as tx:
        tx.upsert_features("fences", fences(["a"]))
        raise RuntimeError("boom")
    assert list(project.store.dump()) == before


def test_gdal_client_edits_are_read_back(project: fenceline.Project) -> None:
    project.close()
    added = fences(["gdal-1"]).drop(columns="id")  # a QGIS user adds a fence without an id
    pyogrio.write_dataframe(added, project.path, layer="fences", append=True)
    reopened = fenceline.open(project.path)
    read = reopened.fences
    assert len(read) == 1
    assert read["id"].iloc[0].startswith("fences-")
    assert read["layer"].iloc[0] == "primary"
    assert read.geometry.iloc[0].equals_exact(added.geometry.iloc[0], 1e-12)
    reopened.close()


def test_audit_is_append_only(project: fenceline.Project) -> None:
    db = sqlite3.connect(project.path)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("DELETE FROM audit")
    db.close()


def test_open_refuses_non_projects(tmp_path: Path) -> None:
    other = tmp_path / "other.gpkg"
    other.write_bytes(b"not a database at all" * 100)
    with pytest.raises(ProjectError):
        fenceline.open(other)
    with pytest.raises(ProjectError):
        fenceline.open(tmp_path / "missing.gpkg")


def test_content_hash_changes_with_content(project: fenceline.Project) -> None:
    first = project.content_sha256()
    assert project.content_sha256() == first
    with project.store.transaction(AuditEntry("a", "test")) as tx:
        tx.upsert_features(
            "facilities",
            gpd.GeoDataFrame(
                {"id": ["f1"], "kind": ["guard_post"]},
                geometry=[shapely.Point(125, 40.5)],
                crs=4326,
            ),
        )
    assert project.content_sha256() != first


def test_ogrinfo_lists_layers_and_edits_are_read_back(tmp_path: Path) -> None:
    import shutil
    import subprocess

    from tests.conftest import skip_or_fail

    if shutil.which("ogrinfo") is None:
        skip_or_fail("GDAL's ogrinfo is not installed (Debian package gdal-bin)")
    path = tmp_path / "p.gpkg"
    with (
        fenceline.create(path) as project,
        project.store.transaction(AuditEntry("a", "test")) as tx,
    ):
        tx.upsert_features("fences", fences(["a", "b"]))
    listing = subprocess.run(
        ["ogrinfo", "-ro", "-q", str(path)], capture_output=True, text=True, check=True
    )
    for layer in ("border", "areas", "images", "fences", "facilities", "observations", "audit"):
        assert layer in listing.stdout
    # another GDAL client edits one fence's attributes and deletes another
    subprocess.run(
        ["ogrinfo", str(path), "-sql", "UPDATE fences SET layer = 'secondary' WHERE id = 'a'"],
        capture_output=True,
        text=True,
        check=True,
    )
    subprocess.run(
        ["ogrinfo", str(path), "-sql", "DELETE FROM fences WHERE id = 'b'"],
        capture_output=True,
        text=True,
        check=True,
    )
    with fenceline.open(path) as project:
        read = project.fences
    assert list(read["id"]) == ["a"]
    assert read["layer"].iloc[0] == "secondary"


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    from fenceline.errors import SchemaError

    path = tmp_path / "p.gpkg"
    fenceline.create(path).close()
    db = sqlite3.connect(path)
    db.execute("UPDATE fenceline_meta SET value = '999' WHERE key = 'schema_version'")
    db.commit()
    db.close()
    with pytest.raises(SchemaError, match="newer"):
        fenceline.open(path)


def test_migrations_run_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from fenceline.store import gpkg, schema

    path = tmp_path / "p.gpkg"
    fenceline.create(path).close()
    version = schema.SCHEMA_VERSION
    monkeypatch.setattr(gpkg, "SCHEMA_VERSION", version + 1)
    monkeypatch.setitem(gpkg.MIGRATIONS, version + 1, "CREATE TABLE migrated_marker (x INTEGER);")
    with fenceline.open(path) as project:
        assert project.store.schema_version() == version + 1
    db = sqlite3.connect(path)
    assert (
        db.execute("SELECT count(*) FROM sqlite_master WHERE name = 'migrated_marker'").fetchone()[
            0
        ]
        == 1
    )
    db.close()


def test_geometry_blobs_follow_the_geopackage_header() -> None:
    """OGC 12-128r18 §2.1.3, field by field: magic, version 0, flags (little-endian, an xy
    envelope, or the empty bit and none), the srs id, then minx, maxx, miny, maxy and ISO
    WKB; a missing geometry stays None."""
    from fenceline.store import geopackage_blob

    geoms = [
        shapely.box(-3.5, 1.25, 2.0, 7.0),
        None,
        shapely.Polygon(),
        shapely.LineString([(0.1, 0.2), (5.5, -7.25)]),
        *shapely.points(np.random.default_rng(0).normal(size=(50, 2))),
    ]
    blobs = geopackage_blob.encode(geoms, srs_id=32652)
    assert blobs[1] is None
    for geom, blob in zip(geoms, blobs, strict=True):
        if geom is None:
            continue
        magic, version, flags, srs = struct.unpack("<2sBBi", blob[:8])
        assert (magic, version, srs) == (b"GP", 0, 32652)
        if geom.is_empty:
            assert flags == 0b0001_0001
            wkb = blob[8:]
        else:
            assert flags == 0b0000_0011
            minx, maxx, miny, maxy = struct.unpack("<4d", blob[8:40])
            assert (minx, miny, maxx, maxy) == geom.bounds
            wkb = blob[40:]
        assert wkb == shapely.to_wkb(geom, byte_order=1, flavor="iso")
    assert [None if g is None else g.wkt for g in geopackage_blob.decode(blobs)] == [
        None if g is None else g.wkt for g in geoms
    ]


# each checked column: its table, the other values a row needs, and the values it allows
CHECKED = [
    ("border", "side", {"geom": b"\x00"}, ["left", "right"]),
    (
        "observations",
        "state",
        {"feature_id": "f", "observed": "2021-01-01"},
        ["present", "absent", "upgraded", "removed", "unclear"],
    ),
    (
        "candidates",
        "kind",
        {"run_id": "r", "before_image": "a", "after_image": "b"},
        ["new_structure", "removed_structure", "new_linear", "removed_linear"],
    ),
    (
        "candidates",
        "status",
        {"run_id": "r", "kind": "new_linear", "before_image": "a", "after_image": "b"},
        ["pending", "accepted", "rejected"],
    ),
]


@pytest.mark.parametrize(("table", "column", "others", "allowed"), CHECKED)
def test_checked_columns_take_their_values_and_nothing_else(
    tmp_path: Path, table: str, column: str, others: dict, allowed: list[str]
) -> None:
    fenceline.create(tmp_path / "p.gpkg").close()
    db = sqlite3.connect(tmp_path / "p.gpkg")
    # new projects check with = and OR, not an IN list (SQLite builds a table per row for it)
    (sql,) = db.execute("SELECT sql FROM sqlite_master WHERE name = ?", (table,)).fetchone()
    assert f"{column} IN" not in sql and f"{column} = '{allowed[0]}'" in sql

    def insert(value: str, n: int) -> None:
        row = {**others, column: value}
        if table == "candidates":
            row["id"] = f"c{n}"
        names = ", ".join(row)
        db.execute(
            f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * len(row))})", [*row.values()]
        )

    (rows_before,) = db.execute(f"SELECT count(*) FROM {table}").fetchone()
    for n, value in enumerate(allowed):
        insert(value, n)
    for n, value in enumerate(["other", allowed[0].upper(), f"{allowed[0]} ", ""]):
        with pytest.raises(sqlite3.IntegrityError, match="CHECK constraint failed"):
            insert(value, 100 + n)
    (rows,) = db.execute(f"SELECT count(*) FROM {table}").fetchone()
    assert rows == rows_before + len(allowed)
    db.close()
