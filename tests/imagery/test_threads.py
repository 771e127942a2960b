"""Co-registration leaves no thread busy behind it (a core taken from the tiles after it)."""

from __future__ import annotations

import json
import subprocess
import sys

# in a fresh interpreter: a process that forked (as another test does) restarts OpenBLAS's
# threads on their next use, and new threads spin too, whatever the code under test does
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
    before = busy(0.2)
    shifts = [phase_correlation(reference, moving) for _ in range(3)]
    after = busy(0.2)
    np.ones((400, 400)) @ np.ones((400, 400))  # on 2 threads: the other one spins after it
    spun = busy(0.2)
print(json.dumps({"before": before, "after": after, "spun": spun, "shifts": shifts}))
"""


def test_phase_correlation_leaves_no_blas_thread_spinning() -> None:
    # OpenBLAS's threads spin for about 0.1 s after a product on several threads: after the
    # plan's sub-pixel searches they took one of 2 CPUs from the tiles that followed
    out = subprocess.run(
        [sys.executable, "-c", _CHILD], capture_output=True, text=True, check=True, timeout=120
    )
    found = json.loads(out.stdout)
    assert found["shifts"] == [[-3.0, 2.0]] * 3
    assert found["before"] < 0.05
    assert found["after"] < 0.05  # the searches' products left no thread spinning
    assert found["spun"] > 0.05  # what a product on several threads leaves (the probe works)
