"""Run the docstring examples of the imagery modules."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "catalog",
    "cog",
    "coregister",
    "detect",
    "linear",
    "pipeline",
    "radiometry",
    "review",
    "scheduler",
    "synthetic",
    "tiles",
]


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name: str) -> None:
    module = importlib.import_module(f"fenceline.imagery.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
