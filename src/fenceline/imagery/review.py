"""The review queue: analysts accept or reject change-detection candidates.

Accepting a candidate turns it into a feature whose dates come from the two images: a new
structure becomes a facility (its centroid) observed *absent* on the before image's date and
*present* on the after image's; a new linear feature becomes a fence the same way; a removed
structure or line is observed *present* then *removed*. Every decision is recorded in the
audit. Candidates can be exported to a GeoPackage or GeoJSON for review in QGIS (fill the
``decision`` column with ``accept`` or ``reject``) and the decisions read back.

>>> import tempfile, os, fenceline
>>> from fenceline.imagery.synthetic import make_pair
>>> from fenceline.imagery.catalog import add_image
>>> from fenceline.imagery.pipeline import detect_changes
>>> tmp = tempfile.mkdtemp()
>>> pair = make_pair(tmp, size=512, seed=2, nuisance="none")
>>> project = fenceline.create(os.path.join(tmp, "p.gpkg"))
>>> _ = add_image(project.store, pair.before, acquired=pair.before_date, image_id="b")
>>> _ = add_image(project.store, pair.after, acquired=pair.after_date, image_id="a")
>>> _ = detect_changes(project.store, "b", "a", workers=1)
>>> counts = accept(project.store, min_score=0.9, analyst="doc")
>>> counts["accepted"] == len(project.facilities) + len(project.fences)
True
>>> project.close()
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import geopandas as gpd
import pandas as pd

from fenceline.errors import InputError, ParameterError
from fenceline.store import AuditEntry, Store
from fenceline.vocab import FACILITY_KINDS, FENCE_KINDS, FENCE_LAYERS

__all__ = ["accept", "export_candidates", "import_decisions", "list_candidates", "reject"]

DECISIONS = {
    "accept": "accepted",
    "accepted": "accepted",
    "reject": "rejected",
    "rejected": "rejected",
}


def list_candidates(
    store: Store,
    *,
    status: str | None = "pending",
    min_score: float | None = None,
    max_score: float | None = None,
    kind: str | None = None,
) -> gpd.GeoDataFrame:
    """Candidates in the queue, best score first."""
    frame = store.read_candidates()
    if status is not None:
        frame = frame[frame["status"] == status]
    if min_score is not None:
        frame = frame[frame["score"] >= min_score]
    if max_score is not None:
        frame = frame[frame["score"] <= max_score]
    if kind is not None:
        frame = frame[frame["kind"] == kind]
    return frame.sort_values(["score", "id"], ascending=[False, True])


def _select(
    store: Store, ids: list[str] | None, min_score: float | None, max_score: float | None
) -> gpd.GeoDataFrame:
    queue = store.read_candidates()
    if ids:
        unknown = sorted(set(ids) - set(queue["id"]))
        if unknown:
            raise ParameterError("ID", f"no such candidate: {', '.join(unknown[:5])}")
        chosen = queue[queue["id"].isin(ids)]
    elif min_score is None and max_score is None:
        raise ParameterError("ID", "name candidates, or select them with --min-score/--max-score")
    else:
        chosen = queue
    if min_score is not None:
        chosen = chosen[chosen["score"] >= min_score]
    if max_score is not None:
        chosen = chosen[chosen["score"] <= max_score]
    return chosen[chosen["status"] == "pending"]


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _apply(
    store: Store,
    accepted: gpd.GeoDataFrame,
    rejected: gpd.GeoDataFrame,
    *,
    analyst: str,
    action: str,
    facility_kind: str,
    fence_kind: str,
    fence_layer: str,
    source: str | None = None,
) -> dict[str, int]:
    if facility_kind not in FACILITY_KINDS:
        raise ParameterError("--facility-kind", f"must be one of {', '.join(FACILITY_KINDS)}")
    if fence_kind not in FENCE_KINDS:
        raise ParameterError("--fence-kind", f"must be one of {', '.join(FENCE_KINDS)}")
    if fence_layer not in FENCE_LAYERS:
        raise ParameterError("--fence-layer", f"must be one of {', '.join(FENCE_LAYERS)}")
    images = store.read_images().set_index("id")
    facilities, fences, observations, decisions = [], [], [], []
    now = _now()
    for _, c in accepted.iterrows():
        feature_id = f"det-{c['id']}"
        structure = c["kind"].endswith("structure")
        if structure:
            facilities.append(
                {"id": feature_id, "kind": facility_kind, "geometry": c.geometry.centroid}
            )
        else:
            fences.append(
                {"id": feature_id, "layer": fence_layer, "kind": fence_kind, "geometry": c.geometry}
            )
        new = c["kind"].startswith("new")
        note = f"change-detection candidate {c['id']} (score {c['score']:.2f})"
        for image_id, state in (
            (c["before_image"], "absent" if new else "present"),
            (c["after_image"], "present" if new else "removed"),
        ):
            if image_id not in images.index:
                raise ParameterError("ID", f"candidate {c['id']}: image {image_id!r} is gone")
            observations.append(
                {
                    "feature_id": feature_id,
                    "image_id": image_id,
                    "observed": str(images.loc[image_id, "acquired"])[:10],
                    "state": state,
                    "analyst": analyst,
                    "note": note,
                }
            )
        decisions.append(
            {
                "id": c["id"],
                "status": "accepted",
                "decided_by": analyst,
                "decided_at": now,
                "feature_id": feature_id,
            }
        )
    for cid in rejected["id"]:
        decisions.append(
            {
                "id": cid,
                "status": "rejected",
                "decided_by": analyst,
                "decided_at": now,
                "feature_id": None,
            }
        )
    counts = {"accepted": len(accepted), "rejected": len(rejected)}
    if not decisions:
        return counts
    entry = AuditEntry(
        analyst=analyst,
        action=action,
        source=source,
        detail={"accepted": list(accepted["id"]), "rejected": list(rejected["id"])},
    )
    with store.transaction(entry) as tx:
        if facilities:
            tx.upsert_features("facilities", gpd.GeoDataFrame(facilities, crs="EPSG:4326"))
        if fences:
            tx.upsert_features("fences", gpd.GeoDataFrame(fences, crs="EPSG:4326"))
        if observations:
            tx.add_observations(pd.DataFrame(observations))
        tx.decide_candidates(pd.DataFrame(decisions))
    return counts


def accept(
    store: Store,
    ids: list[str] | None = None,
    *,
    min_score: float | None = None,
    max_score: float | None = None,
    facility_kind: str = "guard_post",
    fence_kind: str = "fence",
    fence_layer: str = "other",
    analyst: str = "unknown",
) -> dict[str, int]:
    """Accept pending candidates (by id, or in bulk by score) into features and observations."""
    chosen = _select(store, ids, min_score, max_score)
    return _apply(
        store,
        chosen,
        chosen.iloc[0:0],
        analyst=analyst,
        action="review.accept",
        facility_kind=facility_kind,
        fence_kind=fence_kind,
        fence_layer=fence_layer,
    )


def reject(
    store: Store,
    ids: list[str] | None = None,
    *,
    min_score: float | None = None,
    max_score: float | None = None,
    analyst: str = "unknown",
) -> dict[str, int]:
    """Reject pending candidates (by id, or in bulk by score)."""
    chosen = _select(store, ids, min_score, max_score)
    return _apply(
        store,
        chosen.iloc[0:0],
        chosen,
        analyst=analyst,
        action="review.reject",
        facility_kind="guard_post",
        fence_kind="fence",
        fence_layer="other",
    )


def export_candidates(
    store: Store, out: str | os.PathLike[str], *, status: str | None = "pending"
) -> int:
    """Write candidates to a GeoPackage (``.gpkg``) or GeoJSON for review in QGIS.

    The file gets an empty ``decision`` column: fill it with ``accept`` or ``reject`` and read
    it back with :func:`import_decisions`.
    """
    out = Path(out)
    if out.suffix.lower() not in (".gpkg", ".geojson", ".json"):
        raise ParameterError("OUT", "write candidates to a .gpkg or .geojson file")
    frame = list_candidates(store, status=status)
    frame = frame.drop(columns=["fid"], errors="ignore").copy()
    frame["decision"] = ""
    if out.exists():
        out.unlink()
    if out.suffix.lower() == ".gpkg":
        # GeoPackage layers hold one geometry type: polygons and lines go to two layers
        for layer, mask in (
            ("structures", frame.geom_type.str.endswith("Polygon")),
            ("linear", ~frame.geom_type.str.endswith("Polygon")),
        ):
            frame[mask].to_file(out, layer=layer, driver="GPKG", engine="pyogrio")
    else:
        frame.to_file(out, driver="GeoJSON", engine="pyogrio")
    return len(frame)


def import_decisions(
    store: Store,
    path: str | os.PathLike[str],
    *,
    analyst: str = "unknown",
    facility_kind: str = "guard_post",
    fence_kind: str = "fence",
    fence_layer: str = "other",
) -> dict[str, int]:
    """Apply the ``decision`` column of a file made by :func:`export_candidates` (all or nothing)."""
    import pyogrio

    path = Path(path)
    if not path.is_file():
        raise InputError(str(path), "no such file")
    try:
        layers = [name for name, _ in pyogrio.list_layers(path)]
        frames = [
            pyogrio.read_dataframe(path, layer=layer, read_geometry=False) for layer in layers
        ]
    except Exception as exc:
        raise InputError(str(path), f"cannot be read ({exc})") from None
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    for column in ("id", "decision"):
        if column not in table:
            raise InputError(str(path), "missing column", field=column)
    queue = store.read_candidates().set_index("id", drop=False)
    accepted_ids, rejected_ids = [], []
    for i, row in table.iterrows():
        raw = row["decision"]
        decision = "" if raw is None or (isinstance(raw, float) and pd.isna(raw)) else str(raw)
        decision = decision.strip().lower()
        if not decision:
            continue
        if decision not in DECISIONS:
            raise InputError(
                str(path), f"decision {raw!r} is not accept or reject", feature=i, field="decision"
            )
        if row["id"] not in queue.index:
            raise InputError(
                str(path), f"no candidate {row['id']!r} in the project", feature=i, field="id"
            )
        if queue.loc[row["id"], "status"] != "pending":
            continue
        (accepted_ids if DECISIONS[decision] == "accepted" else rejected_ids).append(row["id"])
    candidates = store.read_candidates()
    return _apply(
        store,
        candidates[candidates["id"].isin(accepted_ids)],
        candidates[candidates["id"].isin(rejected_ids)],
        analyst=analyst,
        action="review.import_decisions",
        source=str(path),
        facility_kind=facility_kind,
        fence_kind=fence_kind,
        fence_layer=fence_layer,
    )
