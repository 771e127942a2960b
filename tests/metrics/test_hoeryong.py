"""The hand-built Hoeryong case (HRW, November 2022): the tool reports exactly its numbers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import fenceline
from fenceline.metrics import compute_metrics
from tests.metrics.common import geographiclib_km, hoeryong, write_project

AT, SINCE = "2022-04-30", "2019-12-31"


def check(area: dict) -> None:
    assert area["border_km"] == pytest.approx(7.4, abs=1e-6)
    assert area["facilities_since"]["watchtower"] == 5
    assert area["facilities_since"]["total"] == 5
    assert area["facilities"]["guard_post"] == 169
    assert area["facilities"]["total"] == 174
    assert area["new_fence_km"] == pytest.approx(9.2, abs=1e-6)
    assert area["fence_km"]["secondary"] == pytest.approx(9.2, abs=1e-6)
    assert area["upgraded_fence_km"] == pytest.approx(9.5, abs=1e-6)
    assert area["fence_km"]["total"] == pytest.approx(18.7, abs=1e-6)
    assert area["uncertain_fence_km"] == 0
    assert area["fold_increase"] == pytest.approx(174 / 5)
    # implied spacings: ~1.5 km between facilities in 2019, ~43 m along the border in 2022
    assert area["m_per_facility_along_border_since"] == pytest.approx(1480.0)
    assert area["m_per_facility_along_border"] == pytest.approx(7400 / 174, abs=1e-5)
    assert area["m_per_facility_along_fence"] == pytest.approx(18700 / 174, abs=1e-5)
    assert area["layers_km"]["2"] == pytest.approx(7.3, abs=1e-6)
    assert sum(area["layers_km"].values()) == pytest.approx(area["border_km"])
    assert area["facilities_near_new_or_upgraded_fence"] == 174
    assert area["outside_corridor"] == {"fences": 0, "facilities": 0}


def test_fixture_lengths_are_geographiclib_exact() -> None:
    snap = hoeryong()
    km = {row.id: geographiclib_km(row.geometry) for row in snap.fences.itertuples()}
    assert km == pytest.approx({"primary-1": 9.5, "secondary-1": 9.2}, abs=1e-9)


def test_library_reports_hoeryong_numbers() -> None:
    result = compute_metrics(hoeryong(), AT, SINCE)
    check(result["areas"][0])
    check(result["total"])


def test_cli_json_reports_hoeryong_numbers(tmp_path: Path) -> None:
    path = tmp_path / "hoeryong.gpkg"
    write_project(path, hoeryong(), notice="SYNTHETIC: hand-built test case").close()
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "fenceline",
            "metrics",
            str(path),
            "--at",
            AT,
            "--since",
            SINCE,
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(out.stdout)
    assert set(result) == {"at", "since", "params", "areas", "total", "provenance"}
    check(result["areas"][0])
    prov = result["provenance"]
    assert prov["notice"].startswith("SYNTHETIC")
    assert prov["counts"]["fences"] == 2 and prov["counts"]["facilities"] == 174
    assert prov["counts"]["observations"] == prov["counts"]["observations_used"] == 348
    assert prov["fenceline_version"] == fenceline.__version__
    with fenceline.open(path) as project:
        assert prov["content_sha256"] == project.content_sha256()
        assert project.metrics(AT, SINCE)["areas"] == result["areas"]
