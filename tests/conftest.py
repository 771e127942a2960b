from __future__ import annotations

import os

import pytest


@pytest.fixture(autouse=True)
def _analyst(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FENCELINE_ANALYST", "test-analyst")


IN_CI = os.environ.get("CI") == "true"


def skip_or_fail(reason: str) -> None:
    """Skip on a laptop without a server or browser; fail when CI=true."""
    if IN_CI:
        pytest.fail(f"CI=true and {reason}")
    pytest.skip(reason)
