"""Tiled change detection: co-registration, quality on a SYNTHETIC pair, resume, schedulers."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

import fenceline
from fenceline.errors import ParameterError
from fenceline.imagery.detect import (
    Candidates,
    Detector,
    OnnxDetector,
    detector_from_spec,
    vectorise,
)
from fenceline.imagery.pipeline import detect_changes, plan, round_decimal
from fenceline.imagery.tiles import tile_grid
from fenceline.store import AuditEntry


def test_tile_cores_cover_every_pixel_once() -> None:
    tiles = tile_grid(1000, 700, size=256, overlap=20)
    cover = np.zeros((700, 1000), int)
    for t in tiles:
        c, r, w, h = t.core
        cover[r : r + h, c : c + w] += 1
        rc, rr, rw, rh = t.read
        assert rc <= c and rr <= r and rc + rw >= c + w and rr + rh >= r + h
    assert (cover == 1).all()


def test_what_lies_on_a_seam_belongs_to_one_tile() -> None:
    """A structure whose centroid is on the corner where four cores meet belongs to exactly
    one tile (cores are half-open: the one whose core starts there), as does one centred on
    a seam between two; a line across a seam is split there, its parts adding up to it."""
    from fenceline.imagery.pipeline import TileJob, _to_image

    tiles = tile_grid(2048, 2048, size=1024, overlap=32)
    shapes = {
        "on the corner": shapely.box(1020, 1018, 1028, 1030),
        "on a seam": shapely.box(1021, 300, 1027, 306),
        "across a seam": shapely.LineString([(1000.5, 100.5), (1050.5, 100.5)]),
    }
    kept: dict[str, list[tuple[int, ...]]] = {name: [] for name in shapes}
    lengths = []
    for t in tiles:
        col, row = t.read[:2]
        job = TileJob("", "", t, (0, 0), (0.0, 0.0), 1.0, {}, (1.0, 0, 0, 0, 1.0, 0), 0.5)
        for name, g in shapes.items():
            line = g.geom_type == "LineString"
            found = Candidates(
                np.array(["new_linear" if line else "new_structure"], object),
                np.array([shapely.transform(g, lambda xy, o=(col, row): xy - o)], object),
                np.array([0.9]),
                np.array([24.0]),
                np.array([g.length * 0.5 if line else 4.0]),
            )
            out = _to_image(found, job)
            if len(out):
                kept[name].append(t.core)
                if line:
                    lengths.extend(out.length_m.tolist())
    assert kept["on the corner"] == [(1024, 1024, 1024, 1024)]
    assert kept["on a seam"] == [(1024, 0, 1024, 1024)]
    assert kept["across a seam"] == [(0, 0, 1024, 1024), (1024, 0, 1024, 1024)]
    assert sorted(lengths) == [11.75, 13.25]  # 23.5 and 26.5 px at 0.5 m


def test_coregistration_recovers_the_shift(project: fenceline.Project, pair) -> None:
    p = plan(project.store, "before", "after", tile_size=256)
    # the after image was shifted by pair.shift_px: its pixel (r + dy, c + dx) shows (r, c)
    assert p.shift == pytest.approx(pair.shift_px, abs=0.25)
    assert 0.9 < p.gain < 1.3


def test_finds_new_structures_and_lines(project: fenceline.Project, pair) -> None:
    summary = detect_changes(project.store, "before", "after", workers=1, tile_size=512)
    assert summary["tiles"] == 4
    cands = project.store.read_candidates().to_crs(pair.truth.crs)
    truth = pair.truth
    posts = truth[(truth["kind"] == "new_structure") & (truth["size_m"] >= 4)]
    structures = cands[cands["kind"] == "new_structure"]
    found = [
        shapely.intersects(structures.geometry.values, g.buffer(2)).any() for g in posts.geometry
    ]
    assert np.mean(found) >= 0.9
    hits = shapely.intersects(
        structures.geometry.values,
        shapely.unary_union(
            truth[truth["kind"].str.endswith("structure")].geometry.buffer(2).values
        ),
    )
    assert hits.mean() >= 0.7
    lines = shapely.unary_union(
        truth[truth["kind"].isin(["new_fence", "new_patrol_strip"])].geometry.values
    )
    linear = shapely.unary_union(cands[cands["kind"] == "new_linear"].geometry.values)
    assert lines.intersection(linear.buffer(5)).length / lines.length >= 0.8
    # provenance: both image ids and the tile window on every candidate
    assert set(cands["before_image"]) == {"before"} and set(cands["after_image"]) == {"after"}
    assert cands["window"].str.match(r"^\d+,\d+,\d+,\d+$").all()


def test_interrupted_run_resumes_without_duplicates(tmp_path: Path, project, pair) -> None:
    calls = []

    def interrupt(done: int, total: int) -> None:
        calls.append(done)
        if done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        detect_changes(
            project.store,
            "before",
            "after",
            workers=1,
            tile_size=384,
            flush_tiles=1,
            progress=interrupt,
        )
    partial = project.store.read_candidates()
    assert 0 < len(project.store.read_detect_tiles(partial["run_id"].iloc[0])) < 4
    summary = detect_changes(project.store, "before", "after", workers=1, tile_size=384)
    assert summary["tiles_skipped"] >= 1
    resumed = project.store.read_candidates()
    assert resumed["id"].is_unique
    # the same as an uninterrupted run in a fresh project
    from fenceline.imagery.catalog import add_image

    with fenceline.create(tmp_path / "clean.gpkg") as clean:
        add_image(clean.store, pair.before, acquired=pair.before_date, image_id="before")
        add_image(clean.store, pair.after, acquired=pair.after_date, image_id="after")
        detect_changes(clean.store, "before", "after", workers=1, tile_size=384)
        assert sorted(clean.store.read_candidates()["id"]) == sorted(resumed["id"])
    again = detect_changes(project.store, "before", "after", workers=1, tile_size=384)
    assert again["candidates_added"] == 0 and again["tiles_skipped"] == again["tiles"]


def test_the_queue_written_in_batches_is_the_runs_queue(tmp_path: Path, project, pair) -> None:
    """write_candidates, given a run's tiles in two batches, writes the rows detect_changes
    writes (ids, geometries, fields, the tiles done); a batch written again adds nothing."""
    from fenceline.imagery.catalog import add_image
    from fenceline.imagery.pipeline import run_tile, write_candidates

    p = plan(project.store, "before", "after", tile_size=384)
    results = [run_tile(job) for job in p.jobs]
    added = write_candidates(project.store, p, results[:2])
    added += write_candidates(project.store, p, results[2:])
    assert added == sum(len(r.found) for r in results) > 0
    assert write_candidates(project.store, p, results[2:]) == 0
    with fenceline.create(tmp_path / "run.gpkg") as whole:
        add_image(whole.store, pair.before, acquired=pair.before_date, image_id="before")
        add_image(whole.store, pair.after, acquired=pair.after_date, image_id="after")
        summary = detect_changes(whole.store, "before", "after", workers=1, tile_size=384)
        expected = whole.store.read_candidates().sort_values("id").reset_index(drop=True)
        tiles = whole.store.read_detect_tiles(summary["run_id"])
    got = project.store.read_candidates().sort_values("id").reset_index(drop=True)
    assert summary["candidates_added"] == added
    fields = ["id", "run_id", "kind", "score", "area_m2", "length_m", "tile_row", "tile_col"]
    assert got[fields].equals(expected[fields])
    assert shapely.equals_exact(got.geometry.values, expected.geometry.values, 0).all()
    done = project.store.read_detect_tiles(p.run_id)
    assert done[["tile_row", "tile_col", "candidates"]].equals(
        tiles[["tile_row", "tile_col", "candidates"]]
    )
    # each tile's candidates carry its row, column and window, in the tile's own order
    for r in results:
        mine = got[(got["tile_row"] == r.row) & (got["tile_col"] == r.col)]
        assert len(mine) == len(r.found) and (mine["window"] == r.window).all()
        assert sorted(mine["id"]) == sorted(
            f"cand-{p.run_id[:8]}-{r.row}-{r.col}-{k}" for k in range(len(r.found))
        )
        by_id = mine.set_index("id")
        for k, kind in enumerate(r.found.kind):
            assert by_id.loc[f"cand-{p.run_id[:8]}-{r.row}-{r.col}-{k}", "kind"] == kind


def test_area_restricts_tiles(project: fenceline.Project, pair) -> None:
    import geopandas as gpd

    box = shapely.box(*pair.truth.total_bounds)
    quarter = shapely.box(box.bounds[0], box.bounds[1], box.centroid.x, box.centroid.y)
    area = gpd.GeoDataFrame({"name": ["sw"]}, geometry=[quarter], crs=pair.truth.crs).to_crs(4326)
    with project.store.transaction(AuditEntry("t", "test")) as tx:
        tx.upsert_areas(area)
    summary = detect_changes(project.store, "before", "after", area="sw", workers=1, tile_size=256)
    assert summary["tiles"] < 9
    cands = project.store.read_candidates().to_crs(pair.truth.crs)
    assert shapely.intersects(cands.geometry.values, quarter.buffer(1)).all()
    detect = project.store.read_audit().query("action == 'detect'")
    assert len(detect) and all(json.loads(d)["area"] == "sw" for d in detect["detail"])


def test_local_pool_matches_inline(tmp_path: Path, project, pair) -> None:
    detect_changes(project.store, "before", "after", workers=2, tile_size=384)
    pooled = project.store.read_candidates()
    from fenceline.imagery.catalog import add_image

    with fenceline.create(tmp_path / "inline.gpkg") as other:
        add_image(other.store, pair.before, acquired=pair.before_date, image_id="before")
        add_image(other.store, pair.after, acquired=pair.after_date, image_id="after")
        detect_changes(other.store, "before", "after", workers=1, tile_size=384)
        assert sorted(other.store.read_candidates()["id"]) == sorted(pooled["id"])


def test_a_small_run_does_not_start_a_pool(
    tmp_path: Path, pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fenceline.imagery import pipeline, scheduler
    from fenceline.imagery.catalog import add_image

    monkeypatch.delenv("FENCELINE_WORKERS", raising=False)
    scheduler.shutdown_pool(wait=True)
    for name, env in (("default", None), ("asked", "2")):
        if env:
            monkeypatch.setenv("FENCELINE_WORKERS", env)
        with fenceline.create(tmp_path / f"{name}.gpkg") as p:
            add_image(p.store, pair.before, acquired=pair.before_date, image_id="before")
            add_image(p.store, pair.after, acquired=pair.after_date, image_id="after")
            summary = detect_changes(p.store, "before", "after", tile_size=256)
        assert 1 < summary["tiles"] < pipeline.POOL_MIN_TILES
        # a few tiles run in this process; FENCELINE_WORKERS (or --workers) still starts one
        assert bool(scheduler._POOL) is (env is not None)
    scheduler.shutdown_pool(wait=True)


def test_dask_cluster_matches_local(project: fenceline.Project) -> None:
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=1,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=":0",  # any free port: 8787 may be taken
        silence_logs=40,
    ) as cluster:
        summary = detect_changes(
            project.store, "before", "after", scheduler=cluster.scheduler_address, tile_size=384
        )
    dask_ids = sorted(project.store.read_candidates()["id"])
    assert summary["tiles"] == 4 and len(dask_ids) > 0
    inline = detect_changes(project.store, "before", "after", workers=1, tile_size=384)
    assert inline["candidates_added"] == 0  # same run: every tile already done


# --- ONNX: a tiny model written by hand (no onnx package needed) -----------------------------
def _varint(n: int) -> bytes:
    out = b""
    while True:
        byte = n & 0x7F
        n >>= 7
        out += bytes([byte | (0x80 if n else 0)])
        if not n:
            return out


def _field(number: int, payload: bytes | int | str) -> bytes:
    if isinstance(payload, int):
        return _varint(number << 3) + _varint(payload)
    data = payload.encode() if isinstance(payload, str) else payload
    return _varint(number << 3 | 2) + _varint(len(data)) + data


def _tensor_info(name: str) -> bytes:
    dims = b"".join(_field(1, _field(2, d)) for d in ("n", "c", "h", "w"))
    tensor = _field(1, 1) + _field(2, dims)  # elem_type FLOAT, shape
    return _field(1, name) + _field(2, _field(1, tensor))


def onnx_difference_model(path: Path) -> Path:
    """out = Relu(after - before) / 4: probability-like 'something bright appeared'."""
    nodes = (
        _field(1, _field(1, "after") + _field(1, "before") + _field(2, "d") + _field(4, "Sub"))
        + _field(1, _field(1, "d") + _field(2, "r") + _field(4, "Relu"))
        + _field(1, _field(1, "r") + _field(1, "four") + _field(2, "out") + _field(4, "Div"))
    )
    four = _field(1, 1) * 0 + _field(2, 1) + _field(8, "four") + _field(4, struct.pack("<f", 4.0))
    graph = (
        nodes
        + _field(2, "diff")
        + _field(5, four)
        + _field(11, _tensor_info("before"))
        + _field(11, _tensor_info("after"))
        + _field(12, _tensor_info("out"))
    )
    model = _field(1, 8) + _field(2, "fenceline-test") + _field(7, graph) + _field(8, _field(2, 13))
    path.write_bytes(model)
    return path


def test_onnx_detector_runs_a_user_model(tmp_path: Path) -> None:
    model = onnx_difference_model(tmp_path / "diff.onnx")
    rng = np.random.default_rng(0)
    before = 100 + rng.normal(0, 2, (128, 128)).astype(np.float32)
    after = before.copy()
    after[60:72, 40:52] = 200
    strength = OnnxDetector(model, threshold=0.5).change(before, after)
    found = vectorise(strength, gsd_m=0.5)
    assert [c["kind"] for c in found] == ["new_structure"]
    assert shapely.box(40, 60, 52, 72).intersects(found[0]["geometry"])


def test_nodata_is_neither_change_nor_evidence(tmp_path: Path, pair) -> None:
    """A swath edge (nodata on the left of the before image) gives no candidate along it,
    while change in the valid part is still found."""
    import rasterio

    from fenceline.imagery.catalog import add_image
    from fenceline.imagery.synthetic import write_geotiff

    with rasterio.open(pair.before) as ds:
        band, transform = ds.read(1), ds.transform
    edge_col = band.shape[1] // 3
    band[:, :edge_col] = 0
    band[:, edge_col:] = np.maximum(band[:, edge_col:], 1)  # 0 is nodata only on the left
    swath = write_geotiff(tmp_path / "swath.tif", band, transform=transform, nodata=0)
    with fenceline.create(tmp_path / "n.gpkg") as p:
        add_image(p.store, swath, acquired=pair.before_date, image_id="before")
        add_image(p.store, pair.after, acquired=pair.after_date, image_id="after")
        detect_changes(p.store, "before", "after", workers=1, tile_size=384)
        cands = p.store.read_candidates().to_crs(pair.truth.crs)
    edge_x = transform.c + edge_col * transform.a
    assert len(cands) > 0
    # nothing on the nodata side or along the swath edge
    assert (cands.geometry.bounds["maxx"] > edge_x + 8).all()
    assert not (cands.geometry.bounds["minx"] < edge_x + 2).any()
    truth = pair.truth
    posts = truth[
        (truth["kind"] == "new_structure")
        & (truth["size_m"] >= 4)
        & (truth.geometry.bounds["minx"] > edge_x + 12)
    ]
    structures = cands[cands["kind"] == "new_structure"]
    found = [
        shapely.intersects(structures.geometry.values, g.buffer(2)).any() for g in posts.geometry
    ]
    assert len(found) > 0 and np.mean(found) >= 0.9


def test_bad_worker_settings_are_parameter_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    from fenceline.errors import ParameterError
    from fenceline.imagery.scheduler import default_workers, map_unordered

    monkeypatch.setenv("FENCELINE_WORKERS", "3")
    assert default_workers() == 3
    for bad in ("many", "0"):
        monkeypatch.setenv("FENCELINE_WORKERS", bad)
        with pytest.raises(ParameterError, match="FENCELINE_WORKERS"):
            default_workers()
    with pytest.raises(ParameterError, match="--workers"):
        list(map_unordered(abs, [1, 2], workers=0))


class BrighterDetector(Detector):
    """A user's detector: anything much brighter in the after image (a test of the interface)."""

    name = "brighter"

    def __init__(self, dn: float = 60.0) -> None:
        self.dn = dn

    def spec(self) -> dict:
        return {"name": self.name, "class": f"{__name__}:BrighterDetector", "dn": self.dn}

    def change(self, before: np.ndarray, after: np.ndarray) -> np.ndarray:
        return ((after - before) / self.dn).astype(np.float32)


