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
    assert shapely.equals_exact(
        a.fences.geometry.values, b.fences.geometry.values, tolerance=0
    ).all()
    assert shapely.equals_exact(
        a.facilities.geometry.values, b.facilities.geometry.values, tolerance=0
    ).all()
    pd.testing.assert_frame_equal(a.observations, b.observations)


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """``fenceline demo`` run as a user runs it (with the PDF where Chromium is installed)."""
    from fenceline.report.chromium import find_chromium

    out = tmp_path_factory.mktemp("cli") / "demo-output"
    pdf = "--pdf" if find_chromium() else "--no-pdf"
    result = subprocess.run(
        [sys.executable, "-m", "fenceline", "demo", "-o", str(out), pdf],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return out, result.stdout


def test_fenceline_demo_prints_the_report_path(demo_run: tuple[Path, str]) -> None:
    out, stdout = demo_run
    report = (out / "report.html").resolve()
    assert f"report: {report}" in stdout
    assert report.exists() and "SYNTHETIC DEMONSTRATION DATA" in report.read_text(encoding="utf-8")


def _pdf_says(path: Path, notice: str) -> bool:
    """The PDF's Title metadata and every page carry the notice."""
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    text = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    pages = [page for page in text.split("\f") if page.strip()]
    return notice in info.stdout and bool(pages) and all(notice in page for page in pages)


def test_every_output_of_the_demo_says_synthetic_in_its_metadata(
    demo_run: tuple[Path, str],
) -> None:
    """Each file the demo writes, in the place its own readers show first."""
    import shutil
    import sqlite3

    import pyogrio

    out, _ = demo_run
    head = "SYNTHETIC DEMONSTRATION DATA"
    files = sorted(p for p in out.iterdir())
    names = {p.name for p in files}
    assert {"demo.gpkg", "demo-features.geojson", "report.html"} <= names
    assert not any(n.endswith(("-wal", "-shm", ".tmp")) for n in names), names
    for path in files:
        if path.suffix == ".gpkg":
            with sqlite3.connect(path) as db:
                descriptions = [r[0] for r in db.execute("SELECT description FROM gpkg_contents")]
            assert descriptions and all(d.startswith(DEMO_NOTICE) for d in descriptions)
            with fenceline.open(path) as project:
                assert project.store.meta()["notice"] == DEMO_NOTICE
            for layer in ("fences", "facilities"):  # what QGIS shows as the layer's abstract
                meta = pyogrio.read_info(path, layer=layer)["layer_metadata"] or {}
                assert meta.get("DESCRIPTION", "").startswith(head), layer
        elif path.suffix == ".geojson":
            meta = pyogrio.read_info(path)["layer_metadata"] or {}
            assert meta.get("DESCRIPTION") == DEMO_NOTICE
        elif path.suffix == ".html":
            body = path.read_text(encoding="utf-8")
            assert f"<title>{head}" in body and f'content="{DEMO_NOTICE}' in body
        elif path.suffix == ".pdf":
            if shutil.which("pdfinfo") is None:
                from tests.conftest import skip_or_fail

                skip_or_fail("poppler-utils (pdfinfo, pdftotext) is not installed")
            assert _pdf_says(path, head)
        else:
            raise AssertionError(f"the demo wrote {path.name}: check that it says {head}")


def test_the_demo_export_carries_its_dates(demo_run: tuple[Path, str]) -> None:
    import pyogrio

    out, _ = demo_run
    frame = pyogrio.read_dataframe(out / "demo-features.geojson")
    with fenceline.open(out / "demo.gpkg") as project:
        n_fences, n_facilities = len(project.fences), len(project.facilities)
    assert (frame["feature_type"] == "fences").sum() == n_fences
    assert (frame["feature_type"] == "facilities").sum() == n_facilities == 6820
    assert frame["built_by"].notna().all()  # every generated feature was seen present


def test_two_runs_give_the_same_project_content(
    demo_project: Path, demo_run: tuple[Path, str]
) -> None:
    """Deterministic end to end: the library build and the command build hold the same data."""
    out, _ = demo_run
    with fenceline.open(demo_project) as a, fenceline.open(out / "demo.gpkg") as b:
        content = a.content_sha256()
        assert b.content_sha256() == content
    report = (out / "report.html").read_text(encoding="utf-8")
    assert f"content sha256 {content[:12]}" in report


def test_the_demo_never_replaces_another_project(tmp_path: Path) -> None:
    """Running the demo into a folder that holds someone's own demo.gpkg must not destroy it."""
    from fenceline.errors import ProjectError

    own = tmp_path / "demo.gpkg"
    fenceline.create(own).close()
    before = own.read_bytes()
    with pytest.raises(ProjectError, match="not a demonstration project"):
        build_demo(own)
    assert own.read_bytes() == before
    result = subprocess.run(
        [sys.executable, "-m", "fenceline", "demo", "-o", str(tmp_path), "--no-pdf"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2 and "not a demonstration project" in result.stderr
    assert own.read_bytes() == before
