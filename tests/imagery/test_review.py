"""Review queue: accept into features with image-dated observations, reject, QGIS round trip."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pyogrio
import pytest

import fenceline
from fenceline.errors import InputError, ParameterError
from fenceline.imagery.pipeline import detect_changes
from fenceline.imagery.review import (
    accept,
    export_candidates,
    import_decisions,
    list_candidates,
    reject,
)
from fenceline.store.schema import SCHEMA_VERSION
from fenceline.temporal import Timeline


@pytest.fixture
def queued(project: fenceline.Project) -> fenceline.Project:
    detect_changes(project.store, "before", "after", workers=1, tile_size=512)
    return project


def test_accept_makes_features_dated_by_the_images(queued: fenceline.Project) -> None:
    queue = list_candidates(queued.store)
    structure = queue[queue["kind"] == "new_structure"].iloc[0]
    line = queue[queue["kind"] == "new_linear"].iloc[0]
    counts = accept(queued.store, [structure["id"], line["id"]], analyst="reviewer")
    assert counts == {"accepted": 2, "rejected": 0}
    facilities, fences = queued.facilities, queued.fences
    assert list(facilities["id"]) == [f"det-{structure['id']}"]
    assert facilities["kind"].iloc[0] == "guard_post"
    assert facilities.geometry.iloc[0].within(structure.geometry.buffer(1e-5))
    assert list(fences["id"]) == [f"det-{line['id']}"]
    obs = queued.observations.sort_values(["feature_id", "observed"])
    facility_obs = obs[obs["feature_id"] == f"det-{structure['id']}"]
    assert list(
        zip(facility_obs["image_id"], facility_obs["observed"], facility_obs["state"], strict=True)
    ) == [
        ("before", "2019-06-14", "absent"),
        ("after", "2021-09-27", "present"),
    ]
    # the temporal model dates the feature from the two images
    days = np.array([np.datetime64(d, "D").astype(int) for d in facility_obs["observed"]])
    timeline = Timeline.from_observations(
        1, np.zeros(2, int), days, np.array(facility_obs["state"])
    )
    assert timeline.built_after[0] == days[0] and timeline.built_by[0] == days[1]
    decided = queued.store.read_candidates().set_index("id")
    assert decided.loc[structure["id"], "status"] == "accepted"
    assert decided.loc[structure["id"], "decided_by"] == "reviewer"
    audit = queued.audit
    assert audit["action"].iloc[-1] == "review.accept"
    assert structure["id"] in audit["detail"].iloc[-1]


def test_bulk_reject_by_score_and_unknown_ids(queued: fenceline.Project) -> None:
    queue = list_candidates(queued.store)
    threshold = float(np.median(queue["score"]))
    counts = reject(queued.store, max_score=threshold, analyst="r")
    assert counts["rejected"] == int((queue["score"] <= threshold).sum())
    assert (list_candidates(queued.store)["score"] > threshold).all()
    before = list(queued.store.dump())
    with pytest.raises(ParameterError, match="no such candidate"):
        accept(queued.store, ["cand-nope"])
    assert list(queued.store.dump()) == before


def test_qgis_round_trip(tmp_path: Path, queued: fenceline.Project) -> None:
    out = tmp_path / "review.gpkg"
    n = export_candidates(queued.store, out)
    layers = dict(pyogrio.list_layers(out))
    assert set(layers) == {"structures", "linear"}
    assert n == len(list_candidates(queued.store))
    # the analyst decides in QGIS: accept the best structure, reject the first line
    structures = pyogrio.read_dataframe(out, layer="structures")
    lines = pyogrio.read_dataframe(out, layer="linear")
    structures["decision"] = ""
    structures.loc[structures.index[0], "decision"] = "accept"
    lines["decision"] = ""
    lines.loc[lines.index[0], "decision"] = "Reject"
    pyogrio.write_dataframe(structures, out, layer="structures")
    pyogrio.write_dataframe(lines, out, layer="linear")
    counts = import_decisions(queued.store, out, analyst="qgis-user")
    assert counts == {"accepted": 1, "rejected": 1}
    assert len(queued.facilities) == 1
    # a bad decision rejects the whole file; the project is unchanged
    lines.loc[lines.index[1], "decision"] = "maybe"
    pyogrio.write_dataframe(lines, out, layer="linear")
    before = list(queued.store.dump())
    with pytest.raises(InputError, match="decision"):
        import_decisions(queued.store, out)
    assert list(queued.store.dump()) == before


def test_version_1_project_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "old.gpkg"
    fenceline.create(path).close()
    db = sqlite3.connect(path)
    db.executescript(
        "DROP TABLE candidates; DROP TABLE detect_tiles;"
        "DELETE FROM gpkg_geometry_columns WHERE table_name = 'candidates';"
        "DELETE FROM gpkg_contents WHERE table_name IN ('candidates', 'detect_tiles');"
        "UPDATE fenceline_meta SET value = '1' WHERE key = 'schema_version';"
    )
    db.close()
    with fenceline.open(path) as p:
        assert p.store.schema_version() == SCHEMA_VERSION == 2
        assert len(p.store.read_candidates()) == 0
    assert "candidates" in dict(pyogrio.list_layers(path))
