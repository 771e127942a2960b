"""A tiny project for reports on incomplete data."""

from __future__ import annotations

from pathlib import Path


def small_project(
    path: Path, *, facilities: bool, observed: list[str], undated: bool = False
) -> Path:
    """A tiny project on the bundled border: one fence (and optionally one facility).

    ``undated`` adds a second facility that no observation dates.
    """
    import geopandas as gpd
    import pandas as pd
    import shapely

    import fenceline
    from fenceline.store import AuditEntry

    with fenceline.create(path, analyst="test") as project:
        line = project.border.geometry.iloc[0]
        start = line.interpolate(0.30, normalized=True)
        end = line.interpolate(0.302, normalized=True)
        # about 300 m to the left of the line's direction: North Korea's side (the bundled
        # line has it on its left), inside the 3 km corridor
        dx, dy = end.x - start.x, end.y - start.y
        norm = (dx * dx + dy * dy) ** 0.5
        left = (-dy / norm * 0.003, dx / norm * 0.003)
        fence = shapely.LineString(
            [(start.x + left[0], start.y + left[1]), (end.x + left[0], end.y + left[1])]
        )
        area = shapely.box(
            min(start.x, end.x) - 0.05,
            min(start.y, end.y) - 0.05,
            max(start.x, end.x) + 0.05,
            max(start.y, end.y) + 0.05,
        )
        with project.store.transaction(AuditEntry("test", "fixture")) as tx:
            tx.upsert_areas(
                gpd.GeoDataFrame({"name": ["test area"]}, geometry=[area], crs="EPSG:4326")
            )
            tx.upsert_features(
                "fences",
                gpd.GeoDataFrame(
                    {"id": ["f1"], "layer": ["primary"], "kind": ["fence"]},
                    geometry=[fence],
                    crs="EPSG:4326",
                ),
            )
            rows = [("f1", day, "present") for day in observed]
            if facilities:
                ids = ["p1", "p2"] if undated else ["p1"]
                tx.upsert_features(
                    "facilities",
                    gpd.GeoDataFrame(
                        {"id": ids, "kind": ["guard_post"] * len(ids)},
                        geometry=[fence.interpolate(f, normalized=True) for f in (0.5, 0.7)][
                            : len(ids)
                        ],
                        crs="EPSG:4326",
                    ),
                )
                rows += [("p1", day, "present") for day in observed]
            tx.add_observations(pd.DataFrame(rows, columns=["feature_id", "observed", "state"]))
    return path
