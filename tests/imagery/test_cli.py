"""The imagery commands end to end: images add/list/stac, detect, review list/accept/reject,
export and import-decisions (in process, through ``fenceline.cli.main.run``)."""

from __future__ import annotations

import json
from pathlib import Path

import pyogrio
import pytest

import fenceline
from fenceline.cli.main import run
from fenceline.imagery.synthetic import make_pair


def fenceline_cli(capsys: pytest.CaptureFixture, *args: object) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        run([str(a) for a in args])
    out = capsys.readouterr()
    return exit_info.value.code, out.out, out.err


def test_images_detect_review_from_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    pair = make_pair(tmp_path, size=512, seed=4, nuisance="none")
    project = tmp_path / "p.gpkg"
    fenceline.create(project).close()
    code, out, _ = fenceline_cli(
        capsys, "images", "add", project, pair.before, "--acquired", "2019-06-14", "--id", "b"
    )
    assert code == 0 and "registered b" in out and "SYNTHETIC" in out
    code, out, _ = fenceline_cli(
        capsys,
        "images",
        "add",
        project,
        pair.after,
        "--acquired",
        "2021-09-27",
        "--id",
        "a",
        "--sensor",
        "test-sensor",
    )
    assert code == 0
    code, out, _ = fenceline_cli(capsys, "images", "list", project)
    assert code == 0 and "2019-06-14" in out and "test-sensor" in out
    code, _, _ = fenceline_cli(capsys, "images", "stac", project, "-o", tmp_path / "stac.json")
    assert code == 0
    stac = json.loads((tmp_path / "stac.json").read_text())
    assert [f["id"] for f in stac["features"]] == ["b", "a"]

    detect = ("detect", project, "--before", "b", "--after", "a", "--workers", "1")
    code, out, err = fenceline_cli(capsys, *detect, "--tile-size", "256")
    assert code == 0, err
    assert "4 tile(s)" in out and "new candidate(s)" in out
    # the same command again resumes: every tile is done, nothing is added
    code, out, _ = fenceline_cli(capsys, *detect, "--tile-size", "256")
    assert code == 0 and "(4 done earlier), 0 new candidate(s)" in out

    with fenceline.open(project) as p:
        queue = p.store.read_candidates()
    assert len(queue) > 2
    best = queue.sort_values(["score", "id"], ascending=[False, True])["id"].iloc[0]
    code, out, _ = fenceline_cli(capsys, "review", "list", project, "--limit", "3")
    lines = out.strip().splitlines()
    assert code == 0 and len(lines) == 4 and lines[0].startswith(best)
    assert lines[-1] == f"{len(queue)} candidate(s)"
    code, out, _ = fenceline_cli(capsys, "review", "accept", project, best)
    assert code == 0 and "accepted 1" in out
    code, out, _ = fenceline_cli(capsys, "review", "reject", project, "--max-score", "0.4")
    assert code == 0 and "rejected" in out
    # the rest goes through QGIS: export, fill `decision`, read it back
    exported = tmp_path / "review.geojson"
    code, _, _ = fenceline_cli(capsys, "review", "export", project, exported)
    assert code == 0
    frame = pyogrio.read_dataframe(exported)
    frame["decision"] = "reject"
    frame.loc[frame.index[0], "decision"] = "accept"
    pyogrio.write_dataframe(frame, exported)
    code, out, _ = fenceline_cli(capsys, "review", "import-decisions", project, exported)
    assert code == 0 and f"accepted 1, rejected {len(frame) - 1}" in out
    with fenceline.open(project) as p:
        decided = p.store.read_candidates()
        actions = list(p.audit["action"])
        n_features = len(p.facilities) + len(p.fences)
    assert (decided["status"] != "pending").all()
    assert n_features == 2 == (decided["status"] == "accepted").sum()
    assert {"images.add", "detect", "review.accept", "review.reject"} <= set(actions)
    assert "review.import_decisions" in actions


def test_detect_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    project = tmp_path / "p.gpkg"
    fenceline.create(project).close()
    code, _, err = fenceline_cli(capsys, "detect", project, "--before", "x", "--after", "y")
    assert code == 2 and "no image 'x'" in err
    code, _, err = fenceline_cli(
        capsys, "detect", project, "--before", "x", "--after", "y", "--detector", "onnx"
    )
    assert code == 2 and "--model" in err
    code, _, err = fenceline_cli(
        capsys, "detect", project, "--before", "x", "--after", "y", "--tile-size", "64"
    )
    assert code == 2 and "--tile-size" in err
