"""Benchmark the testimony vault: key derivation, adding records, the disclosure check.

SYNTHETIC: the witnesses are random profiles and the excerpt texts are generated filler.

    PYTHONPATH=$PWD/src python benchmarks/testimony_vault.py [--witnesses 150] [--runs 3]

Prints medians of several runs: opening the vault with the production scrypt cost, adding a
witness (profile, one interview, two excerpts, each an audited transaction), and the
disclosure check over one excerpt per witness against the reference population.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

import fenceline
from fenceline.testimony import KeySource, Vault, vocab


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--witnesses", type=int, default=150)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    os.environ.pop("FENCELINE_SCRYPT_N", None)  # production cost
    rng = random.Random(20240820)
    key = KeySource("passphrase", b"benchmark passphrase (SYNTHETIC)")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.gpkg"
        fenceline.create(path).close()
        Vault.init(path, key, analyst="bench").close()
        opens = []
        for _ in range(args.runs):
            start = time.perf_counter()
            Vault.open(path, key, analyst="bench").close()
            opens.append(time.perf_counter() - start)
        excerpts = []
        with Vault.open(path, key, analyst="bench") as vault:
            start = time.perf_counter()
            for _ in range(args.witnesses):
                witness = vault.add_witness(
                    {
                        "age": rng.randint(18, 70),
                        "sex": rng.choice(["female"] * 4 + ["male"]),
                        "province": rng.choice(
                            ["North Hamgyong"] * 6
                            + ["Ryanggang"] * 2
                            + ["Chagang", "South Hamgyong"]
                        ),
                        "occupation": rng.choice(
                            ["trader", "farmer", "factory_worker", "homemaker"]
                        ),
                        "year_departed": rng.randint(2010, 2023),
                        "contact_before_2020": rng.choice(vocab.CONTACT_LEVELS),
                        "contact_after_2020": rng.choice(vocab.CONTACT_LEVELS),
                    },
                    [{"date": "2023-05-01", "language": "ko", "interviewer": "SYNTHETIC"}],
                )
                for topic in ("food", "movement"):
                    excerpts.append(
                        vault.add_excerpt(
                            witness,
                            {
                                "text": "SYNTHETIC 시장에서 쌀을 살 수 있었지만 값이 계속 올랐다.",
                                "topics": [topic],
                                "period": "2015",
                            },
                        )
                    )
            add_seconds = (time.perf_counter() - start) / args.witnesses
            chosen = excerpts[::2]
            vault.check(chosen[:1])  # warm up the morphological analyser
            checks = []
            for _ in range(args.runs):
                start = time.perf_counter()
                report = vault.check(chosen, k=5)
                checks.append(time.perf_counter() - start)
    print("SYNTHETIC witnesses and texts")
    print(f"open vault (scrypt n=2**17, r=8)   median {statistics.median(opens):.3f} s")
    print(f"add one witness (1 interview, 2 excerpts)  {add_seconds * 1000:.1f} ms")
    print(
        f"disclosure check, {len(chosen)} excerpts of {args.witnesses} witnesses, with "
        f"reference population: median {statistics.median(checks):.3f} s "
        f"(passed={report.passed}, suppressed={len(report.suppressed)}, levels={report.levels})"
    )


if __name__ == "__main__":
    main()
