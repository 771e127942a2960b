"""Helpers of the testimony tests (fixtures are in conftest.py)."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fenceline.testimony import Vault

PASSPHRASE = "correct horse battery staple"


def profile(**overrides: Any) -> dict[str, Any]:
    base = {
        "age": 34,
        "sex": "female",
        "province": "Ryanggang",
        "occupation": "trader",
        "year_departed": 2018,
        "contact_before_2020": "regular",
        "contact_after_2020": "none",
    }
    base.update(overrides)
    return base


INTERVIEW = {"id": "", "date": "2023-05-01", "language": "ko", "interviewer": "team A"}


def add_witnesses(
    vault: Vault,
    n: int,
    text: str = "We could still buy rice at the market.",
    period: str = "2018",
    **overrides: Any,
) -> list[tuple[str, str]]:
    """n identical witnesses, each with one excerpt: [(witness id, excerpt id)]."""
    out = []
    for _ in range(n):
        witness_id = vault.add_witness(profile(**overrides))
        excerpt_id = vault.add_excerpt(
            witness_id, {"text": text, "topics": ["food"], "period": period}
        )
        out.append((witness_id, excerpt_id))
    return out


def db_digest(path: Path) -> str:
    """A digest of every table's content (what 'nothing changed' means)."""
    db = sqlite3.connect(path)
    try:
        return hashlib.sha256("\n".join(db.iterdump()).encode()).hexdigest()
    finally:
        db.close()


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run the CLI in this process (fast: kiwipiepy loads once); (exit code, stdout, stderr)."""
    from fenceline.cli.main import run

    code: int | None = 0
    try:
        run(args)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    captured = capsys.readouterr()
    return int(code or 0), captured.out, captured.err


RunCli = Callable[[list[str]], tuple[int, str, str]]
