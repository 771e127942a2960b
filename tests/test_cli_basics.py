from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def fenceline(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fenceline", *args], cwd=cwd, capture_output=True, text=True
    )


def test_init_then_init_again_is_a_clear_error(tmp_path: Path) -> None:
    first = fenceline("init", "p.gpkg", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    again = fenceline("init", "p.gpkg", cwd=tmp_path)
    assert again.returncode == 2
    assert again.stderr.strip().count("\n") == 0
    assert "already exists" in again.stderr
    assert "Traceback" not in again.stderr


def test_help_and_version(tmp_path: Path) -> None:
    out = fenceline("--help", cwd=tmp_path)
    assert out.returncode == 0 and "init" in out.stdout
    assert fenceline("--version", cwd=tmp_path).stdout.startswith("fenceline ")
