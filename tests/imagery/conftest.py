from __future__ import annotations

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
