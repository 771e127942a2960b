"""Fixtures of the testimony tests: a project, a cheap key, a vault."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from testimony_helpers import PASSPHRASE

import fenceline
from fenceline.testimony import KeySource, Vault


@pytest.fixture(autouse=True)
def _cheap_scrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    # production uses n = 2**17; tests use a cheap cost (stored with the salt in the project)
    monkeypatch.setenv("FENCELINE_SCRYPT_N", "1024")
    monkeypatch.delenv("FENCELINE_PASSPHRASE", raising=False)


@pytest.fixture
def key() -> KeySource:
    return KeySource("passphrase", PASSPHRASE.encode())


@pytest.fixture
def project(tmp_path: Path) -> Path:
    path = tmp_path / "project" / "p.gpkg"
    path.parent.mkdir()
    fenceline.create(path).close()
    return path


@pytest.fixture
def vault(project: Path, key: KeySource) -> Iterator[Vault]:
    v = Vault.init(project, key, analyst="alice")
    yield v
    v.close()