def test_a_user_detector_runs_in_the_pipeline(tmp_path: Path) -> None:
    import rasterio

    from fenceline.imagery.catalog import add_image
    from fenceline.imagery.synthetic import write_geotiff

    transform = rasterio.Affine(0.5, 0, 433000, 0, -0.5, 4584000)
    rng = np.random.default_rng(3)
    before = (100 + rng.normal(0, 3, (256, 256))).astype("uint8")
    after = before.copy()
    after[100:114, 60:74] = 230  # a 7 m roof
    with fenceline.create(tmp_path / "u.gpkg") as p:
        add_image(
            p.store,
            write_geotiff(tmp_path / "b.tif", before, transform=transform),
            acquired="2020-01-01",
            image_id="b",
        )
        add_image(
            p.store,
            write_geotiff(tmp_path / "a.tif", after, transform=transform),
            acquired="2021-01-01",
            image_id="a",
        )
        detect_changes(p.store, "b", "a", detector=BrighterDetector(), workers=1, tile_size=128)
        cands = p.store.read_candidates()
    assert list(cands["kind"]) == ["new_structure"]
    assert list(cands["detector"]) == ["brighter"]
    assert detector_from_spec(BrighterDetector(40.0).spec()).dn == 40.0
    with pytest.raises(ParameterError, match="cannot load"):
        detector_from_spec({"name": "x", "class": "no.such.module:Thing"})


