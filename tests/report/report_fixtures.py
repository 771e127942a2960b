"""A tiny project for reports on incomplete data."""

from __future__ import annotations

from pathlib import Path


def small_project(path: Path, *, facilities: bool, observed: list[str]) -> Path:
    """A tiny project on the bundled border: one fence (and optionally one facility)."""
    import geopandas as gpd
    import pandas as pd
    import shapely

    import fenceline
    from fenceline.store import AuditEntry

    with fenceline.create(path, analyst="test") as project:
        line = project.border.geometry.iloc[0]
        start = line.interpolate(0.30, normalized=True)
        end = line.interpolate(0.302, normalized=True)
        # 300 m to the north-west side of the border: inside the corridor on the left
        fence = shapely.LineString(
            [(start.x - 0.002, start.y + 0.002), (end.x - 0.002, end.y + 0.002)]
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
                tx.upsert_features(
                    "facilities",
                    gpd.GeoDataFrame(
                        {"id": ["p1"], "kind": ["guard_post"]},
                        geometry=[fence.interpolate(0.5, normalized=True)],
                        crs="EPSG:4326",
                    ),
                )
                rows += [("p1", day, "present") for day in observed]
            tx.add_observations(pd.DataFrame(rows, columns=["feature_id", "observed", "state"]))
    return path
