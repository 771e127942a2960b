"""A process killed in the middle of an import leaves the project exactly as it was, and valid."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyogrio

import fenceline


def write_points_csv(path: Path, n: int) -> None:
    rng = np.random.default_rng(7)
    lon = rng.uniform(124.5, 130.5, n)
    lat = rng.uniform(40.0, 42.9, n)
    with open(path, "w") as fh:
        fh.write("id,kind,lon,lat,first_seen\n")
        for i in range(n):
            fh.write(f"p{i},guard_post,{lon[i]:.7f},{lat[i]:.7f},2022-04-{1 + i % 28:02d}\n")


def test_kill_mid_import_leaves_project_unchanged(tmp_path: Path) -> None:
    project = tmp_path / "p.gpkg"
    fenceline.create(project).close()
    with fenceline.open(project) as p:
        before = list(p.store.dump())
    source = tmp_path / "posts.csv"
    write_points_csv(source, 300_000)
    wal = Path(f"{project}-wal")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "fenceline",
            "import",
            str(project),
            str(source),
            "--as",
            "facilities",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    killed = False
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        # the transaction has started writing pages (uncommitted) to the WAL
        if wal.exists() and wal.stat().st_size > 4 * 1024 * 1024:
            os.kill(process.pid, signal.SIGKILL)
            killed = True
            break
        time.sleep(0.005)
    process.wait(timeout=30)
    assert killed, "the import finished before it could be killed; make the file larger"
    assert process.returncode == -signal.SIGKILL

    db = sqlite3.connect(project)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()
    with fenceline.open(project) as p:
        assert list(p.store.dump()) == before
        assert len(p.facilities) == 0
        assert list(p.audit["action"]) == ["init"]
    # GDAL still opens it and sees every layer
    assert {"fences", "facilities", "border"} <= {name for name, _ in pyogrio.list_layers(project)}
