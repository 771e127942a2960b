"""`fenceline metrics`, `timeline` and `agreement` on the command line."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import shapely

import fenceline
from tests.metrics.common import hoeryong, snapshot, write_project


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fenceline", *args], capture_output=True, text=True
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "hoeryong.gpkg"
    write_project(path, hoeryong(), notice="SYNTHETIC: hand-built test case").close()
    return path


def test_table_names_every_indicator(project: Path) -> None:
    out = run("metrics", str(project), "--at", "2022-04-30", "--since", "2019-12-31")
    assert out.returncode == 0, out.stderr
    for word in (
        "SYNTHETIC",
        "fenced_border_km",
        "fold_increase",
        "34.800",
        "m_per_facility_along_fence",
        "107.471 m",
    ):
        assert word in out.stdout


def test_timeline_csv_and_json(project: Path) -> None:
    out = run(
        "timeline", str(project), "--from", "2019-01-01", "--to", "2022-12-31", "--format", "csv"
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("# SYNTHETIC")
    rows = list(
        csv.DictReader(io.StringIO("\n".join(line for line in lines if not line.startswith("#"))))
    )
    assert len(rows) == 49  # 48 month starts and the end date
    last = rows[-1]
    assert (
        float(last["fence_km_lower"]) == pytest.approx(18.7)
        and int(last["facilities_lower"]) == 174
    )
    assert all(float(r["fence_km_lower"]) <= float(r["fence_km_upper"]) for r in rows)
    as_json = json.loads(
        run("timeline", str(project), "--from", "2019-01", "--to", "2022-12").stdout
    )
    assert len(as_json["steps"]) == 49 and as_json["provenance"]["notice"].startswith("SYNTHETIC")


def test_agreement_of_shifted_layers(tmp_path: Path, project: Path) -> None:
    snap = hoeryong()
    moved = snap.fences.copy()
    # analyst B drew the secondary fence 50 m off and missed half the guard posts
    moved.loc[moved["id"] == "secondary-1", "geometry"] = moved.loc[
        moved["id"] == "secondary-1"
    ].geometry.translate(0, 0.00045)
    facilities = snap.facilities.iloc[::2]
    b = snapshot(
        [snap.border.geometry.iloc[0]],
        list(zip(moved["id"], moved["layer"], moved.geometry, strict=True)),
        list(zip(facilities["id"], facilities["kind"], facilities.geometry, strict=True)),
    )
    path_b = tmp_path / "b.gpkg"
    write_project(path_b, b).close()
    out = run("agreement", str(project), str(path_b), "--format", "json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["fences"]["recall"] == pytest.approx(9.5 / 18.7, abs=0.01)
    assert result["fences"]["precision"] == pytest.approx(9.5 / 18.7, abs=0.01)
    assert result["facilities"]["matched"] == 87
    assert result["facilities"]["precision"] == 1.0 and result["facilities"][
        "recall"
    ] == pytest.approx(87 / 174)
    with fenceline.open(project) as pa, fenceline.open(path_b) as pb:
        assert fenceline.agreement(pa, pb) == result


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--at", "2019-01-01", "--since", "2022-01-01"], "--since: must be before --at"),
        (["--at", "2022-01-01", "--since", "2022-01-01"], "--since: must be before --at"),
        (["--at", "2022-01-01", "--area", "Pyongyang"], "--area: no area named 'Pyongyang'"),
        (["--at", "not a date"], "--at: not a date"),
        (["--at", "2022", "--format", "xml"], "--format: must be one of"),
    ],
)
def test_bad_parameters_exit_2_with_one_line(project: Path, args: list[str], needle: str) -> None:
    out = run("metrics", str(project), *args)
    assert out.returncode == 2
    assert needle in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_empty_project_and_no_border_exit_2(tmp_path: Path) -> None:
    empty = tmp_path / "empty.gpkg"
    fenceline.create(empty).close()
    out = run("metrics", str(empty), "--at", "2022-01-01")
    assert out.returncode == 2 and "nothing to measure" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1

    borderless = tmp_path / "borderless.gpkg"
    write_project(
        borderless,
        snapshot(
            [shapely.LineString([(129, 42), (129.1, 42)])],
            [("f", "primary", shapely.LineString([(129.01, 42.01), (129.02, 42.01)]))],
        ),
    ).close()
    with sqlite3.connect(borderless) as db:
        db.execute("DELETE FROM border")
    out = run("metrics", str(borderless), "--at", "2022-01-01")
    assert out.returncode == 2 and "no border" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    out = run("timeline", str(borderless), "--from", "2022-01-01", "--to", "2021-01-01")
    assert out.returncode == 2 and "--to: must be after --from" in out.stderr
