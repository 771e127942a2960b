"""Detection quality on SYNTHETIC scenes: recall and precision against ground truth.

For each nuisance type (none, season, illumination, cloud, misregistration, all) and a few
seeds, a SYNTHETIC before/after pair is generated, registered in a fresh project, and run
through ``detect_changes`` exactly as ``fenceline detect`` runs it. Candidates are matched to
the ground truth:

- a structure is found when a structure candidate of the same kind (new/removed) overlaps it
  within 2 m; structure precision is the share of structure candidates that overlap a true
  (new or removed) structure;
- linear features: length recall is the share of true fence and patrol-strip length within
  5 m of a linear candidate; length precision the share of candidate length within 5 m of a
  true linear feature.

Targets (issue 5): recall >= 0.9 for new structures of 4 m and more at 0.5 m GSD, precision
>= 0.7, length recall >= 0.8 for new linear features within 5 m.

    PYTHONPATH=src python benchmarks/detect_quality.py [--size 1024] [--seeds 3] [--workers 1]
"""

from __future__ import annotations

import argparse
import os
import tempfile
from collections import defaultdict

import numpy as np
import shapely

import fenceline
from fenceline.imagery.catalog import add_image
from fenceline.imagery.pipeline import detect_changes
from fenceline.imagery.synthetic import NUISANCES, make_pair


def evaluate(size: int, seed: int, nuisance: str, workers: int, tmp: str) -> dict:
    pair = make_pair(tmp, size=size, seed=seed, nuisance=nuisance, name=f"{nuisance}{seed}")
    path = os.path.join(tmp, f"{nuisance}{seed}.gpkg")
    with fenceline.create(path) as project:
        add_image(project.store, pair.before, acquired=pair.before_date, image_id="before")
        add_image(project.store, pair.after, acquired=pair.after_date, image_id="after")
        detect_changes(project.store, "before", "after", workers=workers)
        candidates = project.store.read_candidates().to_crs(pair.truth.crs)
    truth = pair.truth
    structures = truth[truth["kind"].isin(["new_structure", "removed_structure"])]
    lines = truth[truth["kind"].isin(["new_fence", "new_patrol_strip"])]
    cand_struct = candidates[candidates["kind"].isin(["new_structure", "removed_structure"])]
    cand_lines = candidates[candidates["kind"].isin(["new_linear", "removed_linear"])]
    out: dict = {"found": [], "struct_tp": 0, "struct_n": len(cand_struct)}
    for _, row in structures.iterrows():
        same = cand_struct[cand_struct["kind"] == row["kind"]]
        hit = bool(len(same)) and bool(
            shapely.intersects(same.geometry.values, row.geometry.buffer(2.0)).any()
        )
        out["found"].append((row["kind"], round(row["size_m"]), hit))
    if len(cand_struct):
        truth_zone = shapely.unary_union(structures.geometry.buffer(2.0).values)
        out["struct_tp"] = int(shapely.intersects(cand_struct.geometry.values, truth_zone).sum())
    truth_lines = shapely.unary_union(lines.geometry.values)
    cand_union = shapely.unary_union(cand_lines.geometry.values) if len(cand_lines) else None
    out["line_len"] = truth_lines.length
    out["line_found"] = (
        truth_lines.intersection(cand_union.buffer(5.0)).length if cand_union is not None else 0.0
    )
    out["cand_len"] = cand_union.length if cand_union is not None else 0.0
    out["cand_ok"] = (
        cand_union.intersection(truth_lines.buffer(5.0)).length if cand_union is not None else 0.0
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    print(f"SYNTHETIC scenes {args.size}x{args.size} px at 0.5 m, seeds 0..{args.seeds - 1}")
    by_size: dict[int, list[bool]] = defaultdict(list)
    rows = []
    totals = defaultdict(float)
    with tempfile.TemporaryDirectory() as tmp:
        for nuisance in NUISANCES:
            agg = defaultdict(float)
            found_n = defaultdict(list)
            for seed in range(args.seeds):
                r = evaluate(args.size, seed, nuisance, args.workers, tmp)
                for kind, size_m, hit in r["found"]:
                    if kind == "new_structure":
                        by_size[size_m].append(hit)
                        found_n["ge4" if size_m >= 4 else "lt4"].append(hit)
                    else:
                        found_n["removed"].append(hit)
                for key in (
                    "struct_tp",
                    "struct_n",
                    "line_len",
                    "line_found",
                    "cand_len",
                    "cand_ok",
                ):
                    agg[key] += r[key]
                    totals[key] += r[key]
            for key, hits in found_n.items():
                totals[f"{key}_hit"] += sum(hits)
                totals[f"{key}_n"] += len(hits)
            rows.append(
                (
                    nuisance,
                    np.mean(found_n["ge4"]) if found_n["ge4"] else float("nan"),
                    np.mean(found_n["lt4"]) if found_n["lt4"] else float("nan"),
                    np.mean(found_n["removed"]) if found_n["removed"] else float("nan"),
                    agg["struct_tp"] / agg["struct_n"] if agg["struct_n"] else float("nan"),
                    agg["line_found"] / agg["line_len"] if agg["line_len"] else float("nan"),
                    agg["cand_ok"] / agg["cand_len"] if agg["cand_len"] else float("nan"),
                )
            )
    print("\nby nuisance type")
    print(
        f"{'nuisance':16}{'recall>=4m':>11}{'recall 3m':>10}{'removed':>9}"
        f"{'precision':>10}{'len recall':>11}{'len prec':>9}"
    )
    for row in rows:
        print(
            f"{row[0]:16}"
            + "".join(f"{v:>{w}.2f}" for v, w in zip(row[1:], (11, 10, 9, 10, 11, 9), strict=True))
        )
    print("\nnew structures by size (all nuisance types)")
    for size_m in sorted(by_size):
        hits = by_size[size_m]
        print(f"  {size_m} m: recall {np.mean(hits):.2f} ({sum(hits)}/{len(hits)})")
    recall4 = totals["ge4_hit"] / totals["ge4_n"]
    precision = totals["struct_tp"] / totals["struct_n"] if totals["struct_n"] else float("nan")
    len_recall = totals["line_found"] / totals["line_len"]
    len_precision = totals["cand_ok"] / totals["cand_len"] if totals["cand_len"] else float("nan")
    print("\noverall")
    print(
        f"  recall, new structures >= 4 m: {recall4:.3f}  (target >= 0.9: "
        f"{'met' if recall4 >= 0.9 else 'MISSED'})"
    )
    print(
        f"  precision, structure candidates: {precision:.3f}  (target >= 0.7: "
        f"{'met' if precision >= 0.7 else 'MISSED'})"
    )
    print(
        f"  length recall, new linear features within 5 m: {len_recall:.3f}  (target >= 0.8: "
        f"{'met' if len_recall >= 0.8 else 'MISSED'})"
    )
    print(f"  length precision, linear candidates within 5 m: {len_precision:.3f}")


if __name__ == "__main__":
    main()