def test_bad_model_fails_before_any_tile_and_errors_cross_processes(tmp_path: Path) -> None:
    import pickle

    from fenceline.errors import InputError

    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"not a model")
    with pytest.raises(InputError, match="not a usable ONNX model"):
        OnnxDetector(garbage)
    # errors raised in a worker process come back to the command line intact
    error = pickle.loads(pickle.dumps(InputError("a.tif", "broken", feature=3, field="x")))
    assert isinstance(error, InputError) and error.exit_code == 2
    assert (error.source, error.feature, error.field) == ("a.tif", 3, "x")
    assert str(error) == "a.tif: feature 3: field 'x': broken"


def test_window_validity_is_a_box_and_the_nodata_it_holds(tmp_path: Path) -> None:
    """A window leaving the image is described by the rectangle inside it; nodata only by a
    mask where the window holds some; both images' together is the rectangle inside both
    and the union of their nodata; the run silences exactly the outside of that box."""
    import rasterio

    from fenceline.imagery import pipeline
    from fenceline.imagery.synthetic import write_geotiff

    band = np.full((64, 80), 50, np.uint8)
    band[:10, :20] = 0  # nodata in the top-left corner
    path = write_geotiff(
        tmp_path / "v.tif", band, transform=rasterio.Affine(0.5, 0, 500000, 0, -0.5, 4e6), nodata=0
    )
    pipeline.release_datasets()
    assert pipeline._read_valid(str(path), 30, 20, 16, 16) is None  # inside, all valid
    box, nodata = pipeline._read_valid(str(path), 70, 50, 16, 16)  # past the right and bottom
    assert box == (0, 14, 0, 10) and nodata is None
    box, nodata = pipeline._read_valid(str(path), -4, -2, 16, 16)  # past the top-left, nodata
    assert box == (2, 16, 4, 16)
    expected = np.zeros((16, 16), bool)
    expected[2:12, 4:16] = True  # rows 0-9, columns 0-11 of the image
    np.testing.assert_array_equal(nodata, expected)
    both = pipeline._combined_valid((16, 16), ((2, 16, 4, 16), None), ((0, 14, 0, 10), expected))
    assert both[0] == (2, 14, 4, 10)
    np.testing.assert_array_equal(both[1], expected)
    assert pipeline._combined_valid((16, 16), None, None) is None
    outside = pipeline._outside((16, 16), (2, 14, 4, 10))
    assert outside.sum() == 16 * 16 - 12 * 6 and not outside[2:14, 4:10].any()
    pipeline.release_datasets()


