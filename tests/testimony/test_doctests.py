"""Run the docstring examples of the testimony modules."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["keys", "vocab", "records", "scan", "disclosure", "auditlog", "vault", "published"]


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name: str) -> None:
    module = importlib.import_module(f"fenceline.testimony.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
