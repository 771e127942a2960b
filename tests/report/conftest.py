from __future__ import annotations

from pathlib import Path

import pytest

from fenceline.demo import DEMO_AT, DEMO_SINCE, build_demo
from fenceline.report.chromium import find_chromium


@pytest.fixture(scope="session")
def demo_report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The demo project and its report (HTML, and PDF where Chromium is installed), built once."""
    from fenceline.report import write_report

    out = tmp_path_factory.mktemp("demo")
    project = build_demo(out / "demo.gpkg")
    result = write_report(
        project, out, at=DEMO_AT, since=DEMO_SINCE, pdf=find_chromium() is not None
    )
    return {
        "project": project,
        "html": result.html,
        "pdf": result.pdf,
        "out": out,
        "at": DEMO_AT,
        "since": DEMO_SINCE,
    }


@pytest.fixture
def artefacts() -> Path:
    """Where tests leave screenshots for a person to look at (FENCELINE_TEST_ARTEFACTS)."""
    import os
    import tempfile

    directory = Path(
        os.environ.get("FENCELINE_TEST_ARTEFACTS") or tempfile.mkdtemp(prefix="fenceline-shots-")
    )
    directory.mkdir(parents=True, exist_ok=True)
    return directory
