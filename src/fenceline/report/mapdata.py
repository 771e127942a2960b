"""The map's layers as GeoJSON: border, rivers, places, areas, fences and facilities.

Each fence and facility carries its status at the baseline and evaluation dates, read from
the temporal model (:class:`fenceline.temporal.Timeline`) with the definitions the indicators
use, so the map's before/after switch shows exactly what was counted. Coordinates are
rounded to 5 decimals (about 1 m) and fences simplified to 2 m to keep the file small.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from fenceline.dates import to_days
from fenceline.store import Snapshot
from fenceline.temporal import PRESENT, UNCERTAIN, Timeline

__all__ = ["area_nesting", "feature_status", "map_layers"]

_STATUS = {PRESENT: "present", UNCERTAIN: "uncertain", 0: "absent"}


def feature_status(
    features: gpd.GeoDataFrame, observations: pd.DataFrame, at: dt.date, since: dt.date | None
) -> pd.DataFrame:
    """Status of each feature at ``at`` and ``since`` and its change between them.

    ``change`` is ``new`` (present at T, certainly absent at S), ``upgraded`` (upgraded in
    (S, T]), ``unchanged``, ``uncertain`` (present at T, unknown at S) or ``not present``.

    >>> import pandas as pd, geopandas as gpd, shapely, datetime as dt
    >>> f = gpd.GeoDataFrame({"id": ["a"]}, geometry=[shapely.Point(0, 0)])
    >>> o = pd.DataFrame({"feature_id": ["a", "a"], "observed": ["2020-01-15", "2021-05-01"],
    ...                   "state": ["absent", "present"]})
    >>> feature_status(f, o, dt.date(2022, 1, 1), dt.date(2019, 12, 31))["change"].tolist()
    ['new']
    >>> # seen absent only before S: it may have stood on S already
    >>> feature_status(f, o, dt.date(2022, 1, 1), dt.date(2020, 3, 1))["change"].tolist()
    ['uncertain']
    """
    ids = features["id"].astype(str).to_numpy()
    position = {fid: i for i, fid in enumerate(ids)}
    mine = observations[observations["feature_id"].isin(position)]
    index = mine["feature_id"].map(position).to_numpy(dtype=np.int64)
    observed = np.array(
        [to_days(dt.date.fromisoformat(str(d)[:10])) for d in mine["observed"]], dtype=np.int64
    )
    timeline = Timeline.from_observations(
        n_features=len(ids),
        feature_index=index,
        observed=observed,
        state=mine["state"].to_numpy(dtype=str),
    )
    at_status = timeline.status_at(to_days(at))
    out = pd.DataFrame({"id": ids, "at": [_STATUS[int(s)] for s in at_status]})
    if since is None:
        out["since"] = "unknown"
        out["change"] = np.where(at_status == PRESENT, "present", "not present")
        return out
    since_status = timeline.status_at(to_days(since))
    upgraded = timeline.upgraded_between(to_days(since), to_days(at))
    out["since"] = [_STATUS[int(s)] for s in since_status]
    change = np.full(len(ids), "not present", dtype=object)
    present = at_status == PRESENT
    change[present & (since_status == PRESENT)] = "unchanged"
    change[present & (since_status == UNCERTAIN)] = "uncertain"
    change[present & (since_status == 0)] = "new"
    change[present & upgraded] = "upgraded"
    out["change"] = change
    return out


def area_nesting(areas: gpd.GeoDataFrame) -> dict[str, str]:
    """Areas that lie inside another area (e.g. a case-study section): name -> parent's name.

    >>> import geopandas as gpd, shapely
    >>> a = gpd.GeoDataFrame({"name": ["big", "small"]},
    ...                      geometry=[shapely.box(0, 0, 2, 2), shapely.box(0.5, 0.5, 1, 1)])
    >>> area_nesting(a)
    {'small': 'big'}
    """
    out: dict[str, str] = {}
    geoms = list(areas.geometry)
    names = [str(n) for n in areas["name"]]
    for i, inner in enumerate(geoms):
        if inner is None or inner.is_empty:
            continue
        parents = [
            j
            for j, outer in enumerate(geoms)
            if j != i
            and outer is not None
            and outer.area > inner.area
            and shapely.area(shapely.intersection(inner, outer)) >= 0.99 * inner.area
        ]
        if parents:
            out[names[i]] = names[min(parents, key=lambda j: geoms[j].area)]
    return out


def _collection(frame: gpd.GeoDataFrame, columns: list[str]) -> dict[str, Any]:
    features = []
    geometry = shapely.set_precision(frame.geometry.values, 1e-5)
    for row, geom in zip(frame[columns].itertuples(index=False), geometry, strict=True):
        if geom is None or geom.is_empty:
            continue
        features.append(
            {
                "type": "Feature",
                "properties": {c: _plain(v) for c, v in zip(columns, row, strict=True)},
                "geometry": shapely.geometry.mapping(geom),
            }
        )
    return {"type": "FeatureCollection", "features": features}


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return value


def map_layers(snapshot: Snapshot, at: dt.date, since: dt.date | None) -> dict[str, Any]:
    """GeoJSON collections for the report's map, keyed by layer name."""
    from fenceline.data import bundled_places, bundled_rivers

    border = snapshot.border
    nested = area_nesting(snapshot.areas)
    minx, miny, maxx, maxy = border.total_bounds
    box = shapely.box(minx - 0.5, miny - 0.5, maxx + 0.5, maxy + 0.5)
    rivers = bundled_rivers()
    rivers = rivers[rivers.intersects(box)]
    places = bundled_places()
    places = places[places.intersects(box)].rename(columns={"asciiname": "label"})
    layers: dict[str, Any] = {
        "border": _collection(border.assign(label=border.get("name", "border")), ["label"]),
        "rivers": _collection(rivers.assign(label=rivers.get("name", "river")), ["label"]),
        "places": _collection(places, ["label", "country_code", "population"]),
        "areas": _collection(
            snapshot.areas.assign(nested_in=[nested.get(str(n)) for n in snapshot.areas["name"]]),
            ["name", "nested_in"],
        ),
    }
    for table in ("fences", "facilities"):
        frame = getattr(snapshot, table)
        if len(frame) == 0:
            layers[table] = {"type": "FeatureCollection", "features": []}
            continue
        status = feature_status(frame, snapshot.observations, at, since)
        frame = frame.assign(**{c: status[c].to_numpy() for c in ("at", "since", "change")})
        if table == "fences":
            frame = frame.set_geometry(shapely.simplify(frame.geometry.values, 2e-5))
            columns = ["id", "layer", "at", "since", "change"]
        else:
            columns = ["id", "kind", "at", "since", "change"]
        keep = (frame["at"] != "absent") | (frame["since"] != "absent")
        layers[table] = _collection(frame[keep], columns)
    return layers


def to_json(layers: dict[str, Any]) -> str:
    """Compact JSON, safe to embed in a ``<script>`` element."""
    text = json.dumps(layers, separators=(",", ":"), ensure_ascii=False)
    return text.replace("</", "<\\/")
