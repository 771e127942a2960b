"""docs/metrics.md's worked example shows numbers the code produces."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from fenceline.metrics import compute_metrics
from tests.metrics.common import hoeryong

DOC = Path(__file__).resolve().parents[2] / "docs" / "metrics.md"


def test_worked_example_matches_the_code() -> None:
    text = DOC.read_text(encoding="utf-8")
    match = re.search(r"<!-- worked-example -->\s*```json\n(.*?)```", text, re.S)
    assert match, "docs/metrics.md lost its worked example"
    shown = json.loads(match.group(1))
    area = compute_metrics(hoeryong(), "2022-04-30", "2019-12-31")["areas"][0]
    assert len(shown) >= 15
    for key, value in shown.items():
        if isinstance(value, float):
            assert area[key] == pytest.approx(value, abs=1e-6), key
        else:
            assert area[key] == value, key
