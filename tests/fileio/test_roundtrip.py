"""Round trips: each format in -> project -> each format out keeps geometry and attributes."""

from __future__ import annotations

from pathlib import Path

import pytest
import shapely

import fenceline
from fenceline.io.exporter import features_with_dates
from fenceline.io.readers import read_vector
from tests.fileio.common import (
    DATA,
    facility_layer,
    fence_layer,
    google_earth_kmz,
    same_value,
    write_with_gdal,
)

IN_FORMATS = ["geojson", "gpkg", "shp", "shp.zip", "kml", "kmz", "csv"]
OUT_SUFFIXES = [".geojson", ".gpkg", ".kml", ".kmz", ".csv", ".shp"]
TOLERANCE_DEG = 1e-7
LAYERS = {"F1": "primary", "F2": "secondary", "F3": "tertiary"}


def fence_import_options(fmt: str) -> dict:
    field_map = {"layer": "Fence_Type"}
    if fmt in ("shp", "shp.zip"):
        field_map["last_absent"] = "last_absen"  # Shapefile names have 10 characters at most
    return {"field_map": field_map, "value_map": {"layer": {"main": "primary"}}}


def assert_same_geometry(
    got: dict[str, shapely.Geometry], expected: dict[str, shapely.Geometry]
) -> None:
    assert set(got) == set(expected)
    for key, geom in expected.items():
        assert got[key].geom_type == geom.geom_type
        assert got[key].equals_exact(geom, TOLERANCE_DEG), key


def by_id(frame) -> dict:
    return {str(r["id"]): r for _, r in frame.iterrows()}


@pytest.mark.parametrize("fmt_in", IN_FORMATS)
def test_fences_round_trip(tmp_path: Path, fmt_in: str) -> None:
    source = write_with_gdal(fence_layer(), tmp_path / "in", fmt_in, "fences")
    expected = by_id(fence_layer())
    with fenceline.create(tmp_path / "p.gpkg") as project:
        project.import_file(source, as_="fences", **fence_import_options(fmt_in))
        stored = by_id(project.fences)
        assert_same_geometry(
            {k: r.geometry for k, r in stored.items()}, {k: r.geometry for k, r in expected.items()}
        )
        for key, row in expected.items():
            assert stored[key]["layer"] == LAYERS[key]
            for column in ("height_m", "posts", "remark"):
                assert same_value(stored[key][column], row[column]), (column, key)
        dates = by_id(features_with_dates(project.snapshot(), "fences"))
        for key, row in expected.items():
            assert dates[key]["built_by"] == row["first_seen"]
            assert same_value(dates[key]["built_after"], row["last_absent"])

        for suffix in OUT_SUFFIXES:
            out = tmp_path / "out" / fmt_in.replace(".", "_") / f"fences{suffix}"
            out.parent.mkdir(parents=True, exist_ok=True)
            project.export(out, only="fences")
            back = by_id(read_vector(out, prefer_layer="fences"))
            assert_same_geometry(
                {k: r.geometry for k, r in back.items()},
                {k: r.geometry for k, r in expected.items()},
            )
            for key, row in expected.items():
                assert back[key]["layer"] == LAYERS[key], suffix
                for column in ("height_m", "posts", "remark"):
                    assert same_value(back[key][column], row[column]), (suffix, column, key)
            # the export imports back to the same features and the same timeline
            with fenceline.create(out.parent / f"again{suffix.replace('.', '_')}.gpkg") as again:
                again.import_file(out, as_="fences")
                again_dates = by_id(features_with_dates(again.snapshot(), "fences"))
                for key in expected:
                    for column in ("built_after", "built_by", "upgraded_by", "removed_by"):
                        assert same_value(again_dates[key][column], dates[key][column]), (
                            suffix,
                            key,
                            column,
                        )


@pytest.mark.parametrize("fmt_in", IN_FORMATS)
def test_facilities_round_trip(tmp_path: Path, fmt_in: str) -> None:
    source = write_with_gdal(facility_layer(), tmp_path / "in", fmt_in, "facilities")
    expected = by_id(facility_layer())
    with fenceline.create(tmp_path / "p.gpkg") as project:
        project.import_file(source, as_="facilities", field_map={"kind": "type"})
        for suffix in (".geojson", ".gpkg", ".kml", ".csv", ".shp"):
            out = tmp_path / "out" / f"facilities{suffix}"
            out.parent.mkdir(parents=True, exist_ok=True)
            project.export(out, only="facilities")
            back = by_id(read_vector(out, prefer_layer="facilities"))
            assert_same_geometry(
                {k: r.geometry for k, r in back.items()},
                {k: r.geometry for k, r in expected.items()},
            )
            assert back["P1"]["kind"] == "guard_post"
            assert back["P2"]["kind"] == "watchtower"
            assert same_value(back["P1"]["remark"], "on the ridge")


