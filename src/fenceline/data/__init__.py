"""Reference data bundled with fenceline, with its attribution (see ATTRIBUTION.md here).

- Natural Earth 1:10m (public domain): the North Korea–China–Russia land boundary, the Yalu
  and Tumen rivers, populated places.
- GeoNames ``cities15000`` (CC BY, credit "GeoNames (geonames.org)"): places near the border.
- Public series: HRW's published border figures, defector arrivals in South Korea per year,
  China–North Korea trade per year, each row with its source.

>>> border = bundled_border()
>>> len(border), border.geometry.iloc[0].geom_type, border["side"].iloc[0]
(1, 'LineString', 'left')
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

__all__ = [
    "ATTRIBUTION",
    "BORDER_CAVEAT",
    "bundled_border",
    "bundled_places",
    "bundled_rivers",
    "data_path",
    "read_series",
]

ATTRIBUTION = (
    "Border, rivers and places: Natural Earth 1:10m v4.0.0 (public domain, naturalearthdata.com). "
    "Places: GeoNames (geonames.org), CC BY 4.0."
)

BORDER_CAVEAT = (
    "The bundled border is Natural Earth's 1:10m line (~1,036 km for North Korea–China–Russia); "
    "at that scale river meanders are generalised away, so it is shorter than published figures "
    "for the North Korea–China border (~1,350–1,420 km). Per-km figures on this line are "
    "comparable with each other, not with figures measured on a finer line."
)

BORDER_NAME = "North Korea–China–Russia land boundary (Natural Earth 1:10m)"


def data_path(*parts: str) -> Path:
    """Path of a bundled data file, e.g. ``data_path("border", "ne10m_yalu_tumen_rivers.geojson")``."""
    return Path(str(resources.files("fenceline.data").joinpath(*parts)))


def _read_geojson(name: str) -> gpd.GeoDataFrame:
    path = data_path("border", name)
    with open(path, encoding="utf-8") as fh:
        collection = json.load(fh)
    return gpd.GeoDataFrame.from_features(collection["features"], crs="EPSG:4326")


def bundled_border() -> gpd.GeoDataFrame:
    """The North Korea–China–Russia boundary as one LineString, North Korea on its left.

    It runs from the Tumen mouth (Russia part) through the Russia–China tripoint to the Yalu
    mouth: the Natural Earth Russia segment followed by the merged China segment.
    """
    lines = _read_geojson("ne10m_prk_chn_rus_boundary_lines.geojson")
    china = shapely.line_merge(lines.geometry[lines["adm0_right"] == "China"].iloc[0])
    russia = shapely.line_merge(lines.geometry[lines["adm0_right"] == "Russia"].iloc[0])
    # Russia segment ends at the tripoint where the China segment starts.
    coords = list(russia.coords) + list(china.coords)[1:]
    line = shapely.LineString(coords)
    return gpd.GeoDataFrame(
        {"name": [BORDER_NAME], "side": ["left"]}, geometry=[line], crs="EPSG:4326"
    )


def bundled_rivers() -> gpd.GeoDataFrame:
    """Yalu and Tumen rivers (Natural Earth 1:10m)."""
    return _read_geojson("ne10m_yalu_tumen_rivers.geojson")


def bundled_places(source: str = "geonames") -> gpd.GeoDataFrame:
    """Places near the border: ``"geonames"`` (CC BY) or ``"naturalearth"``."""
    name = {
        "geonames": "geonames_cities15000_prk_and_border.geojson",
        "naturalearth": "ne10m_populated_places_prk_and_border.geojson",
    }[source]
    return _read_geojson(name)


def read_series(name: str) -> pd.DataFrame:
    """A bundled public series: ``hrw_border_figures_verbatim``,
    ``defectors_arrivals_south_korea_1998_2024``, ``china_dprk_trade_annual_2015_2024`` or
    ``china_dprk_trade_monthly_and_periods``."""
    return pd.read_csv(data_path("series", f"{name}.csv"))
