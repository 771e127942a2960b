"""Co-registration leaves no thread busy behind it (a core taken from the tiles after it)."""

from __future__ import annotations

import json
import subprocess
import sys

# in a fresh interpreter: a process that forked (as another test does) restarts OpenBLAS's
# threads on their next use, and new threads spin too, whatever the code under test does.
# The child sets 2 BLAS threads itself: libraries other tests load (Dask's) set
# OPENBLAS_NUM_THREADS=1 in this process's environment, which the child inherits
_CHILD = """
import json, time
import numpy as np
from threadpoolctl import ThreadpoolController
from fenceline.imagery.coregister import phase_correlation

def busy(seconds):  # CPU seconds this process spends while its one running thread sleeps
    start = time.process_time()
    time.sleep(seconds)
    return time.process_time() - start

rng = np.random.default_rng(0)
reference = rng.normal(size=(256, 256)).astype(np.float32)
moving = np.roll(reference, (3, -2), axis=(0, 1))
# BLAS on 2 threads, as numpy's OpenBLAS starts on a 2-CPU machine (and so on any machine)
with ThreadpoolController().limit(limits=2, user_api="blas"):
    # a thread OpenBLAS has just started spins too: first wait until nothing does
    settled = [busy(0.2) for _ in range(3)]
    while settled[-1] >= 0.01 and len(settled) < 25:
        settled.append(busy(0.2))
    before = settled[-1]
    shifts = [phase_correlation(reference, moving) for _ in range(3)]
    after = busy(0.2)
    np.ones((400, 400)) @ np.ones((400, 400))  # on 2 threads: the other one spins after it
    spun = busy(0.2)
print(json.dumps({"settled": settled, "before": before, "after": after, "spun": spun,
                  "shifts": shifts}))
"""


def test_phase_correlation_leaves_no_blas_thread_spinning() -> None:
    # OpenBLAS's threads spin for about 0.1 s after a product on several threads: after the
    # plan's sub-pixel searches they took one of 2 CPUs from the tiles that followed
    out = subprocess.run(
        [sys.executable, "-c", _CHILD], capture_output=True, text=True, check=True, timeout=120
    )
    found = json.loads(out.stdout)
    assert found["shifts"] == [[-3.0, 2.0]] * 3
    # idle is ~0.0001 s; a spinning thread takes 0.1 s alone, ~0.04 s beside other tests
    assert found["before"] < 0.01, f"the process never went idle: {found['settled']}"
    assert found["after"] < 0.01  # the searches' products left no thread spinning
    assert found["spun"] > 0.02  # what a product on several threads leaves (the probe works)
