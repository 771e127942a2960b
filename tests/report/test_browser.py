"""The report in real headless Chromium, network blocked: no errors, map and charts drawn."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import fenceline
from fenceline.report.chromium import find_chromium
from tests.conftest import skip_or_fail
from tests.report.report_browser import non_blank_fraction, render, screenshot

pytestmark = pytest.mark.browser


def _findings(page: Path) -> list[str]:
    """The key findings of an HTML report as plain sentences (without their definition links)."""
    import html
    import re

    body = page.read_text(encoding="utf-8")
    block = re.search(r'<ul class="findings">(.*?)</ul>', body, re.S).group(1)
    items = re.findall(r"<li>(.*?)</li>", block, re.S)
    items = [re.sub(r'<a class="def".*?</a>', " ", item, flags=re.S) for item in items]
    return [" ".join(html.unescape(re.sub(r"<[^>]+>", "", item)).split()) for item in items]


@pytest.fixture(autouse=True)
def _needs_chromium() -> None:
    if find_chromium() is None:
        skip_or_fail("headless Chromium is not installed")


def test_probe_catches_errors_and_network_attempts(tmp_path: Path) -> None:
    """The harness itself: a page with a deliberate error and a request must be caught."""
    page = tmp_path / "bad.html"
    page.write_text(
        "<!DOCTYPE html><html><head><title>bad</title></head><body><p>x</p>"
        '<img src="http://example.invalid/pixel.png">'
        "<script>console.error('deliberate console error'); undefinedFunction();</script>"
        '<script>fetch("https://example.org/probe").catch(function () {});</script>'
        "</body></html>",
        encoding="utf-8",
    )
    seen = render(page)
    assert any("undefinedFunction" in e for e in seen.errors)
    assert any("deliberate console error" in e for e in seen.console_errors)
    assert any("undefinedFunction" in line for line in seen.chromium_console)
    # each witness saw the requests: the page's own probe, and Chromium's network stack
    assert any("example.invalid" in r for r in seen.failed)  # blocked: the image failed
    assert any("example.org/probe" in r for r in seen.attempts)
    assert sorted(seen.netlog_requests) == [
        "http://example.invalid/pixel.png",
        "https://example.org/probe",
    ]


def test_demo_report_renders_offline_without_errors(demo_report: dict, artefacts: Path) -> None:
    seen = render(demo_report["html"])
    assert seen.errors == [] and seen.console_errors == [] and seen.chromium_console == []
    assert seen.network_requests == []
    assert seen.netlog_requests == []  # Chromium's network stack started no request for it
    # the map drew the border, rivers, places, areas, fences and facilities
    assert seen.map_features > 6000
    assert 'data-epoch="at"' in seen.dom
    # the before/after switch shows what stood on each date: every fence and facility
    # present then, and as many facilities as the metrics counted
    body = demo_report["html"].read_text(encoding="utf-8")
    layers = json.loads(re.search(r'id="fenceline-map-data">(.*?)</script>', body, re.S).group(1))
    with fenceline.open(demo_report["project"]) as project:
        metrics = project.metrics(at=demo_report["at"], since=demo_report["since"])
    for epoch, key in (("at", "facilities"), ("since", "facilities_since")):
        fences, facilities = (
            sum(f["properties"][epoch] == "present" for f in layers[table]["features"])
            for table in ("fences", "facilities")
        )
        assert facilities == metrics["total"][key]["total"], epoch
        assert seen.shown[epoch] == fences + facilities, epoch
    assert seen.shown["since"] < seen.shown["at"] / 10
    assert seen.charts >= 6  # timeline x2, facilities by kind, layers x2, 2 public series
    shot = screenshot(demo_report["html"], artefacts / "demo-report.png")
    assert non_blank_fraction(shot) > 0.05


def test_pdf_has_the_findings_and_the_notice_on_every_page(demo_report: dict) -> None:
    pdf = demo_report["pdf"]
    assert pdf is not None and pdf.stat().st_size > 10_000
    if shutil.which("pdftotext") is None:
        skip_or_fail("pdftotext (poppler-utils) is not installed")
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    pages = text.split("\f")
    pages = [p for p in pages if p.strip()]
    assert len(pages) >= 3
    assert all("SYNTHETIC DEMONSTRATION DATA" in p for p in pages)
    flat = " ".join(text.split())
    findings = _findings(demo_report["html"])
    assert len(findings) >= 6
    for sentence in findings:  # the PDF has the same findings, word for word
        assert sentence in flat, sentence
    assert "km of new fence" in flat and "One facility every" in flat
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "SYNTHETIC DEMONSTRATION DATA" in info  # the PDF's own metadata (Title)


def test_reports_on_incomplete_projects_render_without_errors(tmp_path: Path) -> None:
    import datetime as dt

    from fenceline.report import write_report
    from tests.report.report_fixtures import small_project

    cases = {
        "no-facilities": small_project(
            tmp_path / "a.gpkg", facilities=False, observed=["2019-01-10", "2023-01-10"]
        ),
        "nothing-before-since": small_project(
            tmp_path / "b.gpkg", facilities=True, observed=["2022-05-10"]
        ),
    }
    for name, project in cases.items():
        result = write_report(
            project, tmp_path / name, at=dt.date(2023, 6, 1), since=dt.date(2020, 1, 1)
        )
        seen = render(result.html)
        assert seen.errors == [] and seen.console_errors == [] and seen.chromium_console == [], name
        assert seen.network_requests == [], name
        assert seen.map_features >= 3, name  # at least the border, the area and the fence
        assert result.pdf is not None and result.pdf.stat().st_size > 5_000, name
        assert 'id="missing"' in result.html.read_text(encoding="utf-8"), name