@pytest.mark.parametrize("name", ["kml", "kmz"])
def test_google_earth_pro_documents(tmp_path: Path, name: str) -> None:
    """Nested folders, ExtendedData, styles, 3D coordinates and a TimeStamp, as Google Earth writes."""
    source = DATA / "google_earth_fences.kml" if name == "kml" else google_earth_kmz(tmp_path)
    with fenceline.create(tmp_path / "p.gpkg") as project:
        counts = project.import_file(
            source,
            as_="fences",
            field_map={"layer": "Fence_Type"},
            value_map={"layer": {"main": "primary"}},
        )
        assert counts["placemarks_of_other_geometry_skipped"] == 1  # the guard post is a point
        fences = project.fences.set_index("Name")
        assert sorted(fences.index) == ["P-001", "S-001"]
        assert fences.loc["P-001", "layer"] == "primary"
        assert fences.loc["S-001", "layer"] == "secondary"
        assert fences.loc["P-001", "description"] == "Double fence along the river road"
        assert fences.loc["P-001", "folder"] == "Primary fence"
        assert not shapely.has_z(fences.loc["P-001", "geometry"])
        assert fences.loc["P-001", "geometry"].coords[0] == pytest.approx(
            (129.7403214, 42.4458132), abs=1e-12
        )
        dates = features_with_dates(project.snapshot(), "fences").set_index("Name")
        assert dates.loc["P-001", "built_after"] == "2019-06-02"
        assert dates.loc["P-001", "built_by"] == "2022-04-11"

        project.import_file(source, as_="facilities", defaults={"kind": "guard_post"})
        post = features_with_dates(project.snapshot(), "facilities")
        assert list(post["Name"]) == ["GP-17"]
        assert post["built_by"].iloc[0] == "2022-04-11"  # from the KML TimeStamp

        out = tmp_path / f"export.{name}"
        project.export(out)
        back = read_vector(out)
        assert sorted(back["Name"]) == ["GP-17", "P-001", "S-001"]


def test_reimport_does_not_duplicate(tmp_path: Path) -> None:
    source = write_with_gdal(fence_layer().drop(columns="id"), tmp_path, "geojson", "noid")
    with fenceline.create(tmp_path / "p.gpkg") as project:
        options = fence_import_options("geojson")
        project.import_file(source, as_="fences", **options)
        first = sorted(project.fences["id"])
        n_obs = len(project.observations)
        project.import_file(source, as_="fences", **options)
        assert sorted(project.fences["id"]) == first
        assert len(project.observations) == n_obs
        assert len(first) == 3


def test_any_crs_in_epsg4326_stored(tmp_path: Path) -> None:
    utm = fence_layer().to_crs("EPSG:32652")
    source = write_with_gdal(utm, tmp_path, "gpkg", "utm")
    with fenceline.create(tmp_path / "p.gpkg") as project:
        project.import_file(source, as_="fences", **fence_import_options("gpkg"))
        stored = by_id(project.fences)
        for key, row in by_id(fence_layer()).items():
            assert stored[key].geometry.equals_exact(row.geometry, TOLERANCE_DEG)


def test_audit_records_who_when_what(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = write_with_gdal(fence_layer(), tmp_path, "geojson", "f")
    with fenceline.create(tmp_path / "p.gpkg") as project:
        project.import_file(
            source, as_="fences", analyst="alice", **fence_import_options("geojson")
        )
        monkeypatch.setenv("FENCELINE_ANALYST", "bob")
        project.import_file(source, as_="fences", **fence_import_options("geojson"))
        audit = project.audit
        assert list(audit["analyst"])[-2:] == ["alice", "bob"]
        import hashlib
        import json

        assert audit["source_sha256"].iloc[-1] == hashlib.sha256(source.read_bytes()).hexdigest()
        counts = json.loads(audit["counts"].iloc[-2])
        assert counts["fences_inserted"] == 3 and counts["observations_added"] == 5
        assert audit["at"].iloc[-1].startswith("20")
