"""The report in real headless Chromium, network blocked: no errors, map and charts drawn."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from fenceline.report.chromium import find_chromium
from tests.conftest import skip_or_fail
from tests.report.report_browser import non_blank_fraction, render, screenshot

pytestmark = pytest.mark.browser


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
        "</body></html>",
        encoding="utf-8",
    )
    seen = render(page)
    assert any("undefinedFunction" in e for e in seen.errors)
    assert any("deliberate console error" in e for e in seen.console_errors)
    assert any("undefinedFunction" in line for line in seen.chromium_console)
    assert any("example.invalid" in r for r in seen.network_requests)


def test_demo_report_renders_offline_without_errors(demo_report: dict, artefacts: Path) -> None:
    seen = render(demo_report["html"])
    assert seen.errors == [] and seen.console_errors == [] and seen.chromium_console == []
    assert seen.network_requests == []
    # the map drew the border, rivers, places, areas, fences and facilities
    assert seen.map_features > 6000
    assert 'data-epoch="at"' in seen.dom
    assert seen.charts >= 5  # timeline x2, facilities by kind, layer profile, 2 public series
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
    assert "km of new fence" in flat and "One facility every" in flat
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "SYNTHETIC DEMONSTRATION DATA" in info  # the PDF's own metadata (Title)
