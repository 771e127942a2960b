"""Run the docstring examples of the report and demo modules."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "fenceline.report",
    "fenceline.report.build",
    "fenceline.report.charts",
    "fenceline.report.chromium",
    "fenceline.report.mapdata",
    "fenceline.demo.plan",
    "fenceline.demo.chain",
    "fenceline.demo.build",
    "fenceline.demo.generate",
]


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
