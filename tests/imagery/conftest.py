from __future__ import annotations

import sys
from pathlib import Path

import pytest

import fenceline
from fenceline.imagery.catalog import add_image
from fenceline.imagery.synthetic import SyntheticPair, make_pair


@pytest.fixture(scope="session")
def pair(tmp_path_factory: pytest.TempPathFactory) -> SyntheticPair:
    """A small SYNTHETIC pair with every nuisance (cloud, season, illumination, shift)."""
    return make_pair(tmp_path_factory.mktemp("scene"), size=768, seed=5, nuisance="all")


@pytest.fixture
def project(tmp_path: Path, pair: SyntheticPair) -> fenceline.Project:
    p = fenceline.create(tmp_path / "p.gpkg")
    add_image(p.store, pair.before, acquired=pair.before_date, image_id="before")
    add_image(p.store, pair.after, acquired=pair.after_date, image_id="after")
    yield p
    p.close()


def detect_command(project: Path, *extra: object) -> list[str]:
    """`fenceline detect` of the ``project`` fixture's pair, as a subprocess argument list."""
    base = [sys.executable, "-m", "fenceline", "detect", str(project)]
    return [*base, "--before", "before", "--after", "after", *map(str, extra)]
