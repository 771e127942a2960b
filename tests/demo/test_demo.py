"""The demo reproduces HRW's published aggregates and the Hoeryong case study, deterministically."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import shapely

import fenceline
from fenceline.data import read_series
from fenceline.demo import CASE_STUDY, DEMO_AT, DEMO_NOTICE, DEMO_SINCE, build_demo
from fenceline.demo.generate import generate


@pytest.fixture(scope="module")
def demo_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_demo(tmp_path_factory.mktemp("demo") / "demo.gpkg")


def _published(metric: str) -> float:
    figures = read_series("hrw_border_figures_verbatim")
    row = figures[figures["metric"] == metric]
    assert len(row) == 1, metric
    return float(str(row["value"].iloc[0]).replace(",", ""))


def test_computed_aggregates_match_the_published_ones(demo_project: Path) -> None:
    with fenceline.open(demo_project) as project:
        total = project.metrics(at=DEMO_AT, since=DEMO_SINCE)["total"]
    pairs = {
        "total border length of six areas": total["border_km"],
        "border length fenced in 2019": total["fenced_border_km_since"],
        "new fencing": total["new_fence_km"],
        "enhanced pre-existing primary fencing": total["upgraded_fence_km"],
        "total fence length (all layers)": total["fence_km"]["total"],
        "security facilities near fences": total["facilities"]["total"],
        "increase in facilities since 2019": total["fold_increase"],
        "mean facility spacing": total["m_per_facility_along_fence"],
    }
    for metric, computed in pairs.items():
        assert computed == pytest.approx(_published(metric), rel=0.02), metric
    # "almost all of their total of 321 kilometers was fenced in 2022 and 2023"
    assert total["fenced_border_km"] / total["border_km"] > 0.95
    assert total["uncertain_fence_km"] == 0.0
    assert total["outside_corridor"] == {"fences": 0, "facilities": 0}


def test_hoeryong_section_reproduces_the_case_study(demo_project: Path) -> None:
    with fenceline.open(demo_project) as project:
        case = project.metrics(at=CASE_STUDY.at, since=CASE_STUDY.since, area=CASE_STUDY.name)[
            "total"
        ]
    assert case["border_km"] == pytest.approx(
        _published("Hoeryong case-study section length"), rel=0.01
    )
    assert case["facilities_since"]["watchtower"] == case["facilities_since"]["total"] == 5
    assert case["facilities"]["total"] - case["facilities_since"]["total"] == 169
    assert case["facilities"]["guard_post"] == 169
    assert case["new_fence_km"] == pytest.approx(9.2, rel=0.01)
    assert case["fence_km"]["secondary"] == pytest.approx(9.2, rel=0.01)
    assert case["upgraded_fence_km"] == pytest.approx(9.5, rel=0.01)
    # spacing: ~1.5 km between the five watchtowers in 2019, tens of metres in 2022
    assert case["m_per_facility_along_border_since"] == pytest.approx(1480, rel=0.02)
    assert case["m_per_facility_along_border"] < 60


def test_six_areas_named_as_hrw_and_the_notice_is_stored(demo_project: Path) -> None:
    with fenceline.open(demo_project) as project:
        names = set(project.areas["name"])
        assert project.store.meta()["notice"] == DEMO_NOTICE
        assert set(project.images["sensor"]) == {"SYNTHETIC (no image)"}
    assert {"Sinuiju", "Chunggang", "Hyesan", "Taehongdan", "Hoeryong", "Sonbong"} <= names
    assert DEMO_NOTICE.startswith("SYNTHETIC DEMONSTRATION DATA")


def test_construction_is_spread_over_2020_to_2023(demo_project: Path) -> None:
    with fenceline.open(demo_project) as project:
        obs = project.observations
    first_present = obs[obs["state"] != "absent"].groupby("feature_id")["observed"].min()
    years = pd.to_datetime(first_present).dt.year.value_counts()
    assert {2020, 2021, 2022, 2023} <= set(years.index)
    epochs = pd.to_datetime(obs["observed"]).dt.year
    assert epochs.min() == 2019 and epochs.max() == 2023


def test_generation_is_deterministic() -> None:
    from fenceline.data import bundled_border

    line = bundled_border().geometry.iloc[0]
    a, b = generate(line), generate(line)
    assert shapely.equals_exact(a.fences.geometry.values, b.fences.geometry.values, tolerance=0).all()
    assert shapely.equals_exact(a.facilities.geometry.values, b.facilities.geometry.values, tolerance=0).all()
    pd.testing.assert_frame_equal(a.observations, b.observations)


def test_fenceline_demo_prints_the_report_path(tmp_path: Path) -> None:
    out = tmp_path / "demo-output"
    result = subprocess.run(
        [sys.executable, "-m", "fenceline", "demo", "-o", str(out), "--no-pdf"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = (out / "report.html").resolve()
    assert f"report: {report}" in result.stdout
    assert report.exists() and "SYNTHETIC DEMONSTRATION DATA" in report.read_text(encoding="utf-8")
