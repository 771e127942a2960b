"""A user-supplied ONNX model through the whole `fenceline detect` pipeline: co-registration,
radiometry, tiles in worker processes, vectorising, the review queue and the audit."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest
import shapely

import fenceline
from tests.imagery.conftest import detect_command
from tests.imagery.test_detect import onnx_difference_model

pytest.importorskip("onnxruntime")


def test_detect_with_an_onnx_model_from_the_command_line(
    tmp_path: Path, project: fenceline.Project, pair
) -> None:
    model = onnx_difference_model(tmp_path / "diff.onnx")
    # the same graph with its divisor 4 made 6: "probability" 0.5 = 3 standard deviations brighter
    raw = model.read_bytes()
    assert raw.count(struct.pack("<f", 4.0)) == 1
    model.write_bytes(raw.replace(struct.pack("<f", 4.0), struct.pack("<f", 6.0)))
    path = project.path
    project.close()
    done = subprocess.run(
        detect_command(
            path,
            "--detector",
            "onnx",
            "--model",
            model,
            "--threshold",
            0.5,
            "--tile-size",
            384,
            "--workers",
            2,
            "--analyst",
            "tester",
        ),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    with fenceline.open(path) as p:
        cands = p.store.read_candidates()
    assert len(cands) > 0
    assert set(cands["before_image"]) == {"before"} and set(cands["after_image"]) == {"after"}
    # the model only says "brighter": what it found lies on the new structures it can see
    truth = pair.truth.to_crs(4326)
    posts = truth[truth["kind"] == "new_structure"]
    hit = [shapely.intersects(cands.geometry.values, g.buffer(2e-5)).any() for g in posts.geometry]
    assert np.mean(hit) > 0.3
    # the audit names the model by its sha256, so the run can be reproduced
    db = sqlite3.connect(path)
    try:
        rows = db.execute("SELECT detail FROM audit WHERE action = 'detect'").fetchall()
    finally:
        db.close()
    digest = hashlib.sha256(model.read_bytes()).hexdigest()
    assert rows and all(json.loads(d)["detector"]["model_sha256"] == digest for (d,) in rows)


def test_a_replaced_model_is_a_new_run_not_a_resume(tmp_path: Path, project) -> None:
    from fenceline.imagery.detect import OnnxDetector
    from fenceline.imagery.pipeline import detect_changes

    model = onnx_difference_model(tmp_path / "diff.onnx")
    first = detect_changes(
        project.store, "before", "after", detector=OnnxDetector(model), workers=1, tile_size=384
    )
    raw = model.read_bytes()
    model.write_bytes(raw.replace(struct.pack("<f", 4.0), struct.pack("<f", 6.0)))
    second = detect_changes(
        project.store, "before", "after", detector=OnnxDetector(model), workers=1, tile_size=384
    )
    assert second["run_id"] != first["run_id"]
    assert second["tiles_skipped"] == 0
