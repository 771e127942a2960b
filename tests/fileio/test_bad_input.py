"""Bad input: one clear line naming file, feature and field; exit 2; the project unchanged."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import fenceline
from tests.fileio.common import fence_layer, write_with_gdal


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fenceline", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    path = tmp_path / "p.gpkg"
    with fenceline.create(path) as p:
        good = write_with_gdal(fence_layer(), tmp_path / "good", "geojson", "fences")
        p.import_file(
            good,
            as_="fences",
            field_map={"layer": "Fence_Type"},
            value_map={"layer": {"main": "primary"}},
        )
    return path


def dump(path: Path) -> bytes:
    with fenceline.open(path) as p:
        return "\n".join(p.store.dump()).encode()


def geojson(features: list[dict]) -> str:
    return json.dumps({"type": "FeatureCollection", "features": features})


def line(coords: list, **props: object) -> dict:
    return {
        "type": "Feature",
        "properties": props,
        "geometry": {"type": "LineString", "coordinates": coords},
    }


GOOD = [[125.1, 40.5], [125.2, 40.6]]

KML_BAD_COORD = """<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><Folder><name>Fences</name>
<Placemark><name>ok</name><LineString><coordinates>125.1,40.5,0 125.2,40.6,0</coordinates></LineString></Placemark>
<Placemark><name>bad</name><LineString><coordinates>125.1,40.5,0 125.2,140.6,0</coordinates></LineString></Placemark>
</Folder></Document></kml>"""


def make_zip_bomb(path: Path) -> None:
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("doc.kml", "w") as fh,
    ):
        chunk = b" " * (1 << 20)
        for _ in range(64):  # 64 MiB of spaces compress to ~64 KiB
            fh.write(chunk)


def truncated_shapefile(directory: Path) -> Path:
    shp = write_with_gdal(fence_layer(), directory, "shp", "cut")
    data = shp.read_bytes()
    shp.write_bytes(data[: len(data) - 40])
    return shp


CASES = {
    # name: (filename, writer, --as, extra args, expected words in the message)
    "malformed geojson": (
        "bad.geojson",
        lambda p: p.write_text(
            '{"type": "FeatureCollection", "features": [{"type": "Feature" "geometry": null}]}'
        ),
        "fences",
        [],
        ["cannot be read"],
    ),
    "truncated geojson": (
        "cut.geojson",
        lambda p: p.write_text(geojson([line(GOOD, id="a")] * 3)[:-37]),
        "fences",
        [],
        ["cannot be read"],
    ),
    "kml invalid coordinate": (
        "bad.kml",
        lambda p: p.write_text(KML_BAD_COORD),
        "fences",
        [],
        ["feature 1", "geometry", "invalid coordinate"],
    ),
    "csv without coordinates": (
        "posts.csv",
        lambda p: p.write_text("id,kind\na,guard_post\n"),
        "facilities",
        [],
        ["coordinate", "lon/lat"],
    ),
    "csv bad number": (
        "posts.csv",
        lambda p: p.write_text(
            "id,kind,lon,lat\na,guard_post,129.1,42.1\nb,guard_post,east,42.2\n"
        ),
        "facilities",
        [],
        ["feature 1", "'lon'", "not a number"],
    ),
    "empty geometry": (
        "empty.geojson",
        lambda p: p.write_text(geojson([line(GOOD, id="a"), line([], id="b")])),
        "fences",
        [],
        ["feature 1", "geometry", "empty"],
    ),
    "invalid geometry": (
        "invalid.geojson",
        lambda p: p.write_text(
            geojson([line(GOOD, id="a"), line([[125.1, 40.5], [125.1, 40.5]], id="b")])
        ),
        "fences",
        [],
        ["feature 1", "geometry", "invalid geometry"],
    ),
    "wrong geometry type": (
        "points.geojson",
        lambda p: p.write_text(
            geojson(
                [
                    {
                        "type": "Feature",
                        "properties": {},
                        "geometry": {"type": "Point", "coordinates": [125, 40]},
                    }
                ]
            )
        ),
        "fences",
        [],
        ["feature 0", "must be LineString"],
    ),
    "unknown vocabulary": (
        "vocab.geojson",
        lambda p: p.write_text(geojson([line(GOOD, id="a", layer="Main")])),
        "fences",
        [],
        ["feature 0", "'layer'", "--value"],
    ),
    "bad date": (
        "dates.geojson",
        lambda p: p.write_text(geojson([line(GOOD, id="a", first_seen="03/04/2021")])),
        "fences",
        [],
        ["feature 0", "first_seen", "ambiguous"],
    ),
    "duplicate id": (
        "dup.geojson",
        lambda p: p.write_text(geojson([line(GOOD, id="a"), line(GOOD, id="a")])),
        "fences",
        [],
        ["feature 1", "duplicate id"],
    ),
    "zip bomb": ("bomb.kmz", make_zip_bomb, "fences", [], ["zip bomb"]),
    "truncated kmz": (
        "cut.kmz",
        lambda p: p.write_bytes(b"PK\x03\x04" + b"\x00" * 30),
        "fences",
        [],
        ["zip"],
    ),
    "empty file": ("nothing.geojson", lambda p: p.write_bytes(b""), "fences", [], ["empty"]),
    "unsupported format": (
        "fences.dxf",
        lambda p: p.write_text("0\nSECTION\n"),
        "fences",
        [],
        ["unsupported format"],
    ),
    "bad --as": (
        "ok.geojson",
        lambda p: p.write_text(geojson([line(GOOD, id="a")])),
        "roads",
        [],
        ["--as"],
    ),
    "unknown --map source": (
        "ok.geojson",
        lambda p: p.write_text(geojson([line(GOOD, id="a")])),
        "fences",
        ["--map", "layer=Fence_Kind"],
        ["Fence_Kind", "no such field"],
    ),
    "unknown crs": (
        "crs.geojson",
        lambda p: p.write_text(
            json.dumps(
                {
                    "type": "FeatureCollection",
                    "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::999999"}},
                    "features": [line(GOOD, id="a")],
                }
            )
        ),
        "fences",
        [],
        ["crs.geojson", "unknown coordinate reference system"],
    ),
    "observations for unknown feature": (
        "obs.csv",
        lambda p: p.write_text(
            "feature_id,observed,state\nF1,2022-01-01,present\nZZ,2022-01-01,present\n"
        ),
        "observations",
        [],
        ["feature 1", "unknown feature"],
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_rejected_cleanly(project: Path, tmp_path: Path, case: str) -> None:
    filename, writer, target, extra, words = CASES[case]
    bad = tmp_path / "bad" / filename
    bad.parent.mkdir()
    writer(bad)
    before = dump(project)
    result = run("import", str(project), str(bad), "--as", target, *extra, cwd=tmp_path)
    assert result.returncode == 2, (result.stdout, result.stderr)
    message = result.stderr.strip()
    assert "\n" not in message, message
    assert "Traceback" not in message
    if case not in ("bad --as",):
        assert bad.name in message, message
    for word in words:
        assert word in message, (word, message)
    assert dump(project) == before


def test_shapefile_without_prj_needs_crs(project: Path, tmp_path: Path) -> None:
    shp = write_with_gdal(fence_layer(), tmp_path / "noprj", "shp", "noprj")
    shp.with_suffix(".prj").unlink()
    before = dump(project)
    result = run(
        "import",
        str(project),
        str(shp),
        "--as",
        "fences",
        "--map",
        "layer=Fence_Type",
        "--value",
        "layer:Main=primary",
        cwd=tmp_path,
    )
    assert result.returncode == 2 and "no coordinate reference system" in result.stderr
    assert dump(project) == before
    ok = run(
        "import",
        str(project),
        str(shp),
        "--as",
        "fences",
        "--map",
        "layer=Fence_Type",
        "--value",
        "layer:Main=primary",
        "--crs",
        "EPSG:4326",
        cwd=tmp_path,
    )
    assert ok.returncode == 0, ok.stderr


def test_truncated_shapefile(project: Path, tmp_path: Path) -> None:
    shp = truncated_shapefile(tmp_path / "cut")
    before = dump(project)
    result = run("import", str(project), str(shp), "--as", "fences", cwd=tmp_path)
    assert result.returncode == 2 and "truncated" in result.stderr
    assert dump(project) == before


def test_truncated_project_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "p.gpkg"
    fenceline.create(path).close()
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    result = run("export", str(path), str(tmp_path / "x.geojson"), cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr


def test_bad_input_through_the_api_raises_input_error(project: Path, tmp_path: Path) -> None:
    bad = tmp_path / "empty.geojson"
    bad.write_text(geojson([line([], id="b")]))
    with fenceline.open(project) as p, pytest.raises(fenceline.InputError) as info:
        p.import_file(bad, as_="fences")
    assert info.value.feature is not None and info.value.field == "geometry"
    assert isinstance(info.value, ValueError)


def test_error_text_has_no_rich_markup_injection(project: Path, tmp_path: Path) -> None:
    bad = tmp_path / "[bold]x.geojson"
    bad.write_text("{")
    result = run("import", str(project), str(bad), "--as", "fences", cwd=tmp_path)
    assert result.returncode == 2 and "[bold]x.geojson" in result.stderr
