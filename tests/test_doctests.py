"""Run the docstring examples of every fenceline module that has them.

Modules are found by walking the package, so a new module's examples run without anyone
remembering to list it here.
"""

from __future__ import annotations

import doctest
import importlib
import importlib.util
import pkgutil

import pytest

import fenceline


def _modules_with_examples() -> list[str]:
    names = ["fenceline"]
    for info in pkgutil.walk_packages(fenceline.__path__, prefix="fenceline."):
        if ".cli" in info.name or info.name.endswith("__main__"):
            continue
        names.append(info.name)
    found = []
    for name in sorted(names):
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
            continue
        with open(spec.origin, encoding="utf-8") as handle:
            if ">>>" in handle.read():
                found.append(name)
    return found


MODULES = _modules_with_examples()


def test_examples_are_found() -> None:
    for expected in ("fenceline.temporal", "fenceline.metrics.timeline", "fenceline.report.build"):
        assert expected in MODULES


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0
