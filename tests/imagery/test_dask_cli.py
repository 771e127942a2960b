"""`fenceline detect --scheduler ADDRESS` against a Dask cluster started the way a user starts
one: `dask scheduler` and `dask worker` as separate processes on loopback."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import fenceline
from tests.imagery.conftest import detect_command

pytest.importorskip("distributed")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _dask() -> list[str]:
    exe = shutil.which("dask", path=os.path.dirname(sys.executable))
    return [exe] if exe else [sys.executable, "-m", "dask"]


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    log = open(tmp_path / "dask.log", "w")  # noqa: SIM115 - closed below
    procs = [
        subprocess.Popen(
            [*_dask(), "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
    ]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.2)
    procs.append(
        subprocess.Popen(
            [
                *_dask(),
                "worker",
                address,
                "--nworkers",
                "1",
                "--nthreads",
                "1",
                "--no-dashboard",
                "--host",
                "127.0.0.1",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
    )
    try:
        from distributed import Client

        with Client(address, timeout=60) as client:
            client.wait_for_workers(1, timeout=60)
        yield address
    finally:
        for p in reversed(procs):
            p.kill()  # throwaway processes: nothing of theirs needs a graceful close
        for p in procs:
            p.wait(timeout=20)
        log.close()


def test_detect_on_a_dask_cluster_from_the_command_line(
    cluster: str, project: fenceline.Project
) -> None:
    path = project.path
    with fenceline.open(path) as p:
        before = p.store.read_candidates()
    assert len(before) == 0
    args = detect_command(path, "--tile-size", 384, "--scheduler", cluster)
    done = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    with fenceline.open(path) as p:
        cands = p.store.read_candidates()
    assert len(cands) > 0
    # run again on the cluster: every tile is done, nothing is duplicated
    again = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert "(4 done earlier), 0 new candidate(s)" in again.stdout
    with fenceline.open(path) as p:
        assert sorted(p.store.read_candidates()["id"]) == sorted(cands["id"])
