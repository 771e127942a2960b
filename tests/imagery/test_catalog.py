"""Evidence catalog: hashes, footprints, COG copies, STAC, and bad images refused."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyproj
import pytest
import rasterio
import shapely

import fenceline
from fenceline.errors import InputError, ParameterError
from fenceline.imagery.catalog import (
    add_image,
    assessable_coverage,
    epoch_coverage,
    sha256_file,
    to_stac,
)
from fenceline.imagery.cog import is_cog
from fenceline.imagery.synthetic import SYNTHETIC_TAG, make_pair, write_geotiff
from fenceline.store import Store


def cli(*args: str) -> subprocess.CompletedProcess:
    import os

    env = dict(os.environ, PYTHONPATH=str(Path(fenceline.__file__).parents[1]))
    return subprocess.run(
        [sys.executable, "-m", "fenceline", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_register_records_evidence(project: fenceline.Project, pair) -> None:
    images = project.images.set_index("id")
    before = images.loc["before"]
    assert before["sha256"] == sha256_file(pair.before)
    assert before["acquired"] == "2019-06-14"
    assert before["gsd_m"] == 0.5
    assert before["crs"] == "EPSG:32652"
    # the footprint is the scene, in EPSG:4326, on the Yalu near Hyesan
    to_utm = pyproj.Transformer.from_crs(4326, 32652, always_xy=True)
    footprint_utm = shapely.transform(
        before.geometry, lambda xy: np.column_stack(to_utm.transform(xy[:, 0], xy[:, 1]))
    )
    with rasterio.open(pair.before) as ds:
        scene = shapely.box(*ds.bounds)
    assert footprint_utm.symmetric_difference(scene).area < 0.01 * scene.area
    border = project.border.geometry.iloc[0]
    assert shapely.distance(border, before.geometry) < 0.1  # degrees: within ~10 km
    # the records without footprints (what detection's plan reads) are the same rows
    records = project.store.read_image_records()
    assert "geometry" not in records and "geom" not in records
    expected = pd.DataFrame(project.images.drop(columns="geometry")).reset_index(drop=True)
    pd.testing.assert_frame_equal(records, expected)
    # the base class's version (for other stores) gives the same
    pd.testing.assert_frame_equal(Store.read_image_records(project.store), expected)


def test_original_unchanged_and_cog_copy_made(tmp_path: Path) -> None:
    pair = make_pair(tmp_path, size=256, seed=1, nuisance="none", cog=False)
    digest = sha256_file(pair.before)
    assert not is_cog(pair.before)
    with fenceline.create(tmp_path / "p.gpkg") as p:
        record = add_image(p.store, pair.before, acquired="2019-06-14")
    assert sha256_file(pair.before) == digest
    assert record["cog_path"] != record["path"]
    assert is_cog(record["cog_path"])


def test_same_file_twice_is_refused(project: fenceline.Project, pair) -> None:
    before = list(project.store.dump())
    with pytest.raises(InputError, match="already registered"):
        add_image(project.store, pair.before, acquired="2019-06-14")
    assert list(project.store.dump()) == before


def test_stac_items(project: fenceline.Project, pair) -> None:
    collection = to_stac(project.images)
    assert [item["id"] for item in collection["features"]] == ["before", "after"]
    item = collection["features"][0]
    assert item["properties"]["datetime"] == "2019-06-14T00:00:00Z"
    assert item["properties"]["proj:epsg"] == 32652
    assert item["assets"]["original"]["file:checksum"] == "1220" + sha256_file(pair.before)
    assert "SYNTHETIC" in item["properties"]["description"]


def test_synthetic_outputs_say_so(pair) -> None:
    with rasterio.open(pair.after) as ds:
        assert ds.tags()["SYNTHETIC"] == "yes"
        assert ds.tags()["TIFFTAG_IMAGEDESCRIPTION"] == SYNTHETIC_TAG
    truth = json.loads(pair.truth_path.read_text())
    assert "SYNTHETIC" in truth["name"]
    assert all(f["properties"]["synthetic"] for f in truth["features"])
    kinds = {f["properties"]["kind"] for f in truth["features"]}
    assert {"new_structure", "new_fence", "new_patrol_strip"} <= kinds


@pytest.fixture
def cli_project(tmp_path: Path, pair) -> Path:
    path = tmp_path / "c.gpkg"
    with fenceline.create(path) as p:
        add_image(p.store, pair.before, acquired=pair.before_date, image_id="before")
        add_image(p.store, pair.after, acquired=pair.after_date, image_id="after")
    return path


def _dump(path: Path) -> list[str]:
    with fenceline.open(path) as p:
        return list(p.store.dump())


def test_bad_images_exit_2_and_project_unchanged(tmp_path: Path, cli_project: Path) -> None:
    transform = rasterio.Affine(0.5, 0, 433000, 0, -0.5, 4584000)
    no_crs = write_geotiff(
        tmp_path / "nocrs.tif",
        np.zeros((64, 64), "uint8"),
        transform=transform,
        crs=None,
        cog=False,
    )
    corrupt = tmp_path / "corrupt.tif"
    corrupt.write_bytes(b"II*\x00" + b"\x00garbage" * 50)
    far = write_geotiff(
        tmp_path / "far.tif",
        np.full((64, 64), 100, "uint8"),
        transform=rasterio.Affine(0.5, 0, 300000, 0, -0.5, 4400000),
        cog=False,
    )
    before = _dump(cli_project)
    result = cli("images", "add", cli_project, no_crs, "--acquired", "2020-01-01")
    assert result.returncode == 2 and "no CRS" in result.stderr
    assert "Traceback" not in result.stderr
    result = cli("images", "add", cli_project, corrupt, "--acquired", "2020-01-01")
    assert result.returncode == 2 and "corrupt.tif" in result.stderr
    result = cli("detect", cli_project, "--before", "after", "--after", "before")
    assert result.returncode == 2 and "not after" in result.stderr
    assert _dump(cli_project) == before
    # an image that does not overlap registers (it is evidence) but cannot be compared
    assert (
        cli("images", "add", cli_project, far, "--acquired", "2022-01-01", "--id", "far").returncode
        == 0
    )
    middle = _dump(cli_project)
    result = cli("detect", cli_project, "--before", "before", "--after", "far")
    assert result.returncode == 2 and "does not overlap" in result.stderr
    assert _dump(cli_project) == middle


def test_footprint_is_valid_pixels_and_assessable_coverage(tmp_path: Path) -> None:
    """The images layer holds valid-pixel footprints (EPSG:4326) and ISO ``acquired`` dates:
    the contract ``assessable_km`` in the metrics relies on."""
    transform = rasterio.Affine(0.5, 0, 433000, 0, -0.5, 4584000)
    half = np.full((256, 256), 120, "uint8")
    half[:, :128] = 0  # the left half is outside the swath (nodata)
    left_empty = write_geotiff(tmp_path / "half.tif", half, transform=transform, nodata=0)
    full = write_geotiff(
        tmp_path / "full.tif", np.full((256, 256), 90, "uint8"), transform=transform, nodata=0
    )
    elsewhere = write_geotiff(
        tmp_path / "far.tif",
        np.full((64, 64), 90, "uint8"),
        transform=rasterio.Affine(0.5, 0, 300000, 0, -0.5, 4400000),
    )
    with fenceline.create(tmp_path / "p.gpkg") as p:
        add_image(p.store, left_empty, acquired="2019-06-14", image_id="s")
        add_image(p.store, full, acquired="2021-09-27", image_id="t")
        add_image(p.store, elsewhere, acquired="2021-10-01", image_id="far")
        images = p.images
    assert {"id", "acquired", "geometry"} <= set(images.columns)
    assert images.crs.to_epsg() == 4326
    assert list(images.sort_values("id")["acquired"]) == ["2021-10-01", "2019-06-14", "2021-09-27"]
    to_utm = pyproj.Transformer.from_crs(4326, 32652, always_xy=True)

    def utm(geom: shapely.Geometry) -> shapely.Geometry:
        return shapely.transform(
            geom, lambda xy: np.column_stack(to_utm.transform(xy[:, 0], xy[:, 1]))
        )

    right_half = shapely.box(433064, 4583872, 433128, 4584000)
    footprint = utm(images.set_index("id").loc["s"].geometry)
    assert footprint.symmetric_difference(right_half).area < 0.02 * right_half.area
    since_cover, at_cover = epoch_coverage(images, "2020-01-01", "2022-01-01")
    assert utm(since_cover).symmetric_difference(right_half).area < 0.02 * right_half.area
    assert utm(at_cover).area > 64 * 128 * 1.9  # the full scene and the far one
    both = utm(assessable_coverage(images, "2020-01-01", "2022-01-01"))
    assert both.symmetric_difference(right_half).area < 0.02 * right_half.area
    # an image acquired on the since date belongs to the since epoch; after `at`, to neither
    assert assessable_coverage(images, "2019-06-14", "2021-09-26").is_empty
    assert utm(assessable_coverage(images, "2019-06-14", "2021-09-27")).area > 0
    assert assessable_coverage(images.iloc[0:0], "2020-01-01", "2022-01-01") is None
    with pytest.raises(ParameterError):
        epoch_coverage(images, "2022-01-01", "2020-01-01")