def test_candidates_as_columns_are_the_dicts_in_order(pair) -> None:
    """vectorise_columns gives vectorise's candidates, field for field and in order; a tile's
    columns select, join and come back as dicts unchanged."""
    import rasterio

    from fenceline.imagery.detect import ClassicalDetector, vectorise_columns

    with rasterio.open(pair.before) as b, rasterio.open(pair.after) as a:
        strength = ClassicalDetector().change(b.read(1)[:512, :512], a.read(1)[:512, :512])
    found = vectorise_columns(strength, gsd_m=0.5)
    dicts = vectorise(strength, gsd_m=0.5)
    assert len(found) == len(dicts) > 3
    assert found.records() == dicts
    assert all(type(d["score"]) is float and type(d["kind"]) is str for d in dicts)
    assert Candidates.from_records(dicts).records() == dicts
    order = np.arange(len(found))[::-1]
    assert found.take(order).records() == dicts[::-1]
    halves = [found.take(np.arange(2)), Candidates.empty(), found.take(np.arange(2, len(found)))]
    assert Candidates.concat(halves).records() == dicts
    assert len(Candidates.concat([])) == 0 and Candidates.from_records([]).records() == []


def _same_floats(a: list[float], b: list[float]) -> bool:
    """Equal to the bit (-0.0 is not 0.0, NaN is NaN)."""
    return np.array_equal(np.array(a).view(np.int64), np.array(b).view(np.int64))


@settings(max_examples=300, deadline=None)
@given(
    values=st.lists(
        st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=True)
        | st.integers(-(10**6), 10**6).map(lambda k: k / 8)  # exact ties at 1 to 3 places
        | st.integers(-(10**6), 10**6).map(lambda k: (k + 0.5) / 10**4),  # near-ties
        max_size=60,
    ),
    digits=st.integers(0, 17),
)
def test_round_decimal_is_pythons_round(values: list[float], digits: int) -> None:
    """The queue's rounding, vectorised, against Python's own round of each value."""
    assert _same_floats(round_decimal(values, digits), [round(v, digits) for v in values])


def test_round_decimal_on_known_ties() -> None:
    # 2.675 is 2.67499999... in binary; 0.125 and 0.375 are exact ties (to even)
    values = [2.675, 0.125, 0.375, -0.125, 1.005, 0.5, 1.5, 2.5, -0.0, -0.001, 5e-324]
    for digits in (0, 1, 2, 4):
        assert _same_floats(round_decimal(values, digits), [round(v, digits) for v in values])


@pytest.mark.parametrize("compiled", [True, False])
def test_a_post_joined_to_a_fence_by_faint_change_is_a_structure_too(
    compiled: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A guard post whose faint surroundings join it to a fence: the component is traced as
    lines, and the post's compact strong part is a structure candidate as well; a long part
    (a gate) and a part that changed the other way are not (both paths)."""
    monkeypatch.setenv("FENCELINE_NUMBA", "1" if compiled else "0")
    strength = np.zeros((200, 300), np.float32)
    strength[40:42, 10:290] = 3  # a fence, 1 m wide
    strength[42:60, 150:152] = 0.7  # a path of faint change to the post
    strength[60:76, 143:159] = 4  # an 8 m post (16 px)
    strength[42:50, 60:62] = 0.7
    strength[50:58, 44:68] = 2.5  # a 12 x 4 m part: too long for its width (aspect 3)
    strength[42:50, 230:232] = 0.7
    strength[50:62, 225:237] = -3  # a part that faded
    found = vectorise(strength, gsd_m=0.5)
    structures = [c for c in found if c["kind"].endswith("_structure")]
    assert [c["kind"] for c in found if c["kind"].endswith("_linear")]
    assert [c["kind"] for c in structures] == ["new_structure"]
    post = structures[0]
    assert post["area_m2"] == 64.0
    assert shapely.equals(post["geometry"], shapely.box(143, 60, 159, 76))
    assert post["score"] == pytest.approx(1 - np.exp(-4 / 3))


def test_the_classical_rules_revision_is_in_the_spec_and_checked() -> None:
    """The spec names the rules' revision (so the run id and the audit do); a worker whose
    fenceline has other rules refuses the run instead of mixing candidates."""
    from fenceline.imagery.detect import CLASSICAL_REVISION, ClassicalDetector

    spec = ClassicalDetector().spec()
    assert spec["revision"] == CLASSICAL_REVISION
    assert detector_from_spec(spec).spec() == spec
    with pytest.raises(ParameterError, match="revision 1 of the classical detector"):
        detector_from_spec({**spec, "revision": 1})
